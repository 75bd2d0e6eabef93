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
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._run, name="sandbox-settler", daemon=True)
        self._thread.start()

    def add(self, worker: WorkerHandle) -> None:
        """A worker that replied: settle it once its notice arrives (within the timeout)."""
        with self._lock:
            self._added.append(worker)
        with contextlib.suppress(BlockingIOError):  # a full pipe already wakes the thread
            os.write(self._wake_w, b".")

    def close(self) -> None:
        """Stop the thread; workers still cleaning up are stopped by their executor."""
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b".")
        self._thread.join(timeout=5)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        deadlines: dict[WorkerHandle, float] = {}
        while not self._closed:
            wait = min(deadlines.values(), default=time.monotonic() + 1) - time.monotonic()
            for key, _ in selector.select(max(0.0, wait)):
                if key.data is None:
                    os.read(self._wake_r, 4096)
                    continue
                worker: WorkerHandle = key.data
                selector.unregister(key.fileobj)
                del deadlines[worker]
                self._settle(worker)
            with self._lock:
                added, self._added = self._added, []
            for worker in added:
                deadlines[worker] = time.monotonic() + self._timeout_s
                selector.register(worker.sock, selectors.EVENT_READ, worker)
            now = time.monotonic()
            for worker in [w for w, at in deadlines.items() if at <= now]:
                selector.unregister(worker.sock)
                del deadlines[worker]
                late = f"no clean-up notice within {self._timeout_s:g}s of its reply"
                self._call(self._failed, worker, late)
        selector.close()

    def _settle(self, worker: WorkerHandle) -> None:
        try:
            notice = worker.settle()
        except WorkerFailure as exc:
            self._call(self._failed, worker, str(exc))
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
