"""Enrich order rows with the customer's name and region for the sales export."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def attach_customers(orders: list[Row], customers: list[Row]) -> list[Row]:
    """Return a copy of every order with ``customer_name`` and ``region`` filled in.

    Orders whose ``customer_id`` matches no customer get ``None`` in both fields.
    If the customer list holds the same id more than once, the first entry wins.
    The input rows are not modified.
    """
    enriched = []
    for order in orders:
        match = None
        for customer in customers:
            if customer["id"] == order["customer_id"]:
                match = customer
                break
        row = dict(order)
        row["customer_name"] = match["name"] if match is not None else None
        row["region"] = match["region"] if match is not None else None
        enriched.append(row)
    return enriched


def revenue_by_region(orders: list[Row], customers: list[Row]) -> dict[str, float]:
    """Total order amount per region; orders of unknown customers count under ``"unknown"``."""
    totals: dict[str, float] = {}
    for row in attach_customers(orders, customers):
        region = row["region"] or "unknown"
        totals[region] = totals.get(region, 0.0) + row["amount"]
    return totals
