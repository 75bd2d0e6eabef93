from decimal import Decimal

from solution import Line, invoice_totals, line_totals, money, parse_line


def _s(totals):
    return {k: str(v) for k, v in totals.items()}


def test_money_halves():
    return [str(money(Decimal(v))) for v in ("0.005", "1.015", "2.345", "7.125", "-3.335")]


def test_money_non_halves():
    return [str(money(Decimal(v))) for v in ("0.004", "1.016", "19.999", "-3.331", "5")]


def test_parse_line_keeps_decimal_text():
    line = parse_line({"description": "nut", "unit_price": "0.145", "quantity": 1})
    return [str(line.unit_price), line.quantity, str(line.tax_rate)]


def test_line_tax_rounding():
    line = Line("cable", Decimal("4.15"), 3, Decimal("0.10"))
    return [str(v) for v in line_totals(line)]


def test_json_number_prices():
    rows = [
        {"description": "a", "unit_price": 1.005, "quantity": 1, "tax_rate": 0},
        {"description": "b", "unit_price": 2.675, "quantity": 2, "tax_rate": "0.2"},
    ]
    return _s(invoice_totals([parse_line(r) for r in rows]))


def test_invoice_with_discount():
    lines = [
        Line("chair", Decimal("49.99"), 4, Decimal("0.20")),
        Line("desk", Decimal("199.00"), 1, Decimal("0.20")),
    ]
    return _s(invoice_totals(lines, discount_percent=10))


def test_invoice_round_numbers():
    lines = [Line("service", Decimal("120.00"), 2, Decimal("0.20")), Line("fee", Decimal("5"), 1, Decimal("0"))]
    return _s(invoice_totals(lines))


def test_empty_invoice():
    return _s(invoice_totals([]))


def test_bad_discount():
    try:
        invoice_totals([], discount_percent=120)
    except ValueError:
        return "ValueError"
    return "no error"
