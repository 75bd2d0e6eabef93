"""The parent's handle on one sandbox worker process: hand it a job, read the outcome.

The job travels as memfds (payload in; stdout, stderr, results out) over a SOCK_SEQPACKET socket;
the worker answers with the exit status and resource usage only, never with job content, as soon
as the job has said its last word; its clean-up notice follows and is read (``settle``) before
the worker's next job. The outputs are read once the job is over and turned into an ExecReport
in one step
(``build_report``): the exit classified by ``protocol.classify_exit``, the result channel
validated by ``protocol.parse_records``. "Too slow" is CPU time; the wall clock is a backstop.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from python_env.sandbox import protocol
from python_env.sandbox.base import Job, parse_results
from python_env.sandbox.stamps import Stamps
from python_env.types import ExecReport, ExitReason, Limits, TestStatus


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
        self.unsettled: int | None = None  # the job whose clean-up notice is still to be read

    def alive(self) -> bool:
        """Whether the worker process is still running."""
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker (and bwrap around it) and close its socket."""
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

    def settle(self) -> dict[str, Any]:
        """Read the worker's notice about the clean-up after its last job ({} if none is due);
        called by the settler once the notice is there. ``tainted`` in it says the worker could
        not restore its slot.

        Raises ``WorkerFailure`` when the notice is missing or unusable: the worker is then
        retired, and the job's verdict, already returned, stands.
        """
        job_id, self.unsettled = self.unsettled, None
        if job_id is None:
            return {}
        try:
            self.sock.settimeout(self.grace_s)
            data = self.sock.recv(65536)
        except OSError as exc:
            raise self._failure(exc) from exc
        if not data:
            raise WorkerFailure(f"worker {self.slot} exited before its clean-up notice")
        try:
            notice: Any = json.loads(data)
        except ValueError:
            notice = None
        problem = protocol.check_reply(notice, job_id, protocol.NOTICE_FIELDS)
        if problem:
            raise WorkerFailure(f"worker {self.slot}: unusable clean-up notice: {problem}")
        return dict(notice)

    def execute(
        self, job: Job, job_id: int, mark: Stamps, early: bool, queued: bool
    ) -> tuple[Outputs, dict[str, Any] | None]:
        """Run one job on a settled worker: its outputs and the worker's clean-up notice, or
        None for the notice when ``early`` (the worker answers at the job's last word and
        sends it after its clean-up: ``settle``). ``queued``: other jobs wait for a worker
        (the worker's next standby then skips its idle warm-up)."""
        with self._sent(job, job_id, mark, early, queued, blocking=True) as fds:
            try:
                data = self.sock.recv(65536)
            except OSError as exc:  # includes socket timeouts: a wedged worker
                raise self._failure(exc) from exc
            return self._answer(data, job, job_id, fds, mark, early)

    async def execute_async(
        self, job: Job, job_id: int, mark: Stamps, early: bool, queued: bool
    ) -> tuple[Outputs, dict[str, Any] | None]:
        """``execute`` for a coroutine: it waits for the reply on its event loop."""
        with self._sent(job, job_id, mark, early, queued, blocking=False) as fds:
            try:
                async with asyncio.timeout(job.limits.wall_seconds + self.grace_s):
                    data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
            except OSError as exc:  # TimeoutError too: a wedged worker
                raise self._failure(exc) from exc
            return self._answer(data, job, job_id, fds, mark, early)

    @contextlib.contextmanager
    def _sent(
        self, job: Job, job_id: int, mark: Stamps, early: bool, queued: bool, blocking: bool
    ) -> Iterator[list[int]]:
        """Hand the job to the worker; the output memfds to read once it answers."""
        fds: list[int] = []
        try:
            fds.append(os.memfd_create("pyenv-job"))
            _write_all(fds[0], job.payload())
            os.lseek(fds[0], 0, os.SEEK_SET)
            fds += [os.memfd_create(name) for name in ("stdout", "stderr", "results")]
            limits = _limits_dict(job.limits)
            header = {
                "id": job_id,
                "limits": limits,
                "pytest": job.pytest_style,
                "early": early,
                "queued": queued,
            }
            mark("c_payload")
            try:
                # blocking: the wall limit plus the grace bounds the reply's wait (a wedged
                # worker); a closed socket (the executor closing) fails here too
                self.sock.settimeout(job.limits.wall_seconds + self.grace_s if blocking else 0.0)
                self.sock.sendmsg(
                    [json.dumps(header).encode()],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))],
                )
            except OSError as exc:
                raise self._failure(exc) from exc
            yield fds[1:]
        finally:
            for fd in fds:
                os.close(fd)

    def _failure(self, exc: OSError) -> WorkerFailure:
        # asyncio.timeout raises a TimeoutError without text
        return WorkerFailure(f"worker {self.slot}: {str(exc) or type(exc).__name__}")

    def _answer(
        self, data: bytes, job: Job, job_id: int, fds: list[int], mark: Stamps, early: bool
    ) -> tuple[Outputs, dict[str, Any] | None]:
        """The worker's reply checked, and the job's outputs read."""
        mark("c_replied")
        if not data:
            raise WorkerFailure(f"worker {self.slot} exited during a job")
        try:
            reply = json.loads(data)
        except ValueError:
            reply = None
        problem = protocol.check_reply(reply, job_id)
        if not problem and not early:
            problem = protocol.check_reply(reply, job_id, protocol.NOTICE_FIELDS)
        if problem:
            raise WorkerFailure(f"worker {self.slot}: unusable reply: {problem}")
        self.jobs += 1
        if early:
            self.unsettled = job_id
        if not reply["ready"]:
            raise WorkerFailure(f"worker {self.slot}: job setup failed: {reply['setup_error']}")
        outputs = read_outputs(reply, fds, job.limits)
        mark("c_read")
        return outputs, None if early else reply


@functools.lru_cache(maxsize=64)
def _limits_dict(limits: Limits) -> dict[str, Any]:
    return dataclasses.asdict(limits)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


RESULTS_CAP = 8 << 20
SETTLE_TIMEOUT_S = 30.0  # a clean-up slower than this retires the worker (a job filled its slot)


def read_capped(fd: int, cap: int) -> tuple[bytes, int]:
    """The first ``cap`` bytes of a memfd, and its full size."""
    size = os.fstat(fd).st_size
    return os.pread(fd, min(size, cap), 0), size


def capped_text(fd: int, cap: int) -> str:
    """A memfd's first ``cap`` bytes as text, with a note of how much was cut."""
    data, size = read_capped(fd, cap)
    text = data.decode("utf-8", "replace")
    if size > cap:
        text += f"\n[... {size - cap} more bytes truncated]"
    return text


def exit_reason(reply: dict[str, Any], limits: Limits) -> ExitReason:
    """Classify how the job's main process ended (``protocol.classify_exit``)."""
    reason = protocol.classify_exit(  # the reply passed protocol.check_reply
        reply["status"],
        timed_out=reply["timed_out"],
        oom=reply["oom"],
        cpu_ms=reply["cpu_ms"],
        cpu_limit_s=limits.cpu_seconds,
    )
    return ExitReason(reason)


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
