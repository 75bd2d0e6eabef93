"""Spare uids for jobs: one per worker slot, unique on the host, owning nothing on it.

Every job of a root worker runs as its slot's spare uid, on every tier: a uid that owns no file
outside the job's own directory cannot chmod, chown, touch or set xattrs on host files (Landlock
does not govern those calls), cannot prlimit or renice the worker or the server, can be bounded
by RLIMIT_NPROC and is cleaned up with kill(-1) from that uid. Blocks of uids are claimed with
flock, so executors in other processes (tests, several servers) never share one; a dead
process's lock goes with it. Standard library only: the worker loads it by path too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal

UID_BASE = 1_800_000_000
BLOCK = 1024  # slots (workers) per executor at most
BLOCKS = 1024
LOCK_DIR = "/tmp/pyenv-sandbox-uids"


class UidBlock:
    def __init__(self, index: int, fd: int) -> None:
        self.index = index
        self._fd = fd

    @classmethod
    def claim(cls, slots: int) -> UidBlock:
        if slots > BLOCK:
            raise ValueError(f"at most {BLOCK} workers per executor")
        os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
        start = os.getpid() % BLOCKS
        for offset in range(BLOCKS):
            index = (start + offset) % BLOCKS
            fd = os.open(os.path.join(LOCK_DIR, f"{index}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(index, fd)
        raise OSError("no free block of sandbox uids")

    def uid(self, slot: int) -> int:
        return UID_BASE + self.index * BLOCK + slot

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def kill_uid(uid: int) -> None:
    """Kill every process of a slot uid, wherever it went: kill(-1) from a helper with that uid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the helper
        try:
            os.setresuid(uid, uid, uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
