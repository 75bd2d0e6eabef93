"""The executor interface: every run of untrusted code goes through an ``Executor``.

An executor takes a ``Job`` (candidate source, a test file, an optional benchmark) and returns an
``ExecReport``. Whatever the candidate does — crash, loop, exhaust memory, print junk — is reported
in the ``ExecReport``; only a broken or overloaded executor raises (``SandboxError``).
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import marshal
from dataclasses import dataclass, field
from typing import Any, Protocol

from python_env.sandbox import harness
from python_env.types import ExecReport, ExitReason, Limits, TestOutcome, TestStatus


@dataclass(frozen=True)
class Job:
    solution: str
    tests: str
    benchmark: str = ""
    limits: Limits = field(default_factory=Limits)

    def payload(self) -> bytes:
        """The job as the harness reads it, the task's own sources compiled here, once.

        Compiling the hidden tests in every job child cost ~1 ms of its CPU, and a source sent
        into the child is text the candidate could find in memory: trusted task sources travel
        as code only (their source only if they do not compile, so the child reports the
        error). The candidate's solution is compiled in the sandbox, where a parser crash harms
        nobody.
        """
        data: dict[str, Any] = {"solution": self.solution}
        compiled: dict[str, str] = {}
        for name, source in (("tests", self.tests), ("benchmark", self.benchmark)):
            code = _compiled(name, source) if source else ""
            data[name] = "" if code else source
            if code:
                compiled[name] = code
        if compiled:
            data["compiled"] = {"magic": importlib.util.MAGIC_NUMBER.hex(), **compiled}
        return json.dumps(data).encode()


@functools.lru_cache(maxsize=512)
def _compiled(name: str, source: str) -> str:
    """Base64 marshalled code of a task source, or "" if it does not compile (the child reports)."""
    try:
        code = harness.compile_source(name, source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ""
    return base64.b64encode(marshal.dumps(code)).decode()


class Executor(Protocol):
    """Runs jobs in isolation. Implementations must be safe to call from many threads at once."""

    name: str

    def run(self, job: Job) -> ExecReport:
        """Run one job; raise ``SandboxError`` only for faults of the executor itself."""
        ...

    def describe(self) -> dict[str, Any]:
        """Which isolation layers are active, for /metadata and the logs."""
        ...

    def health(self) -> dict[str, Any]:
        """The executor's state now; ``serving`` is False when it cannot run jobs."""
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
