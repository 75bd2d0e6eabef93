"""Landlock (Linux ≥ 5.13) through ctypes: an allow-list of paths, TCP and signal scoping.

Standard library only: it runs in the sandbox worker. The ruleset is built once per worker and
enforced in each forked job with one ``landlock_restrict_self`` call. Everything not allowed is
denied: reading outside the allow-list, writing outside the scratch directory, TCP bind/connect
(ABI ≥ 4), and signals or abstract UNIX sockets reaching processes outside the job (ABI ≥ 6).
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct
from collections.abc import Iterable, Sequence

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = READ_FILE | READ_DIR
READ_EXEC = READ | EXECUTE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_syscall, _prctl = _libc.syscall, _libc.prctl  # bound in the worker, not in every job child


def abi_version() -> int:
    """The kernel's Landlock ABI, or 0 when Landlock is missing or disabled."""
    version = _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(0, int(version))


def fs_access(abi: int) -> int:
    """Every filesystem right this ABI knows (they are all handled, hence denied by default)."""
    return next(_FS_BY_ABI[v] for v in sorted(_FS_BY_ABI, reverse=True) if abi >= v)


class Ruleset:
    """A Landlock ruleset file descriptor, with the rights handled by the running kernel's ABI."""

    def __init__(self, abi: int) -> None:
        if abi < 1:
            raise OSError(95, "Landlock is not available")
        self.abi = abi
        self.handled_fs = fs_access(abi)
        self.net = abi >= 4
        self.scoped = abi >= 6
        fields = [self.handled_fs]
        if self.net:
            fields.append(NET_BIND_TCP | NET_CONNECT_TCP)  # handled, never allowed: no TCP
        if self.scoped:
            fields.append(SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL)
        attr = struct.pack(f"<{len(fields)}Q", *fields)
        fd = _syscall(_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), 0)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        self.fd = int(fd)

    def allow(self, path: str, access: int) -> bool:
        """Allow ``access`` beneath ``path``; False when the path does not exist."""
        try:
            path_fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not stat.S_ISDIR(os.fstat(path_fd).st_mode):
                access &= _FILE_ONLY
            attr = struct.pack("<Qi", access & self.handled_fs, path_fd)
            if _syscall(_ADD_RULE, self.fd, _RULE_PATH_BENEATH, ctypes.c_char_p(attr), 0):
                raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}) failed")
        finally:
            os.close(path_fd)
        return True

    def restrict_self(self) -> None:
        """Enforce the ruleset on the calling process (needs no_new_privs). Irreversible."""
        if _prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _syscall(_RESTRICT_SELF, self.fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")

    def close(self) -> None:
        os.close(self.fd)


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def expand_allowed(roots: Iterable[str], denied: Sequence[str]) -> list[str]:
    """Split allowed roots so that no denied path lies beneath any of them.

    Landlock cannot carve an exception out of an allowed directory, so a root that contains a
    denied path (say the stdlib containing site-packages/python_env) is replaced by its children,
    recursively, leaving the denied branches out.
    """
    real_denied = [os.path.realpath(d) for d in denied]
    result: list[str] = []
    for root in roots:
        real = os.path.realpath(root)
        if not os.path.exists(real) or any(_beneath(real, d) for d in real_denied):
            continue
        if not any(_beneath(d, real) for d in real_denied):
            result.append(real)
        elif os.path.isdir(real):
            try:
                children = sorted(os.listdir(real))
            except OSError:
                continue
            result += expand_allowed([os.path.join(real, c) for c in children], real_denied)
    return sorted(set(result))
