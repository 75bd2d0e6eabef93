"""Removing what a job left on disk, whatever its shape. Standard library only.

A job may leave a tree deeper than the recursion limit or than PATH_MAX, directories without
read or write permission, and symlinks pointing anywhere. ``remove_tree`` walks it with one open
directory descriptor at a time (``openat`` down, ``..`` up), never follows a link and never
recurses, so nothing a job builds can make clean-up raise RecursionError or ENAMETOOLONG.
"""

from __future__ import annotations

import os
import stat

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str) -> None:
    """Remove ``path`` (a file, a link or a whole directory tree); raise OSError if it stays."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    parent = os.open(os.path.dirname(os.path.abspath(path)) or "/", _DIR_FLAGS)
    try:
        _remove_dir_at(parent, os.path.basename(os.path.abspath(path)))
    finally:
        os.close(parent)


def empty_dir(path: str, keep: tuple[str, ...] = ()) -> None:
    """Remove everything inside the directory ``path`` except the entries named in ``keep``."""
    fd = os.open(path, _DIR_FLAGS)
    try:
        for name, is_dir in _entries(fd):
            if name in keep:
                continue
            if is_dir:
                _remove_dir_at(fd, name)
            else:
                os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def _entries(fd: int) -> list[tuple[str, bool]]:
    with os.scandir(fd) as it:
        return [(e.name, e.is_dir(follow_symlinks=False)) for e in it]


def _open_dir(parent: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:  # a job made it unreadable; we own it (or may override)
        os.chmod(name, 0o700, dir_fd=parent, follow_symlinks=True)  # lstat said: a directory
        return os.open(name, _DIR_FLAGS, dir_fd=parent)


def _clear(fd: int) -> list[str]:
    """Unlink every non-directory in ``fd``; the names of its subdirectories."""
    subdirs = []
    for name, is_dir in _entries(fd):
        if is_dir:
            subdirs.append(name)
            continue
        try:
            os.unlink(name, dir_fd=fd)
        except PermissionError:  # a job took away write permission on a directory it owns
            os.fchmod(fd, 0o700)
            os.unlink(name, dir_fd=fd)
    return subdirs


def _remove_dir_at(top_parent: int, top: str) -> None:
    """Depth-first removal of ``top`` below the open directory ``top_parent``; iterative."""
    fd = _open_dir(top_parent, top)
    # One entry per level: (the directory's name in its parent, its subdirectories still to go).
    stack = [(top, _clear(fd))]
    try:
        while True:
            name, pending = stack[-1]
            if pending:
                sub = pending.pop()
                child = _open_dir(fd, sub)
                os.close(fd)
                fd = child
                stack.append((sub, _clear(fd)))
                continue
            stack.pop()
            if not stack:
                break
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            try:
                os.rmdir(name, dir_fd=fd)
            except PermissionError:
                os.fchmod(fd, 0o700)
                os.rmdir(name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(top, dir_fd=top_parent)
