"""How the worker forks a job's child: without CPython's at-fork hooks where they do nothing.

``os.fork()`` runs every hook registered with ``os.register_at_fork``. In a preloaded worker the
standard library's (threading, random, logging) cost each child ~190 copy-on-write page faults,
about a tenth of a graded job's CPU, and in a single-threaded worker none of them does anything
a job could see:

- threading, logging and concurrent.futures re-create locks that only another thread could hold;
- random reseeds itself, and the harness reseeds it before any of a job's code runs.

CPython's own reinitialisation after a fork (the GIL, the import lock, other threads' states) is
likewise only for state another thread holds. So ``Forker.fork`` calls libc's fork, with the GIL
held as ``os.fork`` holds it, when all of this holds at that moment, and ``os.fork`` otherwise:

- the interpreter is the CPython whose standard library was audited (``STDLIB_REGISTRANTS``);
- before recording began only that library and the sandbox's own modules were loaded, and no
  module has been imported since recording last stopped;
- every hook recorded meanwhile is one of theirs;
- the process has one thread, and no Python-level signal handler but CPython's SIGINT one.

Standard library only: the worker loads it by path.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

# What registers an at-fork hook in CPython 3.11's standard library (a test greps it).
AUDITED = ("cpython", (3, 11))
STDLIB_REGISTRANTS = ("concurrent.futures.thread", "logging", "random", "threading")
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB_DIR = os.path.dirname(os.__file__)
_libc_fork = ctypes.PyDLL(None, use_errno=True).fork  # PyDLL: the GIL stays held across it


class Forker:
    """Forks the worker's job children; records the at-fork hooks of what the worker imports."""

    def __init__(self) -> None:
        self._hooks: list[Callable[[], object]] = []
        self._why_not = _unaudited()
        self._modules = -1  # len(sys.modules) when recording last stopped; -1: never recorded

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Wrap imports in this: it records the at-fork hooks they register."""
        original = os.register_at_fork

        def register(**hooks: Any) -> None:
            original(**hooks)
            self._hooks.extend(hook for hook in hooks.values() if hook is not None)

        os.register_at_fork = register
        try:
            yield
        finally:
            os.register_at_fork = original
            self._modules = len(sys.modules)
            foreign = [hook for hook in self._hooks if hook not in _known_hooks()]
            if foreign and not self._why_not:
                self._why_not = f"an at-fork hook of another module: {foreign[0]!r}"[:300]

    def why_not(self) -> str:
        """Why the next fork would run the at-fork hooks ("" if it would not)."""
        if self._why_not:
            return self._why_not
        if self._modules != len(sys.modules):
            return "a module was imported while no hook was recorded"
        try:
            threads = os.stat("/proc/self/task").st_nlink - 2  # procfs: 2 + the thread count
        except OSError as exc:
            return f"the thread count is unknown: {exc.strerror}"
        if threads != 1:
            return f"{threads} threads"
        handlers = [s for s in signal.valid_signals() if _python_handler(s)]
        return f"a Python handler for signal {handlers[0]}" if handlers else ""

    def describe(self) -> str:
        """How the next fork would go: "libc", or "os.fork" and why."""
        why = self.why_not()
        return f"os.fork: {why}" if why else "libc"

    def fork(self) -> int:
        """Fork; 0 in the child, the child's pid in the parent, as ``os.fork``."""
        if self.why_not():
            return os.fork()
        pid = _libc_fork()
        if pid < 0:
            raise OSError(ctypes.get_errno(), "fork failed")
        return int(pid)


def _unaudited() -> str:
    """Why hooks registered before recording began may be unknown ("" if they are not)."""
    if (sys.implementation.name, sys.version_info[:2]) != AUDITED:
        return f"at-fork hooks are audited for CPython 3.11, not {sys.version.split()[0]}"
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and not path.startswith((_STDLIB_DIR + os.sep, _OWN_DIR + os.sep)):
            return f"{name} was loaded before recording began"
    return ""


def _known_hooks() -> list[object]:
    """The hooks the standard library's registrants registered, as far as they are loaded."""
    known: list[object] = []
    threading, random = sys.modules.get("threading"), sys.modules.get("random")
    logging = sys.modules.get("logging")
    executor = sys.modules.get("concurrent.futures.thread")
    if threading is not None:
        known.append(threading._after_fork)
    if random is not None:
        known.append(random._inst.seed)
    if logging is not None:
        known += [logging._acquireLock, logging._after_at_fork_child_reinit_locks]
        known.append(logging._releaseLock)
    if executor is not None:
        lock = executor._global_shutdown_lock
        known += [lock.acquire, lock._at_fork_reinit, lock.release]
    return known


def _python_handler(signum: int) -> bool:
    """Whether a Python function handles the signal: a delivery just before a fork would then
    be handled in the child as well. CPython's own SIGINT handler is let be: it raises
    KeyboardInterrupt, which ends such a child before it could take a job."""
    handler = signal.getsignal(signum)
    return callable(handler) and handler is not signal.default_int_handler
