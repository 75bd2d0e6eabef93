"""How the worker forks a job's child: without CPython's at-fork work where it does nothing.

``os.fork()`` runs every hook registered with ``os.register_at_fork``. In a preloaded worker the
standard library's (threading, random, logging) cost each job's child ~190 copy-on-write page
faults, and in a single-threaded worker none of them does anything a job could see:

- threading, logging and concurrent.futures re-create locks that only another thread could hold;
- random reseeds itself, and the harness reseeds it before any of a job's code runs.

The rest of CPython's work after a fork resets state another thread holds (the GIL, the import
lock, other threads' states) or clears the flags of signals whose Python handler has not run
yet. So ``Forker.fork`` calls libc's fork, with the GIL held as ``os.fork`` holds it and after
the same ``os.fork`` audit event, when at that moment:

- the interpreter is the CPython whose standard library was audited (``REGISTRANTS``);
- before recording began only that library and the sandbox's own modules were loaded, and no
  module has been imported since recording last stopped;
- every hook recorded is one of the audited ones;
- the process has one thread and no Python-level signal handler (the worker sets SIGINT's
  aside, and gives jobs back the disposition it started with).

Otherwise it calls ``os.fork``, which runs them all. Standard library only: the worker loads it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import posix
import signal
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

AUDITED = ("cpython", (3, 11))
# What registers at-fork hooks in that standard library (a test greps it), and its hooks.
REGISTRANTS: dict[str, Callable[[Any], list[object]]] = {
    "concurrent.futures.thread": lambda m: [
        m._global_shutdown_lock.acquire,
        m._global_shutdown_lock._at_fork_reinit,
        m._global_shutdown_lock.release,
    ],
    "logging": lambda m: [m._acquireLock, m._after_at_fork_child_reinit_locks, m._releaseLock],
    "random": lambda m: [m._inst.seed],
    "threading": lambda m: [m._after_fork],
}
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB_DIR = os.path.dirname(os.__file__)
_INSTALLED = tuple(os.path.join(_STDLIB_DIR, name) for name in ("site-packages", "dist-packages"))
_UNCATCHABLE = {signal.SIGKILL, signal.SIGSTOP}
# _signal's own: signal.getsignal wraps each answer in an enum, which takes 10x as long
_getsignal: Callable[[int], object] = importlib.import_module("_signal").getsignal
_libc_fork = ctypes.PyDLL(None, use_errno=True).fork  # PyDLL: the GIL stays held across it


class Forker:
    """Forks the worker's job children; records the at-fork hooks of what the worker imports."""

    def __init__(self) -> None:
        self._why_not = _unaudited()
        self._imports: tuple[int, str] | None = None  # sys.modules when recording last stopped
        self._signals = [s for s in signal.valid_signals() if s not in _UNCATCHABLE]
        # CPython's own SIGINT handler would break the last rule: set aside in the worker (where
        # SIGINT now ends it), given back to each job's child by ``restore_sigint``.
        self._sigint = signal.signal(signal.SIGINT, signal.SIG_DFL)

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Wrap imports in this: it records the at-fork hooks they register."""
        original = os.register_at_fork

        def register(**hooks: Any) -> None:
            original(**hooks)
            for hook in hooks.values():
                if hook is not None and not self._why_not and not _audited(hook):
                    self._why_not = f"an at-fork hook of another module: {hook!r}"[:200]

        os.register_at_fork = posix.register_at_fork = register
        try:
            yield
        finally:
            os.register_at_fork = posix.register_at_fork = original
            self._imports = _imports()

    def why_not(self) -> str:
        """Why the next fork would run CPython's at-fork work ("" if it would not)."""
        if self._why_not:
            return self._why_not
        if self._imports is None:
            return "no import was recorded yet"
        if self._imports != _imports():
            return "a module was imported while no hook was recorded"
        try:
            threads = os.stat("/proc/self/task").st_nlink - 2  # procfs: 2 + the thread count
        except OSError as exc:
            return f"the thread count is unknown: {exc.strerror}"
        if threads != 1:
            return f"{threads} threads"
        if any(map(callable, map(_getsignal, self._signals))):
            handled = [s for s in self._signals if callable(_getsignal(s))]
            return f"a Python handler for signal {handled[0]}"
        return ""

    def restore_sigint(self) -> None:
        """In a job's child: SIGINT as the worker found it (KeyboardInterrupt, usually)."""
        if self._sigint is not None:
            signal.signal(signal.SIGINT, self._sigint)

    def describe(self) -> str:
        """How the next fork would go: "libc", or "os.fork" and why."""
        why = self.why_not()
        return f"os.fork: {why}" if why else "libc"

    def fork(self) -> int:
        """Fork; 0 in the child, the child's pid in the parent, as ``os.fork``."""
        if self.why_not():
            return os.fork()
        sys.audit("os.fork")
        pid = int(_libc_fork())
        if pid < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))  # the subclass os.fork raises (BlockingIOError…)
        return pid


def _imports() -> tuple[int, str]:
    """A fingerprint of sys.modules that any import changes (a new name goes at its end)."""
    return len(sys.modules), next(reversed(sys.modules))


def _unaudited() -> str:
    """Why hooks registered before recording began may be unknown ("" if they are not)."""
    if (sys.implementation.name, sys.version_info[:2]) != AUDITED:
        return f"at-fork hooks are audited for CPython 3.11, not {sys.version.split()[0]}"
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path:
            continue  # built in, or frozen
        if path.startswith(_INSTALLED) or not path.startswith((_STDLIB_DIR + os.sep, _OWN_DIR)):
            return f"{name} was loaded before recording began"
    return ""


def _audited(hook: object) -> bool:
    """Whether ``hook`` is one the audited registrants registered: the same function, or the
    same method of the same object (compared by identity: ``==`` is the hook's to define)."""
    for name, hooks_of in REGISTRANTS.items():
        module = sys.modules.get(name)
        try:
            known_hooks = hooks_of(module) if module is not None else []
        except AttributeError:  # not the module that was audited: its hooks are unknown
            continue
        for known in known_hooks:
            if hook is known or _same_method(hook, known):
                return True
    return False


def _same_method(hook: object, known: object) -> bool:
    # Neither method type can be subclassed, so isinstance() is an exact type check here.
    if isinstance(hook, types.MethodType) and isinstance(known, types.MethodType):
        return hook.__self__ is known.__self__ and hook.__func__ is known.__func__
    if isinstance(hook, types.BuiltinMethodType) and isinstance(known, types.BuiltinMethodType):
        return hook.__self__ is known.__self__ and hook.__name__ == known.__name__
    return False
