"""The executor interface: every run of untrusted code goes through an ``Executor``.

An executor takes a ``Job`` (candidate source, a test file, an optional benchmark) and returns an
``ExecReport``. Whatever the candidate does — crash, loop, exhaust memory, print junk — is reported
in the ``ExecReport``; only a broken or overloaded executor raises (``SandboxError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from python_env.sandbox import protocol
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.workspace import Workspace
from python_env.types import (
    ExecReport,
    ExitReason,
    Limits,
    Suite,
    Task,
    TestOutcome,
    TestStatus,
    TestStyle,
)


@dataclass(frozen=True)
class Job:
    """One run of untrusted code: the candidate's solution, a test file, an optional benchmark.

    pytest-style jobs (``style``) also carry the task's conftest, and name the test file
    (``file``, the first part of every test id) and the module the tests import (``module``).
    A repository job has no solution and no test file: ``files`` is the candidate's tree,
    ``trusted`` the suite's test-side files (test modules, conftests, helpers, data), run by
    pytest; ``select`` the test ids to run (all, if empty); ``roots`` the tree's import roots.
    """

    solution: str
    tests: str
    benchmark: str = ""
    limits: Limits = field(default_factory=Limits)
    skip: tuple[str, ...] = ()  # tests not to run: an earlier job of the suite settled them
    style: TestStyle = TestStyle.RETURN
    conftest: str = ""
    module: str = "solution"
    file: str = "tests.py"
    files: tuple[tuple[str, str], ...] = ()
    trusted: tuple[tuple[str, str], ...] = ()
    select: tuple[str, ...] = ()
    roots: tuple[str, ...] = ("",)

    @property
    def pytest_style(self) -> bool:
        """Whether pytest runs the job (a pytest-style test file, or a repository)."""
        return bool(self.trusted) or (bool(self.tests) and self.style is TestStyle.PYTEST)

    @classmethod
    def of(cls, task: Task, suite: Suite | None, code: str, limits: Limits) -> Job:
        """``code`` under one of ``task``'s suites (None: its benchmark alone)."""
        tests = {Suite.VISIBLE: task.visible_tests, Suite.HIDDEN: task.hidden_tests}
        return cls(
            solution=code,
            tests=tests[suite] if suite else "",
            benchmark="" if suite else task.benchmark,
            limits=limits,
            style=task.test_style,
            conftest=task.conftest,
            module=task.module,
            file=f"{suite.value}_tests.py" if suite else "tests.py",
        )

    @classmethod
    def of_repo(
        cls,
        task: RepoTask,
        base: Workspace,
        tree: Workspace,
        tests: tuple[str, ...],
        limits: Limits,
    ) -> Job:
        """``tree`` (the candidate's) under the test ids ``tests`` of repository ``task``; the
        test files come from the snapshot ``base``, whatever ``tree`` holds there."""
        candidate, trusted = task.split_tree(base, tree)
        return cls(
            solution="",
            tests="",
            limits=limits,
            style=TestStyle.PYTEST,
            files=tuple(sorted(candidate.items())),
            trusted=tuple(sorted(trusted.items())),
            select=tests,
            roots=task.roots,
        )

    def payload(self) -> bytes:
        """The job as the child reads it (``protocol.encode_job``)."""
        return protocol.encode_job(
            self.solution,
            self.tests,
            self.benchmark,
            self.skip,
            style=self.style.value,
            conftest=self.conftest,
            module=self.module,
            file=self.file,
            repo=protocol.encode_repo(dict(self.files), dict(self.trusted), self.select, self.roots)
            if self.trusted
            else "",
        )


class Executor(Protocol):
    """Runs jobs in isolation. Implementations must be safe to call from many threads at once."""

    name: str

    def run(self, job: Job) -> ExecReport:
        """Run one job; raise ``SandboxError`` only for faults of the executor itself."""
        ...

    async def run_async(self, job: Job) -> ExecReport:
        """``run`` for a coroutine on an event loop, which it leaves free meanwhile."""
        ...

    def describe(self) -> dict[str, Any]:
        """Which isolation layers are active, for /metadata and the logs."""
        ...

    def health(self) -> dict[str, Any]:
        """The executor's state now; ``serving`` is False when it cannot run jobs."""
        ...

    def close(self) -> None:
        """Release the executor's workers and files."""


def parse_results(raw: bytes, exit_reason: ExitReason, **extra: Any) -> ExecReport:
    """The result channel as an ExecReport; a channel that breaks the protocol (the candidate
    wrote to it) makes the whole job a protocol error, never an exception."""
    results = protocol.parse_records(raw)
    if results.violation:
        error = f"forged or corrupt results: {results.violation}"
        return ExecReport(exit_reason=ExitReason.PROTOCOL_ERROR, error=error, **extra)
    if exit_reason is ExitReason.OK and not results.done:
        exit_reason = ExitReason.CRASHED
    outcomes = tuple(
        TestOutcome(name=name, status=TestStatus(status), value=value, message=message[:1_000])
        for name, status, value, message in results.tests
    )
    return ExecReport(
        exit_reason=exit_reason,
        outcomes=outcomes,
        cost=results.cost,
        cost_tampered=results.cost_tampered,
        error=results.error,
        unfinished=results.unfinished,
        test_cpu_ms=results.cpu_ms,
        **extra,
    )
