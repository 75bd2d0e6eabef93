"""Hidden tests are cheap: the baseline knows each test's CPU time, and a task's hidden suite
leaves out an expensive passing test (the environment runs the hidden tests at every graded
submit). On the tiny project of ``test_repo_build``, with one slow test added."""

from __future__ import annotations

import random

import pytest

from python_env.sandbox import Executor
from python_env.tasks.repos import hidden
from python_env.tasks.repos.build import ProjectBuilder
from python_env.tasks.repos.suite import Layout, run_baseline
from python_env.tasks.workspace import Workspace
from tests.tasks.test_repo_build import FILES, TEST_OPS, project

SLOW = "tests/test_ops.py::test_slow"
# ~40 ms of CPU here, and passes whatever bug is injected into calc (it calls none of it).
SLOW_FILES = {
    **FILES,
    "tests/test_ops.py": TEST_OPS
    + "\n\ndef test_slow():\n    assert sum(i % 7 for i in range(1_500_000)) == 4499995\n",
}
THRESHOLD = 5.0  # ms: the other tests take under 1 ms, the slow one ~40 ms (a margin both ways)


def test_the_baseline_keeps_each_tests_cpu_time(executors: tuple[Executor, Executor]) -> None:
    baseline = run_baseline(Layout.of(project()), SLOW_FILES, executors, threads=2)
    assert set(baseline.test_cpu_ms) == set(baseline.outcomes)
    others = [ms for test, ms in baseline.test_cpu_ms.items() if test != SLOW]
    assert baseline.test_cpu_ms[SLOW] >= THRESHOLD > max(others) >= min(others) >= 0


@pytest.mark.parametrize("limit", [THRESHOLD, float("inf")])
def test_hidden_suites_leave_out_an_expensive_passing_test(
    executors: tuple[Executor, Executor], monkeypatch: pytest.MonkeyPatch, limit: float
) -> None:
    """With no limit (the control), the slow test is drawn into some hidden suite."""
    monkeypatch.setattr(hidden, "MAX_TEST_CPU_MS", limit)
    builder = ProjectBuilder(executors, seed=7, threads=2, max_tasks=6)
    tasks = builder.build(project(), Workspace(SLOW_FILES)).tasks
    assert tasks and all(SLOW not in t.fail_to_pass for t in tasks)
    assert any(SLOW in t.hidden_tests for t in tasks) is (limit == float("inf"))
    for task in tasks:  # cheap passing tests still guard against breaking the rest
        assert set(task.hidden_tests) - set(task.fail_to_pass)


def test_failing_tests_come_cheap_first_and_passing_ones_are_a_cheap_sample() -> None:
    cost = {"f1": 1.0, "f2": 40.0, "f3": 60.0, **{f"p{k}": 20.0 for k in range(8)}, "px": 30.0}
    for seed in range(20):
        failing = hidden.cheap_first(["f1", "f2", "f3"], cost, random.Random(seed), 2)
        assert failing[0] == "f1" and len(failing) == 2 and failing[1] in {"f2", "f3"}
        assert hidden.cheap_first(["f3", "f1"], cost, random.Random(seed), 30) == ["f1", "f3"]
        passing = [f"p{k}" for k in range(8)] + ["px"]
        picked = hidden.cheap_sample(passing, cost, random.Random(seed), 3)
        assert len(picked) == 3 and "px" not in picked  # px is over the line
        assert len(hidden.cheap_sample(passing, cost, random.Random(seed), 10)) == 8


def test_costs_that_move_without_crossing_the_line_change_no_draw() -> None:
    """Another build measures other costs: the same tests must come out, so that a rebuild on
    another machine gives the same tasks."""
    tests = [f"t{k}" for k in range(40)]
    noise = random.Random(1)
    for seed in range(30):
        cost = {t: noise.uniform(0.1, 20.0) for t in tests} | {"t7": 80.0, "t9": 60.0}
        again = {t: ms * noise.uniform(0.5, 1.2) for t, ms in cost.items()}
        for draw in (hidden.cheap_sample, hidden.cheap_first):
            one = draw(tests, cost, random.Random(seed), 10)
            assert one == draw(tests, again, random.Random(seed), 10)
