"""Outage impact for the incident bot: which services are hit when one service goes down."""

from __future__ import annotations

Edge = tuple[str, str]


def build_callers(edges: list[Edge]) -> dict[str, list[str]]:
    """Map each service to the services that call it, from ``(caller, callee)`` edges."""
    callers: dict[str, list[str]] = {}
    for caller, callee in edges:
        callers.setdefault(callee, []).append(caller)
    return callers


def impacted_services(edges: list[Edge], down: str) -> list[str]:
    """Services that call ``down`` directly or indirectly, nearest first (breadth-first order)."""
    callers = build_callers(edges)
    impacted: list[str] = []
    queue = [down]
    while queue:
        service = queue.pop(0)
        for caller in callers.get(service, []):
            if caller != down and caller not in impacted:
                impacted.append(caller)
                queue.append(caller)
    return impacted


def impact_report(edges: list[Edge], outages: list[str]) -> str:
    """One line per outage, ``"<service>: <impacted, comma separated>"``."""
    report = ""
    for down in outages:
        report += down + ": " + ", ".join(impacted_services(edges, down)) + "\n"
    return report
