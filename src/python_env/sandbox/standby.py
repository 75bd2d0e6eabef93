"""The worker's side of one forked job child: its descriptors, its last word, how it is killed.

Standard library only (the worker loads it by path). A standby is forked and confined while its
worker waits for work; the job reaches it over ``sock``. It says on ``ready`` that confinement is
complete (before any job code runs) and on ``done`` that the job is over (results and streams
flushed), so the worker can answer before the child's exit tears down its address space.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING or __package__:
    from python_env.sandbox import cgroups
else:  # loaded by file path in the sandbox worker, after cgroups.py (see worker.py)
    cgroups = sys.modules["pyenv_sandbox_cgroups"]

HEARD_CAP = 1 << 16  # bytes the worker reads from ``done`` before it stops listening


@dataclasses.dataclass(frozen=True)
class LastWord:
    """What the harness says as a job ends: ``done CODE CPU_S MAXRSS_KB NS``."""

    code: int
    cpu_s: float
    maxrss_kb: int
    ns: int  # when it was said (tracing)

    @classmethod
    def parse(cls, line: bytes) -> LastWord | None:
        """The word on one line, or None for anything else (the job may write there too)."""
        fields = line.split()
        if len(fields) != 5 or fields[0] != b"done":
            return None
        try:
            word = cls(int(fields[1]), float(fields[2]), int(fields[3]), int(fields[4]))
        except ValueError:
            return None
        sane = 0 <= word.code <= 255 and 0 <= word.cpu_s < 1e6 and word.maxrss_kb >= 0
        return word if sane else None


def kernel_cpu_s(pid: int) -> float:
    """CPU seconds of our child ``pid`` and the children it reaped, as the kernel counts them
    (in clock ticks); 0.0 if it cannot be read or is not our child."""
    try:
        fields = cgroups.read_small(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()
        if int(fields[1]) != os.getpid():
            return 0.0
        return sum(int(x) for x in fields[11:15]) / _TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


_TICKS = os.sysconf("SC_CLK_TCK")


def say_last_word(done: int, code: int) -> None:
    """In the job's child, once its streams are flushed: the last word, if the pipe takes it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime
    rss = max(usage.ru_maxrss, kids.ru_maxrss)
    # a leading newline ends whatever unfinished line the job left on the pipe
    os.write(done, f"\ndone {code} {cpu} {rss} {time.monotonic_ns()}\n".encode())


class Standby:
    """A forked child, already confined, blocked until it is handed a job.

    The job's own code can write to ``done`` too: a forged word only ends the job early, with
    results it could have written anyway, and its CPU and memory figures are bounded by the
    kernel's count and the job's limit (``Worker.run_job``); anything else is ignored, and
    after ``HEARD_CAP`` bytes the worker stops listening (the job then ends at its exit).
    """

    def __init__(
        self, pid: int, sock: socket.socket, ready: int, done: int, marks: dict[str, int]
    ) -> None:
        self.pid = pid
        self.marks = marks  # the fork, seen from the worker (tracing only)
        self.pidfd = os.pidfd_open(pid)
        self.sock = sock
        self.ready = ready
        self.done = done
        os.set_blocking(done, False)
        self._line = b""
        self._heard = 0
        self.deaf = False  # every writer closed ``done``, or it carried too much
        self.reaped = False

    def last_word(self) -> LastWord | None:
        """The harness's last word if a whole one has arrived; reads what is there."""
        try:
            chunk = os.read(self.done, 4096)
        except BlockingIOError:
            return None
        self._heard += len(chunk)
        if not chunk or self._heard > HEARD_CAP:
            self.deaf = True
            return None
        *lines, self._line = (self._line + chunk).split(b"\n")
        for line in lines:
            word = LastWord.parse(line)
            if word is not None:
                return word
        return None

    def kill(self) -> None:
        """SIGKILL the child and its process group, whatever point of its start it reached.

        Its group exists only once the child has run ``setsid()`` (the first step of
        ``confine.prepare``); a job that reaches the worker right after the fork (the first
        pytest-style job, dispatched as soon as the hello is read) comes before that, and
        ``killpg`` alone then fails with ESRCH and leaves the child alive for a ``waitpid`` that
        never returns. The pidfd reaches the child itself in every state. Its pid (hence the id
        of its group) stays reserved until it is reaped, so neither signal reaches anyone else.
        """
        if self.reaped:  # its pid, and the id of its group, may be someone else's by now
            return
        with contextlib.suppress(ProcessLookupError):  # exited already: a zombie until reaped
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # what the job started
            os.killpg(self.pid, signal.SIGKILL)

    def reap(self) -> tuple[int, float, int]:
        """Wait for the child's exit and collect it: (wait status, CPU seconds, peak RSS kB).
        The one place a standby is reaped; ``kill`` does nothing after it."""
        _, status, usage = os.wait4(self.pid, 0)
        self.reaped = True
        return status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss

    def close(self) -> None:
        """Close the worker's ends of the child's descriptors (after it is reaped)."""
        self.sock.close()
        for fd in (self.pidfd, self.ready, self.done):
            os.close(fd)


@dataclasses.dataclass(frozen=True)
class Ending:
    """How a job ended, as the worker's reply tells it."""

    status: int  # a wait status (at the last word: the exit code it announced)
    cpu_s: float
    maxrss_kb: int
    timed_out: bool
    word: LastWord | None
