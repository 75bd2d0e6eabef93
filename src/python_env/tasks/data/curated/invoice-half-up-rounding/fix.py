"""Invoice totals for the billing service.

All amounts are Decimal and every stored amount is rounded to the cent with commercial
rounding (halves go away from zero). Tax is computed and rounded per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    description: str
    unit_price: Decimal
    quantity: int
    tax_rate: Decimal  # Decimal("0.20") for 20 %


def money(value: Decimal) -> Decimal:
    """Round an amount to whole cents, halves away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_line(row: dict[str, Any]) -> Line:
    """Build a Line from a JSON order row; prices arrive as strings or JSON numbers."""
    return Line(
        description=str(row["description"]),
        unit_price=Decimal(str(row["unit_price"])),
        quantity=int(row["quantity"]),
        tax_rate=Decimal(str(row.get("tax_rate", "0.20"))),
    )


def line_totals(line: Line) -> tuple[Decimal, Decimal]:
    """Net amount and tax of one line, each rounded to the cent."""
    net = money(line.unit_price * line.quantity)
    tax = money(net * line.tax_rate)
    return net, tax


def invoice_totals(lines: list[Line], discount_percent: int = 0) -> dict[str, Decimal]:
    """Net, discount, tax and gross totals of an invoice.

    The discount is taken off the summed net amount; tax is reduced by the same percentage.
    """
    if not 0 <= discount_percent <= 100:
        raise ValueError("discount_percent must be between 0 and 100")
    net = Decimal(0)
    tax = Decimal(0)
    for line in lines:
        line_net, line_tax = line_totals(line)
        net += line_net
        tax += line_tax
    discount = money(net * discount_percent / 100)
    tax = money(tax * (100 - discount_percent) / 100)
    gross = net - discount + tax
    return {"net": net, "discount": discount, "tax": tax, "gross": gross}
