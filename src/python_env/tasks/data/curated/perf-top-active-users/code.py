"""Data for the "most active users this week" widget on the community dashboard."""

from __future__ import annotations

from typing import Any

ACTIVE_ACTIONS = ("Login", "Post", "Comment", "Upload")


def count_activity(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Active events per user as ``(user, count)``, in order of each user's first active event.

    An event is active when its action is one of ``ACTIVE_ACTIONS``, compared case-insensitively.
    """
    counts: list[list[Any]] = []
    for event in events:
        if event["action"].lower() not in [action.lower() for action in ACTIVE_ACTIONS]:
            continue
        for entry in counts:
            if entry[0] == event["user"]:
                entry[1] += 1
                break
        else:
            counts.append([event["user"], 1])
    return [(user, count) for user, count in counts]


def top_active_users(events: list[dict[str, Any]], k: int) -> list[tuple[str, int]]:
    """The ``k`` most active users, most active first; ties keep first-appearance order."""
    remaining = count_activity(events)
    top = []
    while remaining and len(top) < k:
        best = remaining[0]
        for entry in remaining:
            if entry[1] > best[1]:
                best = entry
        top.append(best)
        remaining.remove(best)
    return top
