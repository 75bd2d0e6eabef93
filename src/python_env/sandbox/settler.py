"""Reads each sandbox worker's clean-up notice off the callers' path.

A worker replies at its job's last word and cleans up after it (reaps the child, kills what the
job left, empties its slot), then sends a notice. Until that notice is read the worker is busy:
one thread here waits for the notices of every worker that replied, and hands each back to the
pool, or has it retired (a slot it could not restore, a notice that is late or malformed). No
caller waits for another job's clean-up, and a tainted worker leaves the pool at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
import time
from collections.abc import Callable
from typing import Any

from python_env.sandbox.handle import WorkerFailure, WorkerHandle

log = logging.getLogger("python_env.sandbox")


class Settler:
    """One thread that settles workers: ``settled(worker, notice)`` or ``failed(worker, why)``."""

    def __init__(
        self,
        settled: Callable[[WorkerHandle, dict[str, Any]], None],
        failed: Callable[[WorkerHandle, str], None],
        timeout_s: float,
    ) -> None:
        self._settled, self._failed, self._timeout_s = settled, failed, timeout_s
        self._lock = threading.Lock()
        self._added: list[WorkerHandle] = []
        self._closed = False
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._deadlines: dict[WorkerHandle, float] = {}
        self._thread = threading.Thread(target=self._run, name="sandbox-settler", daemon=True)
        self._thread.start()

    def add(self, worker: WorkerHandle) -> None:
        """A worker that replied: settle it once its notice arrives (within the timeout). After
        ``close`` it is left alone: its executor is stopping every worker."""
        with self._lock:
            if self._closed:
                return
            self._added.append(worker)
            with contextlib.suppress(BlockingIOError):  # a full pipe wakes the thread anyway
                os.write(self._wake_w, b".")

    def close(self) -> None:
        """Stop the thread (it closes its own descriptors as it ends)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b".")
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._closed:
                try:
                    self._turn()
                except Exception:  # one worker's trouble must not leave every other one busy
                    log.exception("the sandbox settler hit an error; going on")
        finally:
            with self._lock:
                self._selector.close()
                for fd in (self._wake_r, self._wake_w):
                    os.close(fd)

    def _turn(self) -> None:
        """Wait for notices, the next deadline or new workers; settle what arrived."""
        now = time.monotonic()
        wait = min(self._deadlines.values(), default=now + 1.0) - now
        for key, _ in self._selector.select(max(0.0, wait)):
            if key.data is None:
                os.read(self._wake_r, 4096)
            else:
                self._forget(key.data)
                self._settle(key.data)
        with self._lock:
            added, self._added = self._added, []
        for worker in added:
            try:
                self._selector.register(worker.sock, selectors.EVENT_READ, worker)
            except (ValueError, KeyError, OSError) as exc:  # its socket is closed already
                self._call(self._failed, worker, f"cannot wait for its clean-up notice: {exc}")
                continue
            self._deadlines[worker] = time.monotonic() + self._timeout_s
        now = time.monotonic()
        for worker in [w for w, at in self._deadlines.items() if at <= now]:
            self._forget(worker)
            late = f"no clean-up notice within {self._timeout_s:g}s of its reply"
            self._call(self._failed, worker, late)

    def _forget(self, worker: WorkerHandle) -> None:
        del self._deadlines[worker]
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(worker.sock)

    def _settle(self, worker: WorkerHandle) -> None:
        try:
            notice = worker.settle()
        except WorkerFailure as exc:
            self._call(self._failed, worker, str(exc))
        except Exception as exc:  # a notice that breaks the parser (deep JSON) is a failure too
            self._call(self._failed, worker, f"unusable clean-up notice: {exc!r}"[:500])
        else:
            self._call(self._settled, worker, notice)

    @staticmethod
    def _call(
        callback: Callable[[WorkerHandle, Any], None], worker: WorkerHandle, arg: Any
    ) -> None:
        try:  # this thread must outlive any one worker's trouble, or every worker stays busy
            callback(worker, arg)
        except Exception:
            log.exception("settling sandbox worker %d failed", worker.slot)
