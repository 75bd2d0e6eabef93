"""The reward as an OpenEnv rubric: the change of the task score since the previous step.

The environment computes the task score once per step (``python_env.grading.score``) and puts it
in the observation; the rubric only reads it, so the rewards of an episode sum exactly to the
final score.
"""

from __future__ import annotations

from typing import Any

from openenv.core.rubrics import Rubric


class ProgressRubric(Rubric):
    """Reward = task score now - task score after the previous step."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.previous = 0.0

    def forward(self, action: Any, observation: Any) -> float:
        """The observation's score minus the score the previous step left."""
        score = float(observation.score)
        reward, self.previous = score - self.previous, score
        return round(reward, 6)

    def reset(self) -> None:
        """A new episode starts from 0."""
        super().reset()
        self.previous = 0.0
