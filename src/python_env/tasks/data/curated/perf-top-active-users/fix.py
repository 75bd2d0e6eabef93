"""Data for the "most active users this week" widget on the community dashboard."""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

ACTIVE_ACTIONS = ("Login", "Post", "Comment", "Upload")
_ACTIVE = frozenset(action.lower() for action in ACTIVE_ACTIONS)


def count_activity(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Active events per user as ``(user, count)``, in order of each user's first active event.

    An event is active when its action is one of ``ACTIVE_ACTIONS``, compared case-insensitively.
    """
    counts = Counter(event["user"] for event in events if event["action"].lower() in _ACTIVE)
    return list(counts.items())


def top_active_users(events: list[dict[str, Any]], k: int) -> list[tuple[str, int]]:
    """The ``k`` most active users, most active first; ties keep first-appearance order."""
    ranked = sorted(count_activity(events), key=itemgetter(1), reverse=True)
    return ranked[: max(k, 0)]
