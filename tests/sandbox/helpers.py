"""Helpers for the sandbox tests: run an attack while a bystander session keeps working."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from typing import Any

from python_env.grading.tests import grade_suite, repair_score
from python_env.sandbox import ForkServerExecutor, Job, Limits
from python_env.types import ExecReport, ExitReason, Suite, TestScore

ATTACK_LIMITS = Limits(cpu_seconds=1, wall_seconds=4, memory_mb=256, output_bytes=4000,
                       file_size_mb=4, open_files=64, processes=16)  # fmt: skip
BENIGN = Job(
    solution="def double(x):\n    return 2 * x\n",
    tests="from solution import double\n\n"
    "def test_double():\n    return [double(i) for i in range(5)]\n",
)
BENIGN_VALUE = [0, 2, 4, 6, 8]


def run(executor: ForkServerExecutor, *tests: str, solution: str = "", **limits: Any) -> ExecReport:
    """Run the test source made of ``tests`` (concatenated) with the attack limits."""
    limits_ = replace(ATTACK_LIMITS, **limits)
    return executor.run(Job(solution=solution, tests="".join(tests), limits=limits_))


def attack(
    executor: ForkServerExecutor, *tests: str, solution: str = "", **limits: Any
) -> ExecReport:
    """Run a hostile job while another session runs benign jobs; they must all stay correct."""
    stop = threading.Event()
    seen: list[ExecReport | BaseException] = []

    def bystander() -> None:
        while not stop.is_set():
            try:
                seen.append(executor.run(BENIGN))
            except BaseException as exc:  # reported below
                seen.append(exc)

    workers = executor.worker_pids()
    retired = settled(executor)["retired_total"]
    thread = threading.Thread(target=bystander)
    thread.start()
    try:
        report = run(executor, *tests, solution=solution, **limits)
    finally:
        stop.set()
        thread.join()
    assert seen, "the bystander session never got to run"
    for other in seen:
        assert isinstance(other, ExecReport), f"bystander failed: {other!r}"
        assert other.exit_reason is ExitReason.OK, other
        assert other.outcome("test_double") is not None
        assert other.outcome("test_double").value == BENIGN_VALUE  # type: ignore[union-attr]
    assert settled(executor)["retired_total"] == retired, "a worker was retired after the attack"
    assert sorted(executor.worker_pids()) == sorted(workers), "a worker died during the attack"
    return report


def value(report: ExecReport, name: str) -> object:
    outcome = report.outcome(name)
    assert outcome is not None, f"{name} did not run: {report}"
    return outcome.value


def settled(executor: ForkServerExecutor) -> dict[str, Any]:
    """The pool once no worker runs a job or cleans up after one (a worker answers at its job's
    last word and is back in the pool only after its clean-up)."""
    deadline = time.monotonic() + 30
    while (pool := executor.health())["busy"] or pool["settling"]:
        assert time.monotonic() < deadline, f"the workers never settled: {pool}"
        time.sleep(0.005)
    return pool


def comm_outlived(executor: ForkServerExecutor, token: str) -> list[int]:
    """PIDs named ``token`` still alive once every worker is back in the pool."""
    settled(executor)
    return comm_alive(token)


def comm_alive(token: str) -> list[int]:
    """PIDs (host view) whose command name is ``token``: processes a job tried to leave behind."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == token:
                        found.append(int(entry))
            except OSError:
                continue
    return found


# A tiny task for "faking a pass" attacks: the candidate is wrong, so it must score 0.
FIX = "def double(x):\n    return 2 * x\n"
BUGGY = "def double(x):\n    return x + x if x < 10 else x\n"
HIDDEN = (
    "from solution import double\n\n"
    "def test_small():\n    return double(3)\n\n"
    "def test_large():\n    return double(50)\n\n"
    "def test_many():\n    return [double(i) for i in range(8, 14)]\n"
)


def grade(executor: ForkServerExecutor, candidate: ExecReport) -> TestScore:
    reference = executor.run(Job(solution=FIX, tests=HIDDEN))
    original = executor.run(Job(solution=BUGGY, tests=HIDDEN))
    return repair_score(grade_suite(Suite.HIDDEN, candidate, reference, original))
