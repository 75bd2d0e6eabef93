"""Outage impact for the incident bot: which services are hit when one service goes down."""

from __future__ import annotations

from collections import deque

Edge = tuple[str, str]


def build_callers(edges: list[Edge]) -> dict[str, list[str]]:
    """Map each service to the services that call it, from ``(caller, callee)`` edges."""
    callers: dict[str, list[str]] = {}
    for caller, callee in edges:
        callers.setdefault(callee, []).append(caller)
    return callers


def impacted_services(edges: list[Edge], down: str) -> list[str]:
    """Services that call ``down`` directly or indirectly, nearest first (breadth-first order)."""
    return _impacted(build_callers(edges), down)


def _impacted(callers: dict[str, list[str]], down: str) -> list[str]:
    impacted: list[str] = []
    seen = {down}
    queue = deque([down])
    while queue:
        service = queue.popleft()
        for caller in callers.get(service, []):
            if caller not in seen:
                seen.add(caller)
                impacted.append(caller)
                queue.append(caller)
    return impacted


def impact_report(edges: list[Edge], outages: list[str]) -> str:
    """One line per outage, ``"<service>: <impacted, comma separated>"``."""
    callers = build_callers(edges)
    return "".join(down + ": " + ", ".join(_impacted(callers, down)) + "\n" for down in outages)
