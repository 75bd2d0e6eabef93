"""The parent's handle on one sandbox worker process: hand it a job, read the outcome.

The job travels as memfds (payload in; stdout, stderr, results out) over a SOCK_SEQPACKET socket;
the worker answers with the exit status and resource usage only, never with job content.
"""

from __future__ import annotations

import array
import contextlib
import dataclasses
import functools
import json
import os
import socket
import subprocess
from typing import Any

from python_env.sandbox.base import Job
from python_env.sandbox.outcome import Outputs, read_outputs
from python_env.types import Limits


class WorkerFailure(Exception):
    """The worker (not the job) failed: retire it and retry the job elsewhere."""


class WorkerHandle:
    """The parent's handle on one worker process; used by one thread at a time."""

    def __init__(
        self,
        slot: int,
        generation: int,
        slot_dir: str,
        proc: subprocess.Popen[bytes],
        sock: socket.socket,
        grace_s: float,
    ) -> None:
        self.slot = slot
        self.generation = generation
        self.slot_dir = slot_dir  # this worker's own; a replacement gets a fresh one
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

    def execute(self, job: Job, job_id: int) -> tuple[Outputs, str]:
        """Run one job; its outputs, and why this worker may not take another ("" if it may)."""
        limits = job.limits
        fds: list[int] = []
        try:
            fds.append(os.memfd_create("pyenv-job"))
            _write_all(fds[0], job.payload())
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
            problem = str(reply.get("why") or "tainted") if reply.get("tainted") else ""
            return read_outputs(reply, fds[1:], limits), problem
        finally:
            for fd in fds:
                os.close(fd)


@functools.lru_cache(maxsize=64)
def _limits_dict(limits: Limits) -> dict[str, Any]:
    return dataclasses.asdict(limits)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
