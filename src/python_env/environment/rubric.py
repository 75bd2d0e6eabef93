"""The reward as an OpenEnv rubric tree: task score = weighted components, reward = its change.

Component scores (review F1, test score, speed-up) are computed by the pure functions in
``python_env.grading`` and carried in the observation; the rubrics only read and combine them, so
``named_rubrics()`` and ``last_score`` show each component of the last step.
"""

from __future__ import annotations

from typing import Any

from openenv.core.rubrics import Rubric

from python_env.grading.score import weighted_score


class ComponentRubric(Rubric):
    """Reads one component score from the observation (0 until it has been measured)."""

    def __init__(self, name: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.name = name

    def forward(self, action: Any, observation: Any) -> float:
        return float(observation.score_components.get(self.name, 0.0))


class TaskScoreRubric(Rubric):
    """Weighted mean of the components the current task asks for; always within [0, 1]."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.review = ComponentRubric("review")
        self.tests = ComponentRubric("tests")
        self.performance = ComponentRubric("performance")
        self.weights: dict[str, float] = {}

    def forward(self, action: Any, observation: Any) -> float:
        parts = {name: getattr(self, name)(action, observation) for name in self.weights}
        return weighted_score(parts, self.weights)


class ProgressRubric(Rubric):
    """Reward = task score now - task score after the previous step, so rewards sum to the score."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.task_score = TaskScoreRubric()
        self.previous = 0.0

    def forward(self, action: Any, observation: Any) -> float:
        score: float = self.task_score(action, observation)
        reward, self.previous = score - self.previous, score
        return round(reward, 6)

    def start(self, weights: dict[str, float]) -> None:
        """Begin an episode: the score starts at 0 with the task's component weights."""
        self.reset()
        self.task_score.weights = dict(weights)
        self.previous = 0.0
