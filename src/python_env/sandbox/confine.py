"""What a forked job child does to itself before candidate code runs. Standard library only.

Order matters: cgroup and chroot need privileges and Landlock needs no_new_privs, so capabilities
go last. The seccomp filter is already in place: the worker installed it on itself (compiling a
BPF program per job would cost 0.4 ms) and every forked child inherits it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import stat
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the worker loads these by file path; see worker.py
    from python_env.sandbox.cgroups import SlotCgroup
    from python_env.sandbox.landlock import Ruleset
    from python_env.sandbox.seccomp import Filter

CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"}
CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS = 0x40000000, 0x08000000, 0x04000000
CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT = 0x1, 0x2, 0x4, 0x20
_MS_BIND, _MS_REC, _MS_PRIVATE, _MNT_DETACH = 0x1000, 0x4000, 0x40000, 0x2
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT = 38, 24, 28, 47
# NOROOT + locks on every securebit: uid 0 can never regain a capability, not even through exec.
_SECUREBITS = 0x01 | 0x02 | 0x08 | 0x20 | 0x40 | 0x80
_CAP_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Plan:
    """The confinement a worker applies to each job; decided once, at worker start-up."""

    jobdir: str
    null_fd: int
    jail: str = ""  # chroot tier: the slot dir, holding dev/null (root's) and the job dir
    ruleset: Ruleset | None = None
    seccomp: Filter | None = None
    chroot: bool = False
    uid: int | None = None  # None: stay uid 0 without any capability (needs Landlock scoping)
    # Unprivileged worker without a pids cgroup: RLIMIT_NPROC counts every task of our uid, so
    # each job gets what its uid already runs plus its own allowance (counted at standby).
    nproc_relative: bool = False
    nproc_base: int = 0
    cgroup: SlotCgroup | None = None
    cap_last: int = 40
    notes: list[str] = field(default_factory=list)


def cap_last() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


def restrict_worker_capabilities(last: int) -> None:
    """In the worker, once: empty the bounding set and lock securebits (jobs inherit both).

    They only matter at exec, which the worker never does; its own capabilities stay. An
    unprivileged worker holding none has nothing to give up (and may not set securebits): jobs
    set no_new_privs, so exec cannot grant any either.
    """
    if os.geteuid() != 0 and _permitted_capabilities() == 0:
        return
    _check(_libc.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0), "PR_SET_SECUREBITS")
    for cap in range(last + 1):
        _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), "PR_CAPBSET_DROP")


def _permitted_capabilities() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapPrm:"):
                return int(line.split()[1], 16)
    return -1


_CAP_HEADER = ctypes.create_string_buffer(struct.pack("<Ii", _CAP_VERSION_3, 0))
_CAP_EMPTY = ctypes.create_string_buffer(bytes(24))  # two empty {effective, permitted, inheritable}
_capset, _prctl, _unshare, _mount = _libc.capset, _libc.prctl, _libc.unshare, _libc.mount


def drop_capabilities() -> None:
    """In the job child: no effective, permitted, inheritable or ambient capability left."""
    _check(_prctl(_PR_CAP_AMBIENT, 4, 0, 0, 0), "PR_CAP_AMBIENT_CLEAR_ALL")
    _check(_capset(_CAP_HEADER, _CAP_EMPTY), "capset")


def set_no_new_privs() -> None:
    _check(_prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def unshare(flags: int) -> None:
    _check(_unshare(flags), "unshare")


def blocking_ancestor(path: str) -> str:
    """The outermost directory above ``path`` that other uids may not pass ("" if none)."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & stat.S_IXOTH:
            return current
    return ""


def expose_interpreter(prefix: str) -> str:
    """In the worker's own mount namespace, let spare-uid jobs read the interpreter's prefix.

    An interpreter under /root (pyenv, say) is out of reach of any other uid, since /root is
    0700. Mount an empty tmpfs over the ancestor that blocks and bind the prefix back into it,
    read-only: the job reaches the stdlib and nothing else that lived there. Needs
    CLONE_NEWNS already unshared; returns the covered ancestor, "" when nothing blocks.
    """
    blocker = blocking_ancestor(prefix)
    if not blocker:
        return ""
    keep = os.open(prefix, os.O_PATH | os.O_CLOEXEC)  # still reachable once the tmpfs covers it
    try:
        _mount_checked(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)
        _mount_checked(b"tmpfs", blocker.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755")
        old_umask = os.umask(0o022)
        try:
            os.makedirs(prefix, 0o755, exist_ok=True)
        finally:
            os.umask(old_umask)
        source, target = f"/proc/self/fd/{keep}".encode(), prefix.encode()
        try:
            _mount_checked(source, target, None, _MS_BIND | _MS_REC, None)
            flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
            _mount_checked(None, target, None, flags, None)
        except OSError:
            _libc.umount2(blocker.encode(), _MNT_DETACH)  # give the worker its stdlib back
            raise
    finally:
        os.close(keep)
    return blocker


def _mount_checked(
    source: bytes | None, target: bytes, fstype: bytes | None, flags: int, data: bytes | None
) -> None:
    _check(_mount(source, target, fstype, ctypes.c_ulong(flags), data), f"mount {target!r}")


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what} failed")


def set_rlimits(limits: dict[str, Any], nproc: bool, nproc_base: int = 0) -> None:
    """CPU seconds (SIGXCPU at the soft limit, SIGKILL a second later), memory, file size, fds.

    ``nproc_base`` > 0: an unprivileged worker's job may add ``processes`` tasks to those its
    uid already had when the job's child was forked.
    """
    cpu = max(1, int(float(limits["cpu_seconds"]) + 0.999))
    memory = int(limits["memory_mb"]) * 1024 * 1024
    size = int(limits["file_size_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc or nproc_base:  # only binds a non-root uid; the pids cgroup covers root
        allowed = nproc_base + int(limits["processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))


def tasks_of_uid(uid: int) -> int:
    """Threads of ``uid`` in the processes this pid namespace shows: what RLIMIT_NPROC counts."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
        except OSError:  # gone meanwhile
            continue
        if int(fields[b"Uid"].split()[0]) == uid:
            total += int(fields[b"Threads"])
    return total


def clean_environment(tmpdir: str) -> None:
    """Replace the environment and point tempfile at scratch (the worker does it once for all)."""
    os.environ.clear()
    os.environ.update(CLEAN_ENV, HOME=tmpdir, TMPDIR=tmpdir, SQLITE_TMPDIR=tmpdir)
    tempfile.tempdir = tmpdir


def close_fds(keep: set[int]) -> None:
    """Close every inherited descriptor above stderr except ``keep`` (results, ready, ruleset)."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def prepare(plan: Plan, keep: set[int], mark: Callable[[str], None] = lambda _: None) -> None:
    """The static layers, applied to a standby child before any job arrives. Raise on failure.

    Descriptors 0-3 point at /dev/null until the job's own are put there; ``keep`` (the job
    socket, the ready pipe) survive, every other inherited descriptor is closed. ``mark`` notes
    the end of each layer (the benchmarks' breakdown).
    """
    os.setsid()  # its own session and process group: one killpg ends the whole job
    mark("l_setsid")
    if plan.nproc_relative:
        plan.nproc_base = tasks_of_uid(os.getuid())
        mark("l_nproc_count")
    if plan.cgroup is not None:
        plan.cgroup.attach_self()
        mark("l_cgroup")
    for fd in range(4):
        os.dup2(plan.null_fd, fd)
    ruleset = {plan.ruleset.fd} if plan.ruleset is not None else set()
    close_fds(keep | ruleset)
    mark("l_fds")
    os.chdir(plan.jobdir)
    if plan.chroot:
        os.chroot(plan.jail)
        inside = "/" + os.path.basename(plan.jobdir)
        os.chdir(inside)
        clean_environment(inside)
    mark("l_chroot")
    set_no_new_privs()
    mark("l_no_new_privs")
    if plan.ruleset is not None:
        plan.ruleset.restrict_self()
        os.close(plan.ruleset.fd)
        mark("l_landlock")
    if plan.uid is not None:
        os.setgroups([])
        os.setresgid(plan.uid, plan.uid, plan.uid)
        os.setresuid(plan.uid, plan.uid, plan.uid)
        mark("l_uid")
    drop_capabilities()  # the seccomp filter was installed once in the worker; jobs inherit it
    mark("l_capabilities")
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it: oversize output ends the job
    # (SIGINT's handler, which the worker sets aside, the worker gives back right after this.)


def enter_job(plan: Plan, limits: dict[str, Any], stdio: list[int]) -> None:
    """Put the job's stdout, stderr and results memfds on 1, 2, 3 and set its rlimits (what
    depends on the job; the rest was set before it came, by ``prepare``)."""
    for target, fd in zip((1, 2, 3), stdio, strict=True):
        os.dup2(fd, target)
    for fd in stdio:
        if fd > 3:
            os.close(fd)
    set_rlimits(limits, nproc=plan.uid is not None, nproc_base=plan.nproc_base)


def in_child(func: Callable[[], object]) -> tuple[bool, str]:
    """Run ``func`` in a forked child (layers are irreversible); (ok, detail) from its result."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        try:
            detail = func()
            message, code = f"ok {detail if detail is not None else ''}", 0
        except BaseException as exc:  # report anything to the parent
            message, code = f"error {type(exc).__name__}: {exc}", 1
        os.write(write_fd, message.encode()[:60_000])
        os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", "replace")
    ok, _, detail = text.partition(" ")
    return ok == "ok", detail.strip() or "the probe died without a word"
