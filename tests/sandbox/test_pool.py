"""The queue in front of the workers: saturation is queueing, a stalled pool is an error."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

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
