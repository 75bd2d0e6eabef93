"""Plans: work that runs sandbox jobs, written once, driven from a thread or an event loop.

A plan is a generator that yields each ``Job`` it needs run and is sent back its ``ExecReport``;
what it returns is the plan's result. ``drive`` runs one with the executor's blocking ``run``
(in a thread), ``drive_async`` with ``run_async`` (on an event loop, where no thread hand-off is
paid per job). The grading logic between the jobs is the same code either way.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, TypeVar

from python_env.types import ExecReport

if TYPE_CHECKING:
    from python_env.sandbox.base import Executor, Job

T = TypeVar("T")
Plan = Generator["Job", ExecReport, T]


def drive(plan: Plan[T], executor: Executor) -> T:
    """Run ``plan`` to its end, each job with ``executor.run``."""
    try:
        job = next(plan)
        while True:
            job = plan.send(executor.run(job))
    except StopIteration as end:
        return end.value  # type: ignore[no-any-return]


async def drive_async(plan: Plan[T], executor: Executor) -> T:
    """Run ``plan`` to its end, each job with ``executor.run_async``."""
    try:
        job = next(plan)
        while True:
            job = plan.send(await executor.run_async(job))
    except StopIteration as end:
        return end.value  # type: ignore[no-any-return]
