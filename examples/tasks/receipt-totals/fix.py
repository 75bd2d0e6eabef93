"""Receipt totals for the shop's till: item lines in, a rounded total out.

A receipt file has one ``name, quantity, unit price`` line per item; blank lines and comment
lines (starting with ``#``) are skipped. Money is ``Decimal`` throughout, rounded half up to cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.08")


@dataclass(frozen=True)
class Item:
    """One line of a receipt."""

    name: str
    quantity: int
    unit_price: Decimal


def parse_line(line: str) -> Item:
    """An item from a ``name, quantity, unit price`` line; ValueError if it is malformed."""
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 3:
        raise ValueError(f"expected 3 fields, got {len(fields)}: {line!r}")
    name, quantity, price = fields
    if not quantity.isdigit() or int(quantity) == 0:
        raise ValueError(f"bad quantity {quantity!r} in {line!r}")
    try:
        unit_price = Decimal(price)
    except InvalidOperation:
        raise ValueError(f"bad price {price!r} in {line!r}") from None
    return Item(name, int(quantity), unit_price)


def load_items(path: Path) -> list[Item]:
    """The items of a receipt file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            items.append(parse_line(line))
    return items


def subtotal(items: list[Item]) -> Decimal:
    """What the items cost before discount and tax."""
    return sum((item.unit_price * item.quantity for item in items), Decimal(0))


def total(items: list[Item], discount_percent: int = 0) -> Decimal:
    """The subtotal less a percentage discount, plus tax on what is paid, in cents."""
    if not 0 <= discount_percent <= 100:
        raise ValueError(f"discount must be within 0..100, got {discount_percent}")
    before_tax = subtotal(items) * (100 - discount_percent) / 100
    tax = before_tax * TAX_RATE
    return (before_tax + tax).quantize(CENT, rounding=ROUND_HALF_UP)


def average_price(items: list[Item]) -> float:
    """The mean price of one unit sold, for the sales dashboard (a float)."""
    units = sum(item.quantity for item in items)
    if units == 0:
        raise ValueError("no items")
    return float(subtotal(items)) / units


def write_receipt(items: list[Item], out: TextIO, discount_percent: int = 0) -> None:
    """The printed receipt: a line per item, then the total."""
    for item in items:
        out.write(f"{item.quantity} x {item.name} @ {item.unit_price}\n")
    out.write(f"TOTAL {total(items, discount_percent)}\n")
