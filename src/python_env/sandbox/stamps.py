"""Stage times of one sandbox job, for the benchmarks' breakdown. Standard library only.

Off unless the executor was built with ``trace=True``: then the caller, the worker and the job's
child each note ``time.monotonic_ns()`` (one clock for every process of the host, bubblewrap's
namespaces included) as a job passes a stage, and the executor keeps the merged marks of each
job (``ForkServerExecutor.traces``). Nothing in a verdict depends on them.
"""

from __future__ import annotations

import time


class Stamps:
    """Named instants; a no-op when off, so the hot path pays one attribute test."""

    __slots__ = ("marks", "on")

    def __init__(self, on: bool) -> None:
        self.on = on
        self.marks: dict[str, int] = {}

    def __call__(self, name: str) -> None:
        """Note that the job has just passed stage ``name``."""
        if self.on:
            self.marks[name] = time.monotonic_ns()
