"""The queue in front of the sandbox workers: first come, first served, waiting while it moves.

Saturation is queueing, not failure. A job waits for an idle worker for as long as the pool makes
progress: as long as some worker finishes a job, is replaced, or still runs a job inside that
job's own deadline (its wall limit plus the reply grace), the queue drains and every waiter is
served in arrival order. Only a pool that stalls (no live worker able to finish anything within
``stall_timeout_s``) raises ``ExecutorOverloaded``, and a queue longer than ``max_queued`` is
refused at once: both are executor faults, never verdicts.

Threads wait in ``acquire``; coroutines in ``acquire_async``, on their event loop, in the same
queue. A worker that frees up is handed to the first waiter at once (``_hand_out``), whichever
kind it is, so neither kind can overtake the other.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from python_env.errors import ExecutorOverloaded, SandboxError


class PooledWorker(Protocol):
    """What the pool needs of a worker handle."""

    slot: int
    generation: int


@dataclass
class _SlotRecord:
    generation: int = 0
    jobs: int = 0
    state: str = "starting"  # starting, idle, busy, settling (cleaning up after a job), retired
    deadline: float = 0.0  # monotonic deadline of the job it runs or its clean-up
    retired: int = 0
    last_problem: str = ""


class _Waiter:
    """One queued job; ``worker`` is set (under the pool's lock) when it is handed one."""

    __slots__ = ("hold_s", "loop", "woken", "worker")

    def __init__(self, hold_s: float, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.hold_s = hold_s
        self.worker: Any = None
        self.loop = loop  # None: a thread, woken through the pool's condition
        self.woken: asyncio.Future[None] | None = None  # what a coroutine awaits now

    def wake(self) -> bool:
        """Called under the pool's lock, from any thread; False when the waiter's loop is
        closed (nobody is left to take a worker). A coroutine not parked yet (its ``woken``
        still None) looks at ``worker`` before it parks."""
        if self.loop is None or self.woken is None:
            return True
        if asyncio._get_running_loop() is self.loop:  # its own thread: no self-pipe write
            self.loop.call_soon(self._woken)
            return True
        try:
            self.loop.call_soon_threadsafe(self._woken)
        except RuntimeError:  # its loop is closed
            return False
        return True

    def _woken(self) -> None:
        if self.woken is not None and not self.woken.done():
            self.woken.set_result(None)


@dataclass
class WorkerPool:
    """Idle workers handed out in arrival order; thread-safe."""

    size: int
    stall_timeout_s: float = 60.0
    max_queued: int = 4096
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _idle: collections.deque[Any] = field(default_factory=collections.deque)
    _waiting: collections.deque[_Waiter] = field(default_factory=collections.deque)
    _slots: dict[int, _SlotRecord] = field(default_factory=dict)
    _progress: float = field(default_factory=time.monotonic)
    closed: bool = False

    def add(self, worker: PooledWorker) -> None:
        """A worker that just started (or was replaced) joins the idle set."""
        with self._cond:
            record = self._slots.setdefault(worker.slot, _SlotRecord())
            record.generation, record.state = worker.generation, "idle"
            self._idle.append(worker)
            self._moved()

    def acquire(self, hold_s: float) -> Any:
        """The next idle worker for a job that may hold it ``hold_s`` seconds; FIFO."""
        with self._cond:
            waiter = self._enqueue(hold_s, None)
            try:
                while waiter.worker is None:
                    self._check_waiting()
                    self._cond.wait(min(self._stall_left(), 1.0))
            except BaseException:
                self._leave(waiter)
                raise
            return waiter.worker

    async def acquire_async(self, hold_s: float) -> Any:
        """``acquire`` for a coroutine: it waits on its event loop, in the same queue."""
        loop = asyncio.get_running_loop()
        with self._cond:
            waiter = self._enqueue(hold_s, loop)
        try:
            while True:
                with self._cond:
                    if waiter.worker is not None:
                        return waiter.worker
                    self._check_waiting()
                    wait = min(self._stall_left(), 1.0)
                    woken = waiter.woken = loop.create_future()
                await asyncio.wait((woken,), timeout=wait)
        except BaseException:  # cancelled too: a worker handed over meanwhile goes back
            with self._cond:
                self._leave(waiter)
            raise

    def _enqueue(self, hold_s: float, loop: asyncio.AbstractEventLoop | None) -> _Waiter:
        if (self._waiting or not self._idle) and len(self._waiting) >= self.max_queued:
            raise ExecutorOverloaded(f"{len(self._waiting)} sandbox jobs are queued already")
        if self.closed:
            raise SandboxError("the executor is closed")
        waiter = _Waiter(hold_s, loop)
        self._waiting.append(waiter)
        self._hand_out()
        return waiter

    def _check_waiting(self) -> None:
        """Raise if a waiter still without a worker should stop waiting."""
        if self.closed:
            raise SandboxError("the executor is closed")
        if self._stall_left() <= 0:
            raise ExecutorOverloaded(self._stall_message())

    def _leave(self, waiter: _Waiter) -> None:
        """A waiter gives up: out of the queue, and a worker it was handed goes back first."""
        if waiter.worker is not None:
            worker, waiter.worker = waiter.worker, None
            self._slots[worker.slot].state = "idle"
            self._idle.appendleft(worker)
        with contextlib.suppress(ValueError):
            self._waiting.remove(waiter)
        self._hand_out()

    def _hand_out(self) -> None:
        """Idle workers to the waiters at the head of the queue (under the lock)."""
        while self._idle and self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.wake():
                continue
            worker = self._idle.popleft()
            record = self._slots[worker.slot]
            record.state, record.deadline = "busy", time.monotonic() + waiter.hold_s
            waiter.worker = worker
        self._cond.notify_all()

    def outlook(self) -> tuple[bool, bool]:
        """(spare, queued): whether a worker is idle and nobody waits for one (a job's
        clean-up may then run after its answer, as no other job needs that worker at once),
        and whether jobs wait for a worker now."""
        with self._cond:
            return bool(self._idle) and not self._waiting, bool(self._waiting)

    def settling(self, worker: PooledWorker, within_s: float) -> None:
        """A worker answered its job and cleans up after it, for up to ``within_s`` seconds;
        then ``release`` (or ``retire``)."""
        with self._cond:
            record = self._slots[worker.slot]
            record.state, record.deadline = "settling", time.monotonic() + within_s

    def release(self, worker: PooledWorker) -> None:
        """A worker finished a job (and its clean-up) and may take another."""
        with self._cond:
            record = self._slots[worker.slot]
            record.jobs += 1
            record.state = "idle"
            self._idle.append(worker)
            self._moved()

    def retire(self, worker: PooledWorker, problem: str) -> None:
        """A worker left the pool (dead, wedged, or its slot could not be restored)."""
        with self._cond:
            record = self._slots.setdefault(worker.slot, _SlotRecord())
            if record.generation == worker.generation:
                record.state = "retired"
            record.retired += 1
            record.last_problem = problem[:300]
            if worker in self._idle:
                self._idle.remove(worker)
            self._wake_all()  # the stall clock may have run out for them

    def close(self) -> None:
        """Refuse new jobs and wake every waiter (they raise ``SandboxError``)."""
        with self._cond:
            self.closed = True
            self._wake_all()

    def snapshot(self) -> dict[str, Any]:
        """Live workers, queue depth and every slot's history, for /health."""
        with self._cond:
            live = self._live()
            return {
                "size": self.size,
                "live_workers": live,
                "busy": sum(r.state == "busy" for r in self._slots.values()),
                "settling": sum(r.state == "settling" for r in self._slots.values()),
                "queued": len(self._waiting),
                "retired_total": sum(r.retired for r in self._slots.values()),
                "workers": [
                    {"slot": slot, **dataclasses.asdict(r)}
                    for slot, r in sorted(self._slots.items())
                ],
                "serving": live > 0 and not self.closed,
            }

    def _wake_all(self) -> None:
        """Every waiter looks again at the pool (under the lock)."""
        self._cond.notify_all()
        for waiter in self._waiting:
            waiter.wake()

    def _moved(self) -> None:
        self._progress = time.monotonic()
        self._hand_out()

    def _stall_left(self) -> float:
        """Seconds until the pool counts as stalled; a job inside its deadline is progress."""
        now = time.monotonic()
        running = [r.deadline for r in self._slots.values() if r.state in ("busy", "settling")]
        horizon = max([self._progress + self.stall_timeout_s, *running])
        return horizon - now

    def _live(self) -> int:
        return sum(r.state in ("idle", "busy", "settling") for r in self._slots.values())

    def _stall_message(self) -> str:
        if not self._live():
            return "no sandbox worker is alive and none could be started; see the server log"
        return f"no sandbox worker became free within {self.stall_timeout_s:g}s"
