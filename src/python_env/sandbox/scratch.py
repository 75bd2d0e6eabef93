"""The fork-server's scratch root: one directory under TMPDIR per executor.

It holds the workers' slot directories, their logs and the code bubblewrap shows them. The
executor holds an flock on its ``.owner`` file while it lives, so a root whose executor died
without ``close()`` can be told apart from a live one and removed at the next start.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import tempfile
from pathlib import Path

from python_env.errors import SandboxError
from python_env.sandbox import fstree

log = logging.getLogger("python_env.sandbox")

SCRATCH_PREFIX = "pyenv-sandbox-"  # + random: no job learns the server's pid from its cwd
OWNER_LOCK = ".owner"  # flock'ed while the executor lives: an unlocked root is stale
SCRATCH_MODE = 0o755  # spare-uid jobs pass through it to their own slot


class ScratchRoot:
    """A fresh root, locked for as long as this object is not released."""

    def __init__(self, spare_uids: bool) -> None:
        """Create it (mode ``SCRATCH_MODE``, with its ``code`` directory); with ``spare_uids``
        check that jobs running as other uids can reach it."""
        self._owner = -1
        self._released = False
        self.path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        try:
            self._owner = os.open(os.path.join(self.path, OWNER_LOCK), os.O_CREAT | os.O_RDWR)
            fcntl.flock(self._owner, fcntl.LOCK_EX)
            os.chmod(self.path, SCRATCH_MODE)
            os.mkdir(os.path.join(self.path, "code"))
            if spare_uids:
                _check_searchable(self.path)
        except BaseException:  # no half-made root is left behind (nor its lock)
            self.release()
            raise

    def check(self) -> None:
        """Jobs cannot change the root (another uid, or read-only); verify anyway."""
        st = os.lstat(self.path)
        if st.st_uid != os.geteuid() or st.st_mode & 0o7777 != SCRATCH_MODE:
            log.error("sandbox scratch root %s was changed (uid %d, mode %o); restoring its mode",
                      self.path, st.st_uid, st.st_mode & 0o7777)  # fmt: skip
            os.chmod(self.path, SCRATCH_MODE)

    def release(self) -> None:
        """Remove the root (an error is logged, not raised) and drop the lock; once."""
        if self._released:
            return
        self._released = True
        try:
            fstree.remove_tree(self.path)
        except OSError as exc:
            log.error("cannot remove sandbox scratch %s: %s", self.path, exc)
        if self._owner >= 0:
            os.close(self._owner)


def remove_stale() -> list[str]:
    """Remove the scratch roots of executors whose process died without close().

    A root is live while its owner holds the flock on its ``.owner`` file. Whatever a job left
    in a stale root cannot make this raise: failures are logged and the root is left alone.
    """
    removed = []
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not name.startswith(SCRATCH_PREFIX) or not _stale(path):
            continue
        try:
            fstree.remove_tree(path)
            removed.append(path)
        except OSError as exc:
            log.error("cannot remove stale sandbox scratch %s: %s", path, exc)
    return removed


def _stale(path: str) -> bool:
    try:
        fd = os.open(os.path.join(path, OWNER_LOCK), os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False  # not a scratch root of ours (the uid lock directory, say)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _check_searchable(scratch_root: str) -> None:
    """Jobs run as spare uids and open their files by absolute path (pytest does): each
    directory above the scratch root must let others through, or such jobs cannot start."""
    above = os.path.dirname(scratch_root)
    for directory in (above, *(str(p) for p in Path(above).parents)):
        if not os.stat(directory).st_mode & stat.S_IXOTH:
            raise SandboxError(
                f"{directory} (above the sandbox scratch, in TMPDIR) lets only its owner "
                f"through, so jobs could not reach their files: chmod o+x {directory}, or "
                "set TMPDIR to a directory others can search, such as /tmp"
            )
