"""Attacks on other processes: signals, ptrace, leftover daemons, privilege and namespaces."""

from __future__ import annotations

import os
import platform

from python_env.sandbox import ForkServerExecutor, isolation, seccomp
from tests.sandbox.helpers import attack, comm_outlived, value

REFUSED = ("PermissionError", "ProcessLookupError")


def test_signals_to_the_worker(executor: ForkServerExecutor) -> None:
    code = """
import os, signal
def test_kill_parent():
    results = []
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(os.getppid(), sig)
            results.append("sent")
        except OSError as exc:
            results.append(type(exc).__name__)
    return results
"""
    report = attack(executor, code)
    assert all(r in REFUSED for r in value(report, "test_kill_parent"))  # type: ignore[attr-defined]


def test_signals_to_the_server_and_everyone(executor: ForkServerExecutor) -> None:
    """kill(-1) reaches every process the caller may signal: it must be none but its own."""
    code = f"""
import os, signal
def test_kill_server():
    try:
        os.kill({os.getpid()}, signal.SIGKILL)
        return "sent"
    except OSError as exc:
        return type(exc).__name__
def test_kill_everyone():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.kill(-1, signal.SIGTERM)
        return "sent"
    except OSError as exc:
        return type(exc).__name__
def test_kill_process_1():
    try:
        os.kill(1, signal.SIGKILL)
        return "sent"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, code)
    assert value(report, "test_kill_server") in REFUSED
    assert value(report, "test_kill_process_1") in (*REFUSED, "sent")  # inside bwrap, 1 is bwrap's
    # The attack() helper checked that the bystander session and every worker survived kill(-1).


def test_ptrace_and_memory_of_the_worker(executor: ForkServerExecutor) -> None:
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def test_ptrace_attach():
    return [libc.ptrace(16, os.getppid(), 0, 0), ctypes.get_errno() != 0]
def test_process_vm_readv():
    buf = ctypes.create_string_buffer(64)
    local = IOVec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = IOVec(0x400000, 64)
    got = libc.process_vm_readv(os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return [got, ctypes.get_errno() != 0]
def test_proc_mem():
    try:
        open(f"/proc/{os.getppid()}/mem", "rb").read(1)
        return "read"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, code)
    assert value(report, "test_ptrace_attach") == [-1, True]
    assert value(report, "test_process_vm_readv") == [-1, True]
    assert value(report, "test_proc_mem") != "read"


def test_daemons_do_not_outlive_the_job(executor: ForkServerExecutor) -> None:
    token = "dmn" + os.urandom(4).hex()
    code = f"""
import ctypes, os, time
def test_daemonize():
    if os.fork() == 0:
        os.setsid()                      # leave the job's process group
        if os.fork() == 0:               # and its parent: an orphan
            ctypes.CDLL(None).prctl(15, {token!r}.encode(), 0, 0, 0)
            time.sleep(120)
        os._exit(0)
    time.sleep(0.2)
    return "left a daemon"
"""
    report = attack(executor, code)
    assert value(report, "test_daemonize") == "left a daemon"
    assert comm_outlived(executor, token) == []


def test_escaping_through_namespaces_mounts_and_chroot(executor: ForkServerExecutor) -> None:
    shmget = seccomp.SYSCALLS[platform.machine()]["shmget"]
    code = f"""
import ctypes, os
SHMGET = {shmget}
libc = ctypes.CDLL(None, use_errno=True)
def _try(call):
    try:
        return "ok" if call() == 0 else "refused"
    except OSError:
        return "refused"
def test_escapes():
    return [
        _try(lambda: libc.unshare(0x10000000)),                  # CLONE_NEWUSER
        _try(lambda: libc.unshare(0x00020000 | 0x40000000)),     # NEWNS | NEWNET
        _try(lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        _try(lambda: os.chroot("/") or 0),
        _try(lambda: libc.setns(0, 0)),
        _try(lambda: libc.syscall(425, 8, None)),                 # io_uring_setup
        _try(lambda: libc.syscall(SHMGET, 0, 4096, 0o1666)),     # SysV shared memory
    ]
def test_capabilities():
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.capget(header, data)
    return list(data)
"""
    report = attack(executor, code)
    escapes = value(report, "test_escapes")
    assert escapes == ["refused"] * 7, escapes
    assert value(report, "test_capabilities") == [0] * 6


def test_setuid_and_new_privileges(executor: ForkServerExecutor) -> None:
    code = """
import ctypes, os
def test_become_someone_else():
    results = []
    for call in (lambda: os.setuid(12345), lambda: os.setgid(12345), lambda: os.setgroups([0])):
        try:
            call()
            results.append("changed")
        except OSError as exc:
            results.append(type(exc).__name__)
    return results
def test_no_new_privs():
    return ctypes.CDLL(None).prctl(39, 0, 0, 0, 0)  # PR_GET_NO_NEW_PRIVS
"""
    report = attack(executor, code)
    assert value(report, "test_become_someone_else") == ["PermissionError"] * 3
    assert value(report, "test_no_new_privs") == 1


def test_exec_of_system_binaries_stays_confined(executor: ForkServerExecutor) -> None:
    """Layers are inherited across exec: a shell tool is no way around them."""
    code = f"""
import subprocess
def _run(*argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=5)
        return [done.returncode, done.stdout.decode()[:100]]
    except OSError as exc:
        return type(exc).__name__
def test_tools():
    return [_run("cat", "/etc/shadow"), _run("ls", {str(isolation.PACKAGE_DIR)!r}),
            _run("getent", "hosts", "localhost.invalid")]
def test_echo():
    return _run("echo", "fine")
"""
    report = attack(executor, code)
    for result in value(report, "test_tools"):  # type: ignore[attr-defined]
        assert result in ("FileNotFoundError", "PermissionError") or result[0] != 0, result
    if "chroot" not in executor.describe()["layers"]:  # a chroot has no binaries at all
        assert value(report, "test_echo") == [0, "fine\n"]
