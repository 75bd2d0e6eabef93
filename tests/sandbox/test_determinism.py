"""The same code, graded alone or among 16 busy sessions, gets the same verdicts every time."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from python_env.grading.tests import grade_suite
from python_env.sandbox import ForkServerExecutor, Job
from python_env.tasks.curated import load_curated
from python_env.types import Suite, Task

RUNS = 100  # the buggy repair candidate: graded 100 times alone, 100 times among 16 sessions
BENCH_RUNS = 20  # the optimize candidate, whose traced benchmark makes each run ~30 ms
SESSIONS = 16

Verdict = tuple[tuple[tuple[str, bool], ...], str, int | None]


def _tasks() -> dict[str, Task]:
    tasks = {t.id: t for t in load_curated()}
    if not tasks:
        pytest.skip("no curated tasks")
    return tasks


def _grader(executor: ForkServerExecutor, task: Task, code: str) -> Callable[[], Verdict]:
    """A function grading ``code`` on the task's hidden tests (benchmark included)."""

    def job(solution: str) -> Job:
        return Job(solution=solution, tests=task.hidden_tests, benchmark=task.benchmark)

    reference, original = executor.run(job(task.fix)), executor.run(job(task.code))

    def grade() -> Verdict:
        report = executor.run(job(code))
        graded = grade_suite(Suite.HIDDEN, report, reference, original)
        return tuple((v.name, v.passed) for v in graded.verdicts), report.exit_reason, report.cost

    return grade


def test_verdicts_do_not_depend_on_load(executor: ForkServerExecutor) -> None:
    tasks = _tasks()
    # A buggy repair (some tests pass, some fail) and a slow-but-correct optimize candidate.
    repair = tasks.get("token-bucket-refill") or next(
        t for t in tasks.values() if "repair" in t.info.kinds and not t.benchmark
    )
    optimize = next((t for t in sorted(tasks.values(), key=lambda t: t.id) if t.benchmark), repair)
    graders = [_grader(executor, repair, repair.code), _grader(executor, optimize, optimize.code)]
    runs = [RUNS, BENCH_RUNS]
    alone = [[grade() for _ in range(n)] for grade, n in zip(graders, runs, strict=True)]
    for verdicts in alone:
        assert len(set(verdicts)) == 1, "verdicts vary even without load"
    first = alone[0][0]
    assert any(passed for _, passed in first[0]) and not all(passed for _, passed in first[0])

    busy: list[list[Verdict]] = [[] for _ in graders]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def session(index: int) -> None:
        grade = graders[index % len(graders)]
        try:
            while True:
                with lock:
                    if len(busy[index % len(graders)]) >= runs[index % len(graders)]:
                        return
                verdict = grade()
                with lock:
                    busy[index % len(graders)].append(verdict)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for verdicts, expected, n in zip(busy, alone, runs, strict=True):
        assert len(verdicts) >= n
        assert set(verdicts) == {expected[0]}


def test_workers_hash_with_the_configured_seed(executor: ForkServerExecutor) -> None:
    """Every worker of an executor hashes strings alike (PYTHONHASHSEED reaches them: ``-I``
    would ignore it), so set order, and the verdicts that follow it, is the same on all."""
    probe = Job(solution="", tests="def test_hash():\n    return hash('abc')\n")
    seen = {executor.run(probe).outcomes[0].value for _ in range(3 * executor.pool_size)}
    seeded = subprocess.run(
        [sys.executable, "-c", "print(hash('abc'))"],
        env={"PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen == {int(seeded.stdout)}
