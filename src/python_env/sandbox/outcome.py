"""Turns a worker's reply and the job's output memfds into an ExecReport.

"Too slow" is judged on CPU time: a job killed by its CPU rlimit timed out whatever the load.
The wall-clock limit is only a safety net for jobs that sleep or block.
"""

from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass
from typing import Any

from python_env.sandbox.base import parse_results
from python_env.types import ExecReport, ExitReason, Limits, TestStatus

RESULTS_CAP = 8 << 20


def read_capped(fd: int, cap: int) -> tuple[bytes, int]:
    """The first ``cap`` bytes of a memfd, and its full size."""
    size = os.fstat(fd).st_size
    return os.pread(fd, min(size, cap), 0), size


def capped_text(fd: int, cap: int) -> str:
    data, size = read_capped(fd, cap)
    text = data.decode("utf-8", "replace")
    if size > cap:
        text += f"\n[... {size - cap} more bytes truncated]"
    return text


def exit_reason(reply: dict[str, Any], limits: Limits) -> ExitReason:
    """Classify how the job's main process ended."""
    status = int(reply["status"])
    if reply.get("timed_out"):
        return ExitReason.TIMEOUT
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return ExitReason.TIMEOUT
        if sig == signal.SIGXFSZ:
            return ExitReason.OUTPUT_LIMIT
        if sig == signal.SIGKILL:
            if reply.get("oom"):
                return ExitReason.MEMORY
            cpu_limit_ms = max(1, math.ceil(limits.cpu_seconds)) * 1000
            if float(reply.get("cpu_ms", 0)) >= cpu_limit_ms * 0.98:
                return ExitReason.TIMEOUT  # SIGKILL at the hard CPU limit (SIGXCPU was ignored)
        return ExitReason.CRASHED
    if os.WEXITSTATUS(status) == 0:
        return ExitReason.OK
    return ExitReason.MEMORY if reply.get("oom") else ExitReason.CRASHED


def _ran_out_of_memory(report: ExecReport) -> bool:
    if report.error.startswith("MemoryError") or report.stderr.rstrip().endswith("MemoryError"):
        return True
    return any(o.status is TestStatus.RAISED and o.value == "MemoryError" for o in report.outcomes)


@dataclass(frozen=True)
class Outputs:
    """What a finished job left: the worker's reply and the contents of the output memfds."""

    reply: dict[str, Any]
    results: bytes
    stdout: str
    stderr: str


def read_outputs(reply: dict[str, Any], fds: list[int], limits: Limits) -> Outputs:
    """``fds`` are the stdout, stderr and results memfds, read after the job is gone."""
    stdout_fd, stderr_fd, results_fd = fds
    return Outputs(
        reply=reply,
        results=read_capped(results_fd, RESULTS_CAP)[0],
        stdout=capped_text(stdout_fd, limits.output_bytes),
        stderr=capped_text(stderr_fd, limits.output_bytes),
    )


def build_report(outputs: Outputs, limits: Limits) -> ExecReport:
    """Parse the results and classify the exit (done after the worker went back to the pool)."""
    reply = outputs.reply
    report = parse_results(
        outputs.results,
        exit_reason(reply, limits),
        stdout=outputs.stdout,
        stderr=outputs.stderr,
        cpu_ms=float(reply["cpu_ms"]),
        wall_ms=float(reply["wall_ms"]),
        peak_memory_kb=int(reply["maxrss_kb"]),
    )
    if report.exit_reason in (ExitReason.OK, ExitReason.CRASHED) and _ran_out_of_memory(report):
        report = report.model_copy(update={"exit_reason": ExitReason.MEMORY})
    return report
