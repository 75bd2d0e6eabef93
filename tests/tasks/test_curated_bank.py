"""Every curated task is valid (docs/task-format.md): fix passes, bug is caught, spans exist."""

from __future__ import annotations

from collections import Counter

import pytest

from python_env.environment.task_runner import TaskRunner
from python_env.sandbox import SubprocessExecutor
from python_env.tasks.catalog import default_catalog
from python_env.types import Category, Difficulty, ExitReason, Suite, Task, TaskKind
from python_env.types import TestStatus as Status

TASKS = default_catalog().infos("curated")


@pytest.fixture(scope="module")
def grader() -> TaskRunner:
    return TaskRunner(SubprocessExecutor())  # trusted task code only


def task(task_id: str) -> Task:
    return default_catalog().get(task_id)


def test_bank_size_and_coverage() -> None:
    assert len(TASKS) >= 30
    assert {c for t in TASKS for c in t.categories} == set(Category)
    assert {k for t in TASKS for k in t.kinds} == set(TaskKind)
    assert Counter(t.difficulty for t in TASKS).keys() == set(Difficulty)


@pytest.mark.parametrize("task_id", [t.id for t in TASKS])
def test_task_is_valid(task_id: str, grader: TaskRunner) -> None:
    t = task(task_id)
    lines = t.code.splitlines()
    for issue in t.issues:
        assert 1 <= issue.start_line <= issue.end_line <= len(lines), issue.id
        assert any(lines[i - 1].strip() for i in range(issue.start_line, issue.end_line + 1))
    assert len({i.id for i in t.issues}) == len(t.issues)
    compile(t.code, "code.py", "exec")
    compile(t.fix, "fix.py", "exec")

    hidden = grader.run_tests(t, t.fix, Suite.HIDDEN)
    visible = grader.run_tests(t, t.fix, Suite.VISIBLE)
    assert hidden.report.failed == 0 and visible.report.failed == 0
    assert hidden.report.exit_reason is ExitReason.OK
    assert len(hidden.report.verdicts) >= 3
    reference = grader.executor.run(grader.job(t, t.fix, Suite.HIDDEN))  # a second, uncached run
    for outcome in reference.outcomes:
        assert outcome.status is Status.RETURNED and outcome.value is not None, outcome.name
    assert reference.outcomes == grader.prepare(t).reference[Suite.HIDDEN].outcomes

    original = grader.run_tests(t, t.code, Suite.HIDDEN)
    has_bug = any(i.category is Category.BUG for i in t.issues)
    if t.has(TaskKind.REPAIR) or has_bug:
        assert original.report.failed >= 1, "the original code must fail a hidden test"
    if t.has(TaskKind.REPAIR):
        assert grader.run_tests(t, t.code, Suite.VISIBLE).report.failed >= 1
    if t.has(TaskKind.OPTIMIZE):
        assert original.report.failed == 0, "optimize tasks start from correct code"
        perf = hidden.performance
        assert perf is not None and perf.reference_cost * 3 <= perf.baseline_cost
        assert perf.score == 1.0
