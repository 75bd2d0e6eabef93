"""The per-process cache of task baselines (what the reference and the original do).

Shared by the single-file and the repository runners: keyed by a digest of the task's content,
the most recent ``size`` kept; one session builds a task's baselines while the others wait for
it; a task found unfair (``InvalidTask`` while building) is remembered for ``REJECTION_TTL_S``,
then checked again, since an executor fault can pass.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from python_env.errors import InvalidTask

REJECTION_TTL_S = 60.0
B = TypeVar("B")


@dataclass(frozen=True)
class _Rejection:
    """A task found unfair, remembered until ``expires`` (time.monotonic)."""

    message: str
    expires: float


class BaselineCache(Generic[B]):
    """Thread-safe: ``get(digest, task_id, build)`` builds at most once per digest at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[str, B | _Rejection] = OrderedDict()
        self._building: dict[str, threading.Lock] = {}

    def get(self, digest: str, task_id: str, build: Callable[[], B]) -> B:
        """The baselines of ``digest``, built with ``build`` if missing; ``InvalidTask`` if the
        task was found unfair (now, or less than ``REJECTION_TTL_S`` ago)."""
        known = self._cached(digest)
        if known is None:
            with self._lock:
                building = self._building.setdefault(digest, threading.Lock())
            with building:  # one session builds; the others wait and read the cache
                known = self._cached(digest)
                if known is None:
                    known = self._build(digest, build)
            with self._lock:
                self._building.pop(digest, None)
        if isinstance(known, _Rejection):
            raise InvalidTask(known.message, task_id=task_id)
        return known

    def ready(self, digest: str) -> B | None:
        """The baselines of ``digest`` if they are built (None: missing, or a rejection)."""
        known = self._cached(digest)
        return None if isinstance(known, _Rejection) else known

    def _cached(self, digest: str) -> B | _Rejection | None:
        with self._lock:
            known = self._known.get(digest)
            if isinstance(known, _Rejection) and known.expires < time.monotonic():
                known = self._known.pop(digest) and None
            if known is not None:
                self._known.move_to_end(digest)
            return known

    def _build(self, digest: str, build: Callable[[], B]) -> B | _Rejection:
        made: B | _Rejection
        try:
            made = build()
        except InvalidTask as exc:
            made = _Rejection(str(exc), time.monotonic() + REJECTION_TTL_S)
        with self._lock:
            self._known[digest] = made
            while len(self._known) > self.size:
                self._known.popitem(last=False)
        return made
