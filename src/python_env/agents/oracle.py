"""``oracle``: reads the answer key and the reference fix to prove a perfect score is reachable.

This is the one agent allowed to look at hidden task data, and it does so through a test-only
path: it loads the task in its own process, a single-file task from the local catalog
(``default_catalog()``), a repository task from a store of them (``RepoSplits``, over the
directory ``Settings.catalog.repo_tasks_dir`` names: the caller builds the settings and passes
the directory in). The server never reveals the answer key before ``done``, so the oracle only
works against a server that serves the same tasks. Its scores are an upper bound, never a
baseline.
"""

from __future__ import annotations

from pathlib import Path

from python_env.agents.base import Decision
from python_env.config import DEFAULT_REPO_TASKS_DIR
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.errors import TaskNotFound
from python_env.grading.reference import reference_finding
from python_env.grading.score import component_weights, is_pull_request
from python_env.tasks.catalog import default_catalog
from python_env.tasks.repo_splits import RepoSplits
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.types import MAX_FINDINGS, Component, Finding, Task, TaskKind

SUBMIT = CodeReviewAction(kind=ActionKind.SUBMIT)
APPROVE = CodeReviewAction(kind=ActionKind.APPROVE)


class OraclePolicy:
    """Reviews with the answer-key issues (each with its part of the reference fix), edits to
    the reference fix (a repository task: applies its ``fix`` diff), submits; approves a clean
    pull request."""

    name = "oracle"

    def __init__(self, seed: int, repos: RepoSplits | None = None) -> None:
        """``repos``: where to find repository tasks (None: the package's own store)."""
        del seed  # deterministic
        self._repos = repos
        self._plan: list[CodeReviewAction] | None = None

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """The next action of the answer-key plan for this task."""
        if self._plan is None:
            self._plan = self._plan_for(observation)
        return self._plan.pop(0) if self._plan else SUBMIT

    async def close(self) -> None:
        """Nothing to release."""
        return None

    def _plan_for(self, observation: CodeReviewObservation) -> list[CodeReviewAction]:
        """The plan for the observed task; [] (submit) for a task the oracle cannot find."""
        if observation.task is None:
            return []
        task_id = observation.task.id
        if observation.workspace is not None:  # only repository episodes have a workspace
            if self._repos is None:
                self._repos = repo_splits(DEFAULT_REPO_TASKS_DIR)
            repo = self._repos.find(task_id)
            return repo_plan_for(repo) if repo is not None else []
        try:
            task = default_catalog().get(task_id)
        except TaskNotFound:  # e.g. a task directory the server serves and we do not know
            return []
        return plan_for(task, observation.code) if isinstance(task, Task) else []


def repo_splits(root: Path) -> RepoSplits:
    """Every split of the repository-task store at ``root`` (read lazily, shared by episodes)."""
    return RepoSplits(RepoStore(root))


def plan_for(task: Task, code: str) -> list[CodeReviewAction]:
    """The perfect episode for ``task``: review (if graded), edit (if graded), submit."""
    plan = []
    findings = [reference_finding(task, issue) for issue in task.issues]
    if task.has(TaskKind.REVIEW):
        plan += _reviews(findings)
    if (task.has(TaskKind.REPAIR) or task.has(TaskKind.OPTIMIZE)) and task.fix != code:
        plan.append(CodeReviewAction(kind=ActionKind.EDIT, code=task.fix))
    plan.append(SUBMIT)
    return plan


def repo_plan_for(task: RepoTask) -> list[CodeReviewAction]:
    """The perfect episode for a repository task: the answer key's issues as findings in their
    files (if findings are graded), the reference ``fix`` diff applied (if the repair is
    graded), submit; on a clean pull request (no issue), approve."""
    if is_pull_request(task) and not task.issues:
        return [APPROVE]
    plan = []
    if Component.REVIEW in component_weights(task):
        findings = [
            Finding(
                path=issue.path,
                start_line=issue.start_line,
                end_line=issue.end_line,
                category=issue.category,
                severity=issue.severity,
                rule_id=issue.rule_id,
                message=(issue.explanation or issue.id)[:2_000],
            )
            for issue in task.issues
        ]
        plan += _reviews(findings)
    if task.fix and Component.TESTS in component_weights(task):  # a repair is graded
        plan.append(CodeReviewAction(kind=ActionKind.APPLY_PATCH, diff=task.fix))
    plan.append(SUBMIT)
    return plan


def _reviews(findings: list[Finding]) -> list[CodeReviewAction]:
    """``findings`` in review actions of at most ``MAX_FINDINGS`` each."""
    return [
        CodeReviewAction(kind=ActionKind.REVIEW, findings=findings[i : i + MAX_FINDINGS])
        for i in range(0, len(findings), MAX_FINDINGS)
    ]
