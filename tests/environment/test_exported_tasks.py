"""Export/import round trip: built-in tasks exported to folders and served from there are
graded exactly as the built-in ones, for the same code and the same findings."""

from __future__ import annotations

from pathlib import Path

from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction
from python_env.environment.task_runner import TaskRunner
from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import TaskCatalog, default_catalog
from python_env.tasks.directory import load_task_root, write_task_dir
from python_env.types import Task

IDS = ("bill-split-lost-cents", "static-asset-path-traversal", "perf-anagram-grouping")


def _scores(runner: TaskRunner, catalog: TaskCatalog, task: Task) -> list[float]:
    env = PythonEnvironment(catalog, runner)
    scores = []
    findings = [reference_finding(task, issue) for issue in task.issues]
    for code, found in ((task.fix, findings), (task.code, findings[:1]), (task.code, [])):
        env.reset(task_id=task.id, seed=0)
        if found:
            env.step(CodeReviewAction(kind="review", findings=found))
        env.step(CodeReviewAction(kind="edit", code=code))
        evaluation = env.step(CodeReviewAction(kind="submit")).evaluation
        assert evaluation is not None
        scores.append(evaluation.score)
    return scores


def test_exported_tasks_score_as_the_built_in_ones(runner: TaskRunner, tmp_path: Path) -> None:
    builtin = default_catalog(("curated",))
    for task_id in IDS:
        write_task_dir(builtin.get(task_id), tmp_path)
    tasks, problems = load_task_root(tmp_path, "mine")
    assert problems == [] and [t.id for t in tasks] == sorted(IDS)
    served = TaskCatalog({"mine": tasks})
    for task in tasks:
        original = builtin.get(task.id)
        assert task.digest == original.digest
        assert _scores(runner, served, task) == _scores(runner, builtin, original), task.id
