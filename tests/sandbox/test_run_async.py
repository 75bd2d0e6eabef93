"""``ForkServerExecutor.run_async``: jobs waited for on an event loop, which stays free, and
what happens to the worker when the waiting coroutine is cancelled."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from python_env.sandbox import ForkServerExecutor, Job, forkserver
from python_env.sandbox.forkserver import PARSE_ON_LOOP_MAX
from python_env.sandbox.handle import build_report
from python_env.types import ExecReport, ExitReason
from tests.sandbox.conftest import TIERS
from tests.sandbox.helpers import BENIGN, BENIGN_VALUE, value

STRONGEST = TIERS[0]


def test_run_async_leaves_the_event_loop_free() -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1)
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        job = Job(solution="", tests="import time\ndef test_wait():\n    time.sleep(0.5)\n")
        report = await ex.run_async(job)
        stop.set()
        await task
        assert report.exit_reason is ExitReason.OK

    try:
        asyncio.run(main())
    finally:
        ex.close()
    assert ticks > 10  # the loop kept running while the job slept


def test_a_run_async_cancelled_mid_job_costs_its_worker_and_nothing_else() -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, reply_grace_s=2)
    sleeper = Job(solution="", tests="import time\ndef test_wait():\n    time.sleep(5)\n")

    async def cancel_mid_job() -> ExecReport:
        running = asyncio.ensure_future(ex.run_async(sleeper))
        await asyncio.sleep(0.3)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        return await ex.run_async(BENIGN)  # waits for the replacement worker

    try:
        (old,) = ex.worker_pids()
        started = time.monotonic()
        assert value(asyncio.run(cancel_mid_job()), "test_double") == BENIGN_VALUE
        assert time.monotonic() - started < 4  # not after the sleeper's 5 s
        assert ex.worker_pids() != [old] and value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
        assert ex.health()["retired_total"] == 1
    finally:
        ex.close()


def test_run_async_parses_a_large_result_channel_off_the_event_loop(
    executor: ForkServerExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_in: list[str] = []

    def noted(*args: Any) -> ExecReport:
        parsed_in.append(threading.current_thread().name)
        return build_report(*args)

    monkeypatch.setattr(forkserver, "build_report", noted)
    small = Job(solution="", tests="def test_small():\n    return 'x'\n")
    large = Job(solution="", tests=f"def test_large():\n    return 'x' * {PARSE_ON_LOOP_MAX}\n")
    reports = [asyncio.run(executor.run_async(job)) for job in (small, large)]
    assert [value(r, n) for r, n in zip(reports, ("test_small", "test_large"), strict=True)] == [
        "x",
        "x" * PARSE_ON_LOOP_MAX,
    ]
    main = threading.current_thread().name
    assert parsed_in[0] == main and parsed_in[1] != main


def test_a_run_async_cancelled_while_its_report_waits_for_a_thread_keeps_its_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1)
    large = Job(solution="", tests=f"def test_large():\n    return 'x' * {PARSE_ON_LOOP_MAX}\n")
    waiting = asyncio.Event()

    async def no_thread_free(*args: Any) -> Any:  # every thread of the loop's executor busy
        waiting.set()
        await asyncio.Event().wait()

    async def cancel_while_parsing() -> None:
        running = asyncio.ensure_future(ex.run_async(large))
        async with asyncio.timeout(10):
            await waiting.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    monkeypatch.setattr(asyncio, "to_thread", no_thread_free)
    try:
        asyncio.run(cancel_while_parsing())
        monkeypatch.undo()
        assert ex.health()["busy"] == 0  # handed back before the parsing was queued
        assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE  # the same worker serves
        assert ex.health()["retired_total"] == 0
    finally:
        ex.close()
