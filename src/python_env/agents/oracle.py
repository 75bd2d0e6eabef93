"""``oracle``: reads the answer key and the reference fix to prove a perfect score is reachable.

This is the one agent allowed to look at hidden task data, and it does so through a test-only
path: it loads the task from the local catalog (``default_catalog()``) in its own process. The
server never reveals the answer key before ``done``, so the oracle only works against a server
that serves the same catalog. Its scores are an upper bound, never a baseline.
"""

from __future__ import annotations

from python_env.agents.base import Decision
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import default_catalog
from python_env.types import MAX_FINDINGS, Task, TaskKind


class OraclePolicy:
    """Reviews with the answer-key issues (each with its part of the reference fix), edits to
    the reference fix, submits."""

    name = "oracle"

    def __init__(self, seed: int) -> None:
        del seed  # deterministic
        self._plan: list[CodeReviewAction] | None = None

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """The next action of the answer-key plan for this task."""
        if self._plan is None:
            if observation.task is None:
                return CodeReviewAction(kind=ActionKind.SUBMIT)
            task = default_catalog().get(observation.task.id)
            # The built-in catalog has no repository tasks: a task it does not hold is submitted.
            self._plan = plan_for(task, observation.code) if isinstance(task, Task) else []
        return self._plan.pop(0) if self._plan else CodeReviewAction(kind=ActionKind.SUBMIT)

    async def close(self) -> None:
        """Nothing to release."""
        return None


def plan_for(task: Task, code: str) -> list[CodeReviewAction]:
    """The perfect episode for ``task``: review (if graded), edit (if graded), submit."""
    plan = []
    findings = [reference_finding(task, issue) for issue in task.issues]
    if task.has(TaskKind.REVIEW):
        for start in range(0, len(findings), MAX_FINDINGS):
            chunk = findings[start : start + MAX_FINDINGS]
            plan.append(CodeReviewAction(kind=ActionKind.REVIEW, findings=chunk))
    if (task.has(TaskKind.REPAIR) or task.has(TaskKind.OPTIMIZE)) and task.fix != code:
        plan.append(CodeReviewAction(kind=ActionKind.EDIT, code=task.fix))
    plan.append(CodeReviewAction(kind=ActionKind.SUBMIT))
    return plan
