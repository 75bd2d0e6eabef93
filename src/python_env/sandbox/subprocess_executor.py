"""Baseline executor: a fresh ``python -P -s -S`` per job, with rlimits and a wall-clock kill.

Slower than a warm fork server (an interpreter start per job) but simple and dependable; it is the
fallback the faster executors are measured against.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from python_env.errors import ExecutorOverloaded, SandboxError
from python_env.sandbox import harness, protocol
from python_env.sandbox.base import Job, parse_results
from python_env.sandbox.isolation import pytest_files
from python_env.types import ExecReport, ExitReason, Limits

HARNESS_PATH = Path(harness.__file__)
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


def apply_limits(limits: Limits) -> None:
    """Set the job's rlimits; called in the child before it runs candidate code."""
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class SubprocessExecutor:
    """One fresh interpreter per job; at most ``max_parallel`` jobs at once."""

    name = "subprocess"

    def __init__(
        self, max_parallel: int | None = None, queue_timeout_s: float = 60.0, hash_seed: int = 0
    ) -> None:
        self._env = {**CLEAN_ENV, "PYTHONHASHSEED": str(hash_seed)}
        self._paths = json.dumps(pytest_files()[0])  # where the job finds pytest
        self._slots = threading.BoundedSemaphore(max_parallel or (os.cpu_count() or 1) * 2)
        self._queue_timeout_s = queue_timeout_s

    def describe(self) -> dict[str, Any]:
        """What isolation there is: none beyond a process and rlimits (UNISOLATED)."""
        return {
            "executor": self.name,
            "isolation": "UNISOLATED",
            "layers": ["process", "rlimits", "clean-env", "process-group-kill"],
            "missing": ["network-isolation", "filesystem-isolation"],
        }

    def health(self) -> dict[str, Any]:
        """A fresh process per job: it serves, but never fit for graded traffic (UNISOLATED)."""
        return {"serving": True, "isolated": False}

    def close(self) -> None:
        """Nothing to release: every job's process is gone when run() returns."""

    async def run_async(self, job: Job) -> ExecReport:
        """``run`` in a thread, for a coroutine on an event loop."""
        return await asyncio.to_thread(self.run, job)

    def run(self, job: Job) -> ExecReport:
        """Run one job in a fresh interpreter; at most ``max_parallel`` at once."""
        if not self._slots.acquire(timeout=self._queue_timeout_s):
            raise ExecutorOverloaded(f"no free slot within {self._queue_timeout_s}s")
        try:
            return self._run(job)
        finally:
            self._slots.release()

    def _run(self, job: Job) -> ExecReport:
        limits, paths = job.limits, [self._paths]
        read_fd, write_fd = os.pipe()
        with tempfile.TemporaryDirectory(prefix="pyenv-job-") as scratch:
            started = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-P", "-s", "-S", str(HARNESS_PATH), str(write_fd), *paths],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=scratch,
                    env=self._env,
                    pass_fds=(write_fd,),
                    start_new_session=True,
                    preexec_fn=lambda: apply_limits(limits),
                )
            except OSError as exc:
                os.close(read_fd)
                os.close(write_fd)
                raise SandboxError(f"cannot start the job process: {exc}") from exc
            os.close(write_fd)
            cap = limits.output_bytes
            sinks = {"results": bytearray(), "stdout": bytearray(), "stderr": bytearray()}
            assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
            readers = [
                threading.Thread(target=_drain, args=(read_fd, sinks["results"], 1 << 20)),
                threading.Thread(target=_drain, args=(proc.stdout.fileno(), sinks["stdout"], cap)),
                threading.Thread(target=_drain, args=(proc.stderr.fileno(), sinks["stderr"], cap)),
            ]
            for reader in readers:
                reader.start()
            killer = threading.Timer(limits.wall_seconds, _kill_group, (proc.pid,))
            killer.start()
            try:
                proc.stdin.write(job.payload())
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the child died before reading its job; its status says why
            _, status, usage = os.wait4(proc.pid, 0)
            timed_out = killer.finished.is_set()  # set by the timer firing, before cancel()
            killer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            _kill_group(proc.pid)  # children that outlived the job
            for reader in readers:
                reader.join()
            os.close(read_fd)
            proc.stdout.close()
            proc.stderr.close()
        cpu_s = usage.ru_utime + usage.ru_stime
        cpu_ms = round(cpu_s * 1000, 3)
        reason = protocol.classify_exit(status, timed_out, False, cpu_ms, limits.cpu_seconds)
        return parse_results(
            bytes(sinks["results"]),
            ExitReason(reason),
            stdout=sinks["stdout"].decode("utf-8", "replace"),
            stderr=sinks["stderr"].decode("utf-8", "replace"),
            cpu_ms=cpu_ms,
            wall_ms=round((time.perf_counter() - started) * 1000, 3),
            peak_memory_kb=usage.ru_maxrss,
        )


def _drain(fd: int, sink: bytearray, cap: int) -> None:
    """Read a pipe to its end, keeping at most ``cap`` bytes (the rest is read and dropped)."""
    while chunk := os.read(fd, 65536):
        if len(sink) < cap:
            sink.extend(chunk[: cap - len(sink)])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
