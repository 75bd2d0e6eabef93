"""The reward rubric: the change of the score the observation carries, summing to the final one."""

from __future__ import annotations

from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.environment.rubric import ProgressRubric

SUBMIT = CodeReviewAction(kind="submit")


def _obs(score: float) -> CodeReviewObservation:
    return CodeReviewObservation(score=score)


def test_rewards_are_score_differences_and_sum_to_the_last_score() -> None:
    rubric = ProgressRubric()
    scores = [0.0, 0.25, 0.25, 0.1, 0.9, 0.5]
    rewards = [rubric(SUBMIT, _obs(s)) for s in scores]
    assert rewards == [0.0, 0.25, 0.0, -0.15, 0.8, -0.4]
    assert abs(sum(rewards) - scores[-1]) < 1e-9


def test_reset_starts_the_next_episode_from_zero() -> None:
    rubric = ProgressRubric()
    rubric(SUBMIT, _obs(0.75))
    rubric.reset()
    assert rubric(SUBMIT, _obs(0.5)) == 0.5
