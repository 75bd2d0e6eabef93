"""Nightly reconciliation of bank-statement lines against the accounting ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

DATE_FORMAT = "%Y-%m-%d"
MAX_DAYS_APART = 3

Record = dict[str, Any]


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` booking date."""
    return datetime.strptime(text, DATE_FORMAT).date()


def load_statement(pages: list[list[Record]]) -> list[Record]:
    """Flatten the pages returned by the bank's statement API into one list of lines."""
    return sum(pages, [])


def reconcile(statement: list[Record], ledger: list[Record]) -> dict[str, list[Any]]:
    """Pair bank lines with ledger entries.

    A bank line matches a ledger entry with the same reference and amount (in cents) whose booking
    date is at most ``MAX_DAYS_APART`` days away. Bank lines are processed in order and take the
    first eligible ledger entry, in ledger order, that is not paired yet.
    """
    used: list[str] = []
    pairs = []
    unmatched_bank = []
    for line in statement:
        found = None
        for entry in ledger:
            if entry["id"] in used:
                continue
            if entry["reference"] != line["reference"] or entry["cents"] != line["cents"]:
                continue
            days_apart = abs((parse_date(entry["date"]) - parse_date(line["date"])).days)
            if days_apart < MAX_DAYS_APART:
                found = entry
                break
        if found is None:
            unmatched_bank.append(line["id"])
        else:
            used.append(found["id"])
            pairs.append((line["id"], found["id"]))
    unmatched_ledger = [entry["id"] for entry in ledger if entry["id"] not in used]
    return {"pairs": pairs, "unmatched_bank": unmatched_bank, "unmatched_ledger": unmatched_ledger}


def reconcile_pages(pages: list[list[Record]], ledger: list[Record]) -> dict[str, list[Any]]:
    """Reconcile a statement given as API pages."""
    return reconcile(load_statement(pages), ledger)
