"""Exports order reports from the sales database as CSV for the finance team.

The reporting API calls these functions with ``region``, ``status``, ``sort`` and the date
range taken from query-string parameters. Dates are ISO strings (``YYYY-MM-DD``), as stored in
the ``created_on`` column, and ranges include both end dates.
"""

import csv
import datetime as dt
import io

VALID_STATUSES = ("paid", "refunded", "pending")
CSV_HEADER = ["order_id", "customer_id", "region", "status", "amount", "created_on"]


def fetch_orders(conn, region, status, start, end, sort="created_on"):
    """Orders of ``region`` with ``status`` created from ``start`` to ``end``."""
    if not status in VALID_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    query = (
        "SELECT id, customer_id, region, status, amount_cents, created_on FROM orders "
        "WHERE region = ? AND status = ? AND created_on >= ? AND created_on < ? "
        f"ORDER BY {sort}, id"
    )
    return conn.execute(query, (region, status, start, end)).fetchall()


def format_amount(cents):
    return f"{cents / 100:.2f}"


def export_csv(conn, region, status, start, end, sort="created_on"):
    """CSV text of the matching orders, header first."""
    rows = fetch_orders(conn, region, status, start, end, sort)
    generated_on = dt.date.today().isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for order_id, customer_id, row_region, row_status, cents, created_on in rows:
        writer.writerow(
            [order_id, customer_id, row_region, row_status, format_amount(cents), created_on]
        )
    return out.getvalue()


def totals_by_status(conn, region, start, end):
    """``{status: total amount}`` for ``region`` over the date range, as formatted strings."""
    totals = {}
    for status in VALID_STATUSES:
        rows = fetch_orders(conn, region, status, start, end)
        totals[status] = format_amount(sum(row[4] for row in rows))
    return totals
