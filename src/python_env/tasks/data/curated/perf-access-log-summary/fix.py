"""Daily access-log summary for the ops e-mail."""

from __future__ import annotations

import re
from typing import Any

LOG_PATTERN = re.compile(
    r'(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" '
    r"(?P<status>\d{3}) (?P<size>\d+|-) (?P<ms>\d+)"
)


def parse_line(line: str) -> dict[str, Any] | None:
    """One request from a log line, or None when the line is not a request."""
    match = LOG_PATTERN.match(line)
    if match is None:
        return None
    return {
        "ip": match["ip"],
        "path": match["path"].split("?", 1)[0],
        "status": int(match["status"]),
        "bytes": 0 if match["size"] == "-" else int(match["size"]),
        "ms": int(match["ms"]),
    }


def summarize(lines: list[str]) -> dict[str, Any]:
    """Request count, distinct clients, server errors (5xx), slowest request and hits per path."""
    requests = [record for record in map(parse_line, lines) if record is not None]
    clients = {record["ip"] for record in requests}
    errors = [record for record in requests if record["status"] >= 500]
    slowest = max(requests, key=lambda record: record["ms"], default=None)
    hits: dict[str, int] = {}
    for record in requests:
        hits[record["path"]] = hits.get(record["path"], 0) + 1
    return {
        "requests": len(requests),
        "clients": len(clients),
        "server_errors": len(errors),
        "slowest": None if slowest is None else (slowest["path"], slowest["ms"]),
        "hits": hits,
    }


def render(summary: dict[str, Any], top: int = 5) -> str:
    """Plain-text block for the e-mail body: totals, then the ``top`` busiest paths."""
    text = f"requests: {summary['requests']}\nclients: {summary['clients']}\n"
    text += f"5xx: {summary['server_errors']}\n"
    busiest = sorted(summary["hits"].items(), key=lambda item: (-item[1], item[0]))[:top]
    for path, count in busiest:
        text += f"  {count:>6}  {path}\n"
    return text
