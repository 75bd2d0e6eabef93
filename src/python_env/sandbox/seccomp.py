"""A seccomp-BPF filter built and installed with ctypes. Standard library only.

It runs in the sandbox worker (a bare interpreter), so it imports nothing from python_env. The
filter allows everything except:

- socket() of any family: no TCP, UDP, DNS, netlink or raw packets, and no UNIX socket either,
  because Landlock does not govern connecting to a socket file such as /var/run/docker.sock
  (socketpair() stays, for multiprocessing and asyncio);
- namespace and mount syscalls, ptrace and cross-process memory access, kernel keyrings, module
  loading, io_uring (it bypasses seccomp), SysV/POSIX IPC (a channel between jobs), and host
  administration.

Calls that take a pid act on the caller only: ``prlimit64``, the scheduler and affinity calls,
``migrate_pages``/``move_pages`` and ``get_robust_list`` need pid 0, ``setpriority`` and
``ioprio_set`` need "this process", so a job cannot lower the limits of, renice or pin its worker
or the server even where it shares their uid. With ``deny_metadata`` (a job that runs as the
worker's own uid) the path-based chmod, chown, utime and xattr calls are refused too: Landlock
does not govern them, and that uid owns files outside the scratch directory.

chroot is left to capabilities: a fallback-tier job chroots itself after the worker installed the
filter, and jobs never hold CAP_SYS_CHROOT. Syscall numbers come from the kernel headers
(asm/unistd_64.h, asm-generic).
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

# fmt: off
_DENIED = [
    "socket", "unshare", "setns", "mount", "umount2", "pivot_root", "ptrace", "process_vm_readv",
    "process_vm_writev", "bpf", "keyctl", "add_key", "request_key", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "syslog", "acct", "swapon", "swapoff", "reboot", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm",
    "quotactl", "lookup_dcookie", "vhangup", "fanotify_init", "kcmp", "pidfd_getfd", "msgget",
    "semget", "shmget", "mq_open", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr", "uselib", "process_madvise", "process_mrelease",
]


def _arg(index: int, high: bool = False) -> int:
    """Offset of a syscall argument's low (or high) 32-bit word in ``struct seccomp_data``."""
    return 16 + 8 * index + (4 if high else 0)


# Allowed only when every (offset, value) pair holds: "on the caller itself". pid_t and int
# arguments are 32 bits wide, so their low word is all the kernel reads.
_PID_0 = ((_arg(0), 0),)
_SELF_ONLY = {
    "prlimit64": _PID_0, "sched_setaffinity": _PID_0, "sched_setscheduler": _PID_0,
    "sched_setparam": _PID_0, "sched_setattr": _PID_0, "migrate_pages": _PID_0,
    "move_pages": _PID_0, "get_robust_list": _PID_0,
    # PRIO_PROCESS and who = 0 (PRIO_PGRP and PRIO_USER reach other processes)
    "setpriority": ((_arg(0), 0), (_arg(1), 0)),
    "ioprio_set": ((_arg(0), 1), (_arg(1), 0)),  # IOPRIO_WHO_PROCESS, who = 0
}
# utimensat(fd, NULL, ...) is futimens(): allowed; with a path (a non-NULL pointer) it is not.
_NULL_PATH = ((_arg(1), 0), (_arg(1, high=True), 0))
_METADATA = [
    "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat", "utime", "utimes",
    "futimesat", "setxattr", "lsetxattr", "removexattr", "lremovexattr", "setxattrat",
    "removexattrat",
]
# fmt: on

SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "socket": 41, "clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "mount": 165,
        "umount2": 166, "pivot_root": 155, "chroot": 161, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "bpf": 321, "keyctl": 250, "add_key": 248, "request_key": 249,
        "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "syslog": 103, "acct": 163, "swapon": 167, "swapoff": 168,
        "reboot": 169, "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305,
        "adjtimex": 159, "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173,
        "quotactl": 179, "lookup_dcookie": 212, "vhangup": 153, "fanotify_init": 300,
        "kcmp": 312, "pidfd_getfd": 438, "msgget": 68, "semget": 64, "shmget": 29,
        "mq_open": 240, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "uselib": 134,
        "seccomp": 317, "process_madvise": 440, "process_mrelease": 448,
        "prlimit64": 302, "sched_setaffinity": 203, "sched_setscheduler": 144,
        "sched_setparam": 142, "sched_setattr": 314, "migrate_pages": 256, "move_pages": 279,
        "get_robust_list": 274, "setpriority": 141, "ioprio_set": 251,
        "chmod": 90, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "lchown": 94,
        "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
        "setxattr": 188, "lsetxattr": 189, "removexattr": 197, "lremovexattr": 198,
        "setxattrat": 463, "removexattrat": 466,
    },
    "aarch64": {
        "socket": 198, "clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "mount": 40,
        "umount2": 39, "pivot_root": 41, "chroot": 51, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "bpf": 280, "keyctl": 219, "add_key": 217, "request_key": 218,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "syslog": 116, "acct": 89, "swapon": 224, "swapoff": 225,
        "reboot": 142, "settimeofday": 170, "clock_settime": 112, "clock_adjtime": 266,
        "adjtimex": 171, "sethostname": 161, "setdomainname": 162, "quotactl": 60,
        "lookup_dcookie": 18, "vhangup": 58, "fanotify_init": 262, "kcmp": 272,
        "pidfd_getfd": 438, "msgget": 186, "semget": 190, "shmget": 194, "mq_open": 180,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429,
        "open_tree": 428, "mount_setattr": 442, "seccomp": 277, "process_madvise": 440,
        "process_mrelease": 448, "prlimit64": 261, "sched_setaffinity": 122,
        "sched_setscheduler": 119, "sched_setparam": 118, "sched_setattr": 274,
        "migrate_pages": 238, "move_pages": 239, "get_robust_list": 100, "setpriority": 140,
        "ioprio_set": 30, "fchmodat": 53, "fchmodat2": 452, "fchownat": 54, "utimensat": 88,
        "setxattr": 5, "lsetxattr": 6, "removexattr": 14, "lremovexattr": 15,
        "setxattrat": 463, "removexattrat": 466,
    },
}  # fmt: skip

# clone() flags that create namespaces: a job must not build itself a new view of the system.
_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000
_NS_FLAGS |= 0x40000000 | 0x00000080  # NEWNET, NEWTIME

_LD_W_ABS = 0x20
_JEQ = 0x15
_JGE = 0x35
_JSET = 0x45
_RET = 0x06
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1


def _stmt(code: int, k: int) -> tuple[int, int | str, int | str, int]:
    return (code, 0, 0, k)


def build_filter(arch: str | None = None, deny_metadata: bool = False) -> bytes:
    """The BPF program as raw ``struct sock_filter`` bytes for ``arch`` (default: this machine)."""
    arch = arch or platform.machine()
    if arch not in SYSCALLS:
        raise OSError(errno.ENOTSUP, f"no seccomp syscall table for {arch}")
    nr = SYSCALLS[arch]
    # Each instruction: (code, jump-if-true, jump-if-false, k); jumps name labels or are 0.
    prog: list[tuple[int, int | str, int | str, int]] = [
        _stmt(_LD_W_ABS, 4),
        (_JEQ, 0, "kill", AUDIT_ARCH[arch]),
        _stmt(_LD_W_ABS, 0),
    ]
    if arch == "x86_64":
        prog.append((_JGE, "eperm", 0, X32_SYSCALL_BIT))  # x32 ABI aliases: refuse them all
    denied = _DENIED + (_METADATA if deny_metadata else [])
    for name in denied:
        if name in nr:
            prog.append((_JEQ, "eperm", 0, nr[name]))
    checked = {name: checks for name, checks in _SELF_ONLY.items() if name in nr}
    if deny_metadata:
        checked["utimensat"] = _NULL_PATH
    for name in checked:
        prog.append((_JEQ, f"check-{name}", 0, nr[name]))
    prog += [
        (_JEQ, "enosys", 0, nr["clone3"]),  # its flags live in memory; glibc falls back to clone
        (_JEQ, "clone", 0, nr["clone"]),
        _stmt(_RET, RET_ALLOW),
    ]
    labels = {"clone": len(prog)}
    prog += [_stmt(_LD_W_ABS, _arg(0)), (_JSET, "eperm", "allow", _NS_FLAGS)]
    for name, checks in checked.items():
        labels[f"check-{name}"] = len(prog)
        for offset, value in checks:
            prog += [_stmt(_LD_W_ABS, offset), (_JEQ, 0, "eperm", value)]
        prog.append(_stmt(_RET, RET_ALLOW))
    labels.update(allow=len(prog), eperm=len(prog) + 1, enosys=len(prog) + 2, kill=len(prog) + 3)
    prog += [
        _stmt(_RET, RET_ALLOW),
        _stmt(_RET, RET_ERRNO | errno.EPERM),
        _stmt(_RET, RET_ERRNO | errno.ENOSYS),
        _stmt(_RET, RET_KILL_PROCESS),
    ]
    out = bytearray()
    for index, (code, jt, jf, k) in enumerate(prog):
        jumps = [labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf)]
        if not all(0 <= j <= 255 for j in jumps):
            raise ValueError("seccomp filter jump out of range")
        out += struct.pack("<HBBI", code, jumps[0], jumps[1], k)
    return bytes(out)


class Filter:
    """A filter prepared in the worker, so that installing it in a job child is one syscall."""

    def __init__(self, program: bytes) -> None:
        nr = SYSCALLS.get(platform.machine(), {}).get("seccomp", 0)
        if not nr:
            raise OSError(errno.ENOTSUP, "seccomp is not supported on this architecture")
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._syscall = self._libc.syscall
        self._prctl = self._libc.prctl
        self._nr = nr
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = ctypes.create_string_buffer(
            struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(self._buffer))
        )

    def install(self) -> None:
        """Apply the filter to the calling process and all it forks. Irreversible."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self._syscall(self._nr, _SECCOMP_SET_MODE_FILTER, 0, self._fprog) != 0:
            raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER) failed")
