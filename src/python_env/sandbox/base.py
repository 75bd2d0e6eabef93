"""The executor interface: every run of untrusted code goes through an ``Executor``.

An executor takes a ``Job`` (candidate source, a test file, an optional benchmark) and returns an
``ExecReport``. Whatever the candidate does — crash, loop, exhaust memory, print junk — is reported
in the ``ExecReport``; only a broken or overloaded executor raises (``SandboxError``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from python_env.types import ExecReport, ExitReason, TestOutcome, TestStatus


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. CPU time, not wall time, decides "too slow"."""

    cpu_seconds: float = 5.0
    wall_seconds: float = 20.0
    memory_mb: int = 512
    output_bytes: int = 64_000
    file_size_mb: int = 8
    open_files: int = 64
    processes: int = 32


@dataclass(frozen=True)
class Job:
    solution: str
    tests: str
    benchmark: str = ""
    limits: Limits = field(default_factory=Limits)

    def payload(self) -> bytes:
        data = {"solution": self.solution, "tests": self.tests, "benchmark": self.benchmark}
        return json.dumps(data).encode()


class Executor(Protocol):
    """Runs jobs in isolation. Implementations must be safe to call from many threads at once."""

    name: str

    def run(self, job: Job) -> ExecReport:
        """Run one job; raise ``SandboxError`` only for faults of the executor itself."""
        ...

    def describe(self) -> dict[str, Any]:
        """Which isolation layers are active, for /metadata and the logs."""
        ...

    def close(self) -> None: ...


def parse_results(raw: bytes, exit_reason: ExitReason, **extra: Any) -> ExecReport:
    """Turn the harness's JSON lines into an ExecReport.

    A line that is not valid JSON, a test reported twice, or any record after ``done`` means the
    candidate wrote to the result channel itself: the whole job becomes a protocol error.
    """
    outcomes: dict[str, TestOutcome] = {}
    cost: int | None = None
    tampered = False
    error = ""
    done = False
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
            kind = record["t"]
        except (ValueError, KeyError, TypeError):
            return ExecReport(
                exit_reason=ExitReason.PROTOCOL_ERROR, error="corrupt result line", **extra
            )
        if done or (kind == "test" and record.get("name") in outcomes):
            return ExecReport(exit_reason=ExitReason.PROTOCOL_ERROR, error="forged result", **extra)
        if kind == "test":
            outcomes[record["name"]] = TestOutcome(
                name=str(record["name"]),
                status=TestStatus(record["status"]),
                value=record.get("value"),
                message=str(record.get("message", "")),
            )
        elif kind == "cost":
            cost = record.get("value")
            tampered = bool(record.get("tampered"))
        elif kind == "error":
            error = str(record.get("message", ""))
        elif kind == "done":
            done = True
    if exit_reason == ExitReason.OK and not done:
        exit_reason = ExitReason.CRASHED
    return ExecReport(
        exit_reason=exit_reason,
        outcomes=tuple(outcomes.values()),
        cost=cost if isinstance(cost, int) else None,
        cost_tampered=tampered,
        error=error,
        **extra,
    )
