"""The parent's handle on one sandbox worker process: hand it a job, read the outcome.

The job travels as memfds (payload in; stdout, stderr, results out) over a SOCK_SEQPACKET socket;
the worker answers with the exit status and resource usage only, never with job content.
"""

from __future__ import annotations

import array
import base64
import contextlib
import dataclasses
import functools
import importlib.util
import json
import marshal
import os
import socket
import subprocess
from typing import Any

from python_env.sandbox import harness
from python_env.sandbox.base import Job, Limits
from python_env.sandbox.outcome import Outputs, read_outputs


class WorkerFailure(Exception):
    """The worker (not the job) failed: retire it and retry the job elsewhere."""


class WorkerHandle:
    """The parent's handle on one worker process; used by one thread at a time."""

    def __init__(
        self, slot: int, proc: subprocess.Popen[bytes], sock: socket.socket, grace_s: float
    ) -> None:
        self.slot = slot
        self.grace_s = grace_s
        self.proc = proc
        self.sock = sock
        self.hello: dict[str, Any] = {}
        self.jobs = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, 9)  # bwrap, its pid-1 and the worker share this group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        """Ask politely (EOF on the control socket), then kill."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self.kill()

    def execute(self, job: Job, job_id: int) -> tuple[Outputs, bool]:
        """Run one job; (its outputs, whether this worker may take another job)."""
        limits = job.limits
        fds: list[int] = []
        try:
            fds.append(os.memfd_create("pyenv-job"))
            _write_all(fds[0], payload(job))
            os.lseek(fds[0], 0, os.SEEK_SET)
            fds += [os.memfd_create(name) for name in ("stdout", "stderr", "results")]
            header = {"id": job_id, "limits": _limits_dict(limits)}
            try:
                self.sock.settimeout(limits.wall_seconds + self.grace_s)
                self.sock.sendmsg(
                    [json.dumps(header).encode()],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))],
                )
                data = self.sock.recv(65536)
            except OSError as exc:  # includes socket timeouts: a wedged worker
                raise WorkerFailure(f"worker {self.slot}: {exc or type(exc).__name__}") from exc
            if not data:
                raise WorkerFailure(f"worker {self.slot} exited during a job")
            reply = json.loads(data)
            if reply.get("id") != job_id or "error" in reply:
                raise WorkerFailure(f"worker {self.slot}: bad reply {reply!r}")
            self.jobs += 1
            if not reply["ready"]:
                raise WorkerFailure(f"worker {self.slot}: job setup failed: {reply['setup_error']}")
            return read_outputs(reply, fds[1:], limits), not reply.get("tainted")
        finally:
            for fd in fds:
                os.close(fd)


def payload(job: Job) -> bytes:
    """The job as the harness reads it, with the task's own sources compiled here once.

    Compiling the hidden tests in every job child cost ~1 ms of its CPU (the parser's memory
    churn means page faults there). Only trusted task sources are compiled in the server; the
    candidate's solution is compiled in the sandbox, where a parser crash harms nobody.
    """
    data: dict[str, Any] = {
        "solution": job.solution,
        "tests": job.tests,
        "benchmark": job.benchmark,
    }
    compiled = {name: _compiled(name, source) for name, source in
                (("tests", job.tests), ("benchmark", job.benchmark)) if source}  # fmt: skip
    if compiled and all(compiled.values()):
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


@functools.lru_cache(maxsize=64)
def _limits_dict(limits: Limits) -> dict[str, Any]:
    return dataclasses.asdict(limits)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
