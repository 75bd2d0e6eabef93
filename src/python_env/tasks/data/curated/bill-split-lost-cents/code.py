"""Split a shared restaurant bill between diners, in whole cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def to_cents(amount: str) -> int:
    """Parse a money string such as "12.5" or "12.50" into integer cents."""
    try:
        value = Decimal(amount.strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    if value < 0:
        raise ValueError("amount cannot be negative")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def split_evenly(total_cents: int, people: int) -> list[int]:
    """Share total_cents between people.

    Shares differ by at most one cent, the first diners in the list pay the extra cents,
    and the shares always add up exactly to the total.
    """
    if people < 1:
        raise ValueError("need at least one person")
    share = total_cents // people
    return [share for _ in range(people)]


def split_bill(amount: str, names: list[str], tip_percent: int = 0) -> dict[str, str]:
    """Each diner's share of the bill plus tip, formatted as "units.cents"."""
    if len(set(names)) != len(names):
        raise ValueError("diner names must be unique")
    total = to_cents(amount)
    tip = (total * tip_percent + 50) // 100
    shares = split_evenly(total + tip, len(names))
    return {name: format_cents(share) for name, share in zip(names, shares)}
