"""The queue in front of the workers: saturation is queueing, a stalled pool is an error."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pytest

from python_env.errors import ExecutorOverloaded, SandboxError
from python_env.sandbox.pool import WorkerPool


@dataclass(eq=False)
class FakeWorker:
    slot: int
    generation: int = 1


def test_waiters_are_served_in_arrival_order() -> None:
    pool = WorkerPool(size=1, stall_timeout_s=5)
    worker = FakeWorker(0)
    pool.add(worker)
    assert pool.acquire(hold_s=5) is worker
    order: list[int] = []

    def wait_turn(index: int) -> None:
        got = pool.acquire(hold_s=5)
        order.append(index)
        pool.release(got)

    threads = []
    for index in range(5):
        threads.append(threading.Thread(target=wait_turn, args=(index,)))
        threads[-1].start()
        while pool.snapshot()["queued"] < index + 1:
            time.sleep(0.001)
    pool.release(worker)
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    assert pool.snapshot()["workers"][0]["jobs"] == 6


def test_a_busy_pool_within_its_deadlines_is_waited_for() -> None:
    """Finding 6: jobs behind long sleepers queue past the stall timeout instead of failing."""
    pool = WorkerPool(size=1, stall_timeout_s=0.05)
    worker = FakeWorker(0)
    pool.add(worker)
    pool.acquire(hold_s=10)  # a job that may legitimately hold the worker for 10 s
    threading.Timer(0.3, pool.release, args=(worker,)).start()
    started = time.monotonic()
    assert pool.acquire(hold_s=10) is worker
    assert time.monotonic() - started >= 0.25


def test_a_settling_worker_is_live_busy_and_progress_until_released_or_retired() -> None:
    """A worker cleaning up after its job (it answered already) is neither idle nor dead: the
    queue waits for it within its clean-up deadline, /health still counts it live."""
    pool = WorkerPool(size=1, stall_timeout_s=0.05)
    worker = FakeWorker(0)
    pool.add(worker)
    pool.acquire(hold_s=1)
    pool.settling(worker, within_s=10)
    snapshot = pool.snapshot()
    assert snapshot["serving"] and snapshot["live_workers"] == 1
    assert (snapshot["busy"], snapshot["settling"]) == (0, 1)
    threading.Timer(0.3, pool.release, args=(worker,)).start()
    started = time.monotonic()
    assert pool.acquire(hold_s=1) is worker  # waited past the stall timeout: it was settling
    assert time.monotonic() - started >= 0.25
    pool.settling(worker, within_s=10)
    pool.retire(worker, "could not restore its slot")
    snapshot = pool.snapshot()
    assert snapshot["live_workers"] == 0 and snapshot["settling"] == 0
    assert snapshot["workers"][0]["last_problem"] == "could not restore its slot"


def test_a_pool_without_live_workers_stalls_into_an_error() -> None:
    pool = WorkerPool(size=1, stall_timeout_s=0.1)
    worker = FakeWorker(0)
    pool.add(worker)
    pool.acquire(hold_s=1)
    pool.retire(worker, "killed by the test")
    with pytest.raises(ExecutorOverloaded, match="no sandbox worker is alive"):
        pool.acquire(hold_s=1)
    snapshot = pool.snapshot()
    assert not snapshot["serving"] and snapshot["live_workers"] == 0
    assert snapshot["retired_total"] == 1
    assert snapshot["workers"][0]["last_problem"] == "killed by the test"
    pool.add(FakeWorker(0, generation=2))  # its replacement
    assert pool.snapshot()["serving"] and pool.acquire(hold_s=1).generation == 2


def test_an_overlong_queue_is_refused_at_once() -> None:
    pool = WorkerPool(size=1, stall_timeout_s=5, max_queued=0)
    pool.add(FakeWorker(0))
    pool.acquire(hold_s=1)  # a free worker is taken at once
    with pytest.raises(ExecutorOverloaded, match="queued"):
        pool.acquire(hold_s=1)


def test_closing_wakes_every_waiter() -> None:
    pool = WorkerPool(size=1, stall_timeout_s=30)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            pool.acquire(hold_s=1)
        except SandboxError as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    while not pool.snapshot()["queued"]:
        time.sleep(0.001)
    pool.close()
    thread.join(timeout=5)
    assert len(errors) == 1 and "closed" in str(errors[0])


def _held_pool(stall_timeout_s: float = 5) -> tuple[WorkerPool, FakeWorker]:
    pool = WorkerPool(size=1, stall_timeout_s=stall_timeout_s)
    worker = FakeWorker(0)
    pool.add(worker)
    assert pool.acquire(hold_s=5) is worker
    return pool, worker


def test_threads_and_coroutines_wait_in_one_queue_in_arrival_order() -> None:
    pool, worker = _held_pool()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever)
    runner.start()
    order: list[int] = []

    def take_turn(index: int, got: FakeWorker) -> None:
        order.append(index)
        pool.release(got)

    async def coroutine_turn(index: int) -> None:
        take_turn(index, await pool.acquire_async(hold_s=5))

    waits: list[Any] = []
    try:
        for index in range(6):
            if index % 2:
                coro = coroutine_turn(index)
                waits.append(asyncio.run_coroutine_threadsafe(coro, loop))
            else:
                turn = threading.Thread(target=lambda i=index: take_turn(i, pool.acquire(5)))
                turn.start()
                waits.append(turn)
            while pool.snapshot()["queued"] < index + 1:
                time.sleep(0.001)
        pool.release(worker)
        for wait in waits:
            wait.result(timeout=5) if isinstance(wait, Future) else wait.join(timeout=5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        loop.close()
    assert order == [0, 1, 2, 3, 4, 5]
    assert pool.snapshot()["queued"] == 0 and pool.snapshot()["workers"][0]["jobs"] == 7


def test_a_cancelled_coroutine_hands_its_worker_to_the_next_waiter() -> None:
    pool, worker = _held_pool()

    async def main() -> None:
        first = asyncio.create_task(pool.acquire_async(hold_s=5))
        second = asyncio.create_task(pool.acquire_async(hold_s=5))
        while pool.snapshot()["queued"] < 2:
            await asyncio.sleep(0.001)
        pool.release(worker)  # handed to the first waiter, which is cancelled before it runs
        first.cancel()
        assert await asyncio.wait_for(second, 5) is worker
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(main())
    snapshot = pool.snapshot()
    assert (snapshot["queued"], snapshot["busy"]) == (0, 1)


def test_a_waiting_coroutine_is_woken_by_close_and_by_a_stall() -> None:
    async def close_soon() -> float:
        pool, _ = _held_pool(stall_timeout_s=30)
        asyncio.get_running_loop().call_later(0.05, pool.close)
        started = time.monotonic()
        with pytest.raises(SandboxError, match="closed"):
            await pool.acquire_async(hold_s=1)
        return time.monotonic() - started

    assert asyncio.run(close_soon()) < 0.5  # woken, not found by its once-a-second look

    async def stalled() -> None:
        pool, worker = _held_pool(stall_timeout_s=0.1)
        pool.retire(worker, "killed by the test")
        with pytest.raises(ExecutorOverloaded, match="no sandbox worker is alive"):
            await pool.acquire_async(hold_s=1)
        assert pool.snapshot()["queued"] == 0

    asyncio.run(stalled())


def test_a_coroutine_whose_loop_closed_is_passed_over() -> None:
    """A waiter whose event loop was closed under it (never cancelled) cannot take a worker:
    the worker goes to the next waiter instead of being lost."""
    pool, worker = _held_pool()
    loop = asyncio.new_event_loop()
    orphan = loop.create_task(pool.acquire_async(hold_s=5))
    loop.run_until_complete(asyncio.sleep(0.01))  # parked in the queue
    loop.close()
    assert pool.snapshot()["queued"] == 1
    pool.release(worker)
    assert pool.acquire(hold_s=5) is worker
    assert pool.snapshot()["queued"] == 0 and not orphan.done()
    orphan._log_destroy_pending = False  # left pending on purpose: no "destroyed" message
