"""Import gym members from the CSV export of the front-desk system.

The nightly job calls `import_members(text)` once per club export and e-mails the returned
error list to that club's manager.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

REQUIRED = ("email", "name", "joined")
PLANS = {"basic", "plus", "premium"}


@dataclass
class ImportResult:
    members: list[dict[str, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _parse_row(row: dict[str, str]) -> dict[str, object]:
    missing = [name for name in REQUIRED if not (row.get(name) or "").strip()]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    email = row["email"].strip().lower()
    if "@" not in email:
        raise ValueError(f"invalid email {email!r}")
    plan = (row.get("plan") or "basic").strip().lower()
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}")
    return {
        "email": email,
        "name": " ".join(row["name"].split()),
        "joined": date.fromisoformat(row["joined"].strip()),
        "plan": plan,
    }


def import_members(text: str, errors: list[str] | None = None) -> ImportResult:
    """Parse a CSV export with a header row.

    Rows that cannot be imported are skipped and reported in the result's `errors` as
    "line N: reason", where N is the line of the file (the header is line 1). A repeated
    e-mail address is reported as a duplicate and only its first row is imported.
    """
    errors = [] if errors is None else errors
    reader = csv.DictReader(io.StringIO(text))
    members: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, row in enumerate(reader):
        line = index + 2
        try:
            member = _parse_row(row)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if member["email"] in seen:
            errors.append(f"line {line}: duplicate email {member['email']}")
            continue
        seen.add(str(member["email"]))
        members.append(member)
    return ImportResult(members=members, errors=errors)
