"""Per-slot cgroups: a process-count limit that binds root too, a memory limit, and kill-all.

Standard library only (the worker uses it). The executor creates one directory per worker slot
under ``pids`` and ``memory`` (cgroup v1, as on a hybrid host) or under the unified v2 root; the job
child moves itself in before it runs candidate code. After the job every process still in the
slot is killed, even ones that escaped the process group with ``setsid``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

ROOT = "/sys/fs/cgroup"
PREFIX = "pyenv-sandbox-"
_configured: dict[str, tuple[int, int]] = {}  # the limits last written, per slot


@dataclass(frozen=True)
class SlotCgroup:
    """The cgroup directories of one worker slot (empty strings when a controller is absent)."""

    pids: str = ""
    memory: str = ""
    v2: bool = False

    @property
    def dirs(self) -> list[str]:
        return list(dict.fromkeys(d for d in (self.pids, self.memory) if d))

    def configure(self, processes: int, memory_bytes: int) -> None:
        """Set the job's limits (called by the worker before each fork; unchanged ones skipped)."""
        if _configured.get(self.pids) == (processes, memory_bytes):
            return
        _configured[self.pids] = (processes, memory_bytes)
        if self.pids:
            _write(os.path.join(self.pids, "pids.max"), str(processes))
        if self.memory:
            name = "memory.max" if self.v2 else "memory.limit_in_bytes"
            _write(os.path.join(self.memory, name), str(memory_bytes))

    def attach_self(self) -> None:
        """Move the calling process into the slot (in the job child, before candidate code)."""
        for directory in self.dirs:
            _write(os.path.join(directory, "cgroup.procs"), "0")

    def members(self) -> list[int]:
        pids: set[int] = set()
        for directory in self.dirs:
            with contextlib.suppress(OSError), open(os.path.join(directory, "cgroup.procs")) as f:
                pids.update(int(line) for line in f if line.strip())
        return sorted(pids)

    def kill_all(self, reap: bool = True, timeout_s: float = 5.0) -> bool:
        """SIGKILL every member until the slot is empty; True when it is."""
        deadline = time.monotonic() + timeout_s
        while members := self.members():
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if reap:
                reap_children()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)
        return True

    def oom_kills(self) -> int:
        """How many times the kernel's OOM killer fired in this slot so far."""
        if not self.memory:
            return 0
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:  # read on each job's critical path: os calls, not a text file object
            for line in read_small(os.path.join(self.memory, name)).splitlines():
                key, _, value = line.partition(b" ")
                if key == b"oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0


def reap_children() -> None:
    """Collect every exited child (the worker is a subreaper: orphans of jobs come back to it)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def read_small(path: str) -> bytes:
    """A small kernel file's first 64 KiB (cgroupfs; procfs, for the worker's ``standby.py``):
    three system calls and no file object, for the reads on a job's critical path."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _v2_has(controller: str) -> bool:
    try:
        with open(os.path.join(ROOT, "cgroup.subtree_control")) as f:
            return controller in f.read().split()
    except OSError:
        return False


def create_slots(instance: str, count: int) -> list[SlotCgroup]:
    """Create ``count`` slot cgroups for one executor instance; [] when none can be made."""
    v1 = {c: os.path.join(ROOT, c) for c in ("pids", "memory")}
    if os.path.isfile(os.path.join(v1["pids"], "cgroup.procs")):
        bases = {c: os.path.join(path, PREFIX + instance) for c, path in v1.items()}
        v2 = False
        if not os.path.isfile(os.path.join(v1["memory"], "cgroup.procs")):
            bases["memory"] = ""
    elif _v2_has("pids"):
        base = os.path.join(ROOT, PREFIX + instance)
        bases = {"pids": base, "memory": base if _v2_has("memory") else ""}
        v2 = True
    else:
        return []
    slots: list[SlotCgroup] = []
    try:
        for base in dict.fromkeys(b for b in bases.values() if b):
            os.mkdir(base, 0o755)
            if v2:
                controllers = "+pids" + (" +memory" if bases["memory"] else "")
                _write(os.path.join(base, "cgroup.subtree_control"), controllers)
        for index in range(count):
            dirs = {c: os.path.join(b, f"slot-{index}") if b else "" for c, b in bases.items()}
            for directory in dict.fromkeys(d for d in dirs.values() if d):
                os.mkdir(directory, 0o755)
            slots.append(SlotCgroup(pids=dirs["pids"], memory=dirs["memory"], v2=v2))
    except OSError:
        remove_instance(instance)
        return []
    return slots


def remove_instance(instance: str) -> None:
    """Kill whatever is left in an instance's slots and remove its directories."""
    for base in _instance_dirs(instance):
        for entry in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            path = os.path.join(base, entry)
            if os.path.isdir(path):
                SlotCgroup(pids=path).kill_all(reap=False, timeout_s=2.0)
                _rmdir(path)
        _rmdir(base)


def _instance_dirs(instance: str) -> list[str]:
    name = PREFIX + instance
    dirs = [os.path.join(ROOT, c, name) for c in ("pids", "memory")]
    return [d for d in [*dirs, os.path.join(ROOT, name)] if os.path.isdir(d)]


def _rmdir(path: str) -> None:
    for _ in range(200):  # a killed task may need a moment to leave the cgroup
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.005)


def remove_stale() -> list[str]:
    """Remove instances left by executors whose process died (instance names start with a pid)."""
    removed = []
    names: set[str] = set()
    for parent in (ROOT, os.path.join(ROOT, "pids"), os.path.join(ROOT, "memory")):
        with contextlib.suppress(OSError):
            names.update(n for n in os.listdir(parent) if n.startswith(PREFIX))
    for name in sorted(names):
        instance = name[len(PREFIX) :]
        owner = instance.split("-", 1)[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            remove_instance(instance)
            removed.append(instance)
    return removed
