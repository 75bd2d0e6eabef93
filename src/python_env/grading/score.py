"""The task score: which components a task is scored on, and how they combine (defined once).

The review component counts when the task asks for a review and there is something to judge: an
answer key, or a pull request (a clean one has no issue, and its right answer is to approve it;
``grading.findings`` states the approval rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from python_env.types import Component, Evaluation, Issue, TaskInfo, TaskKind, TaskSetting


class Graded(Protocol):
    """What the weights depend on: a single-file ``Task`` or a ``RepoTask``."""

    @property
    def info(self) -> TaskInfo:
        """The public description (its ``kinds`` and ``setting``)."""
        ...

    @property
    def issues(self) -> Sequence[Issue]:
        """The answer key."""
        ...


def is_pull_request(task: Graded) -> bool:
    """Whether the task is the review of a pull request (its verdict may be ``approve``)."""
    return task.info.setting is TaskSetting.PULL_REQUEST


def component_weights(task: Graded) -> dict[str, float]:
    """Equal weight for each kind the task asks for (review needs an answer key or a pull
    request to count: a clean pull request is judged by its verdict)."""
    weights: dict[str, float] = {}
    kinds = task.info.kinds
    if TaskKind.REVIEW in kinds and (task.issues or is_pull_request(task)):
        weights[Component.REVIEW] = 1.0
    if TaskKind.REPAIR in kinds:
        weights[Component.TESTS] = 1.0
    if TaskKind.OPTIMIZE in kinds:
        weights[Component.PERFORMANCE] = 1.0
    return weights


def weighted_score(components: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of the weighted components (missing ones count 0), clamped to [0, 1]."""
    total = sum(weights.values())
    if not total:
        return 0.0
    score = sum(components.get(name, 0.0) * w for name, w in weights.items()) / total
    return round(min(1.0, max(0.0, score)), 6)


def combine(components: dict[str, float], weights: dict[str, float], **parts: Any) -> Evaluation:
    """Build the final Evaluation from its component scores and details."""
    return Evaluation(
        score=weighted_score(components, weights), components=components, weights=weights, **parts
    )
