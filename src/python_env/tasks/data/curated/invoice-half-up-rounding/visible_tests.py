from decimal import Decimal

from solution import invoice_totals, money, parse_line


def test_money_rounds_half_up():
    assert money(Decimal("2.345")) == Decimal("2.35")
    assert money(Decimal("-0.125")) == Decimal("-0.13")


def test_simple_invoice():
    lines = [parse_line({"description": "widget", "unit_price": "10.00", "quantity": 3})]
    totals = invoice_totals(lines)
    assert totals == {
        "net": Decimal("30.00"),
        "discount": Decimal("0.00"),
        "tax": Decimal("6.00"),
        "gross": Decimal("36.00"),
    }


def test_price_from_string_is_exact():
    line = parse_line({"description": "bolt", "unit_price": "0.145", "quantity": 1, "tax_rate": "0"})
    assert line.unit_price == Decimal("0.145")
