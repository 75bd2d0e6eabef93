"""The policy interface and the episode runner.

A policy sees observations and answers with actions; it never touches the server. The runner is the
only code that talks to the server, and only through ``PythonEnv`` (the OpenEnv client), so every
agent — baseline, LLM or trained model — is measured through the same path a user would take.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from python_env.client import PythonEnv
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.types import Evaluation, TaskInfo


@dataclass(frozen=True)
class InvalidAction:
    """A move a policy could not turn into a valid action (e.g. an unparseable LLM reply).

    The runner records it as a turn with reward 0 and sends nothing to the server; invalid turns
    use up the step budget like valid ones, so a policy that never produces an action still ends.
    """

    reason: str
    raw: str = ""


Decision = CodeReviewAction | InvalidAction


class Policy(Protocol):
    """Observation in, action out. One instance plays one episode (it may keep state)."""

    name: str

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """The next move for ``observation``."""
        ...

    async def close(self) -> None:
        """Release resources (HTTP clients); called once when the episode is over."""
        ...


class PolicyFactory(Protocol):
    """Makes a fresh policy for one episode; ``seed`` makes random choices reproducible."""

    def __call__(self, seed: int) -> Policy:
        """A fresh policy for one episode, seeded."""


@dataclass
class Transition:
    """One turn: what the policy saw, what it did, and what came back."""

    observation: CodeReviewObservation
    action: CodeReviewAction | None
    reward: float
    done: bool
    error: str | None = None
    forced: bool = False  # the runner submitted because the budget was used up

    def action_label(self) -> str:
        """A one-line, space-free description of the action (for logs)."""
        return describe_action(self.action)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data (one episode of an eval report)."""
        return {
            "observation": self.observation.model_dump(mode="json"),
            "action": None if self.action is None else action_json(self.action),
            "reward": self.reward,
            "done": self.done,
            "error": self.error,
            "forced": self.forced,
        }


@dataclass
class EpisodeResult:
    """Everything measured about one episode."""

    agent: str
    task_id: str
    seed: int
    info: TaskInfo | None = None
    score: float = 0.0
    reward_sum: float = 0.0
    steps: int = 0
    invalid_actions: int = 0
    evaluation: Evaluation | None = None
    wall_s: float = 0.0
    error: str | None = None  # infrastructure failure: the episode did not finish
    transitions: list[Transition] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether this transition ended the episode."""
        return self.evaluation is not None

    def summary(self) -> dict[str, Any]:
        """The per-episode row of an evaluation report."""
        ev = self.evaluation
        review = ev.review if ev else None
        tests = ev.tests if ev else None
        return {
            "task_id": self.task_id,
            "seed": self.seed,
            "kinds": [k.value for k in self.info.kinds] if self.info else [],
            "difficulty": self.info.difficulty.value if self.info else None,
            "categories": [c.value for c in self.info.categories] if self.info else [],
            "score": round(self.score, 6),
            "reward_sum": round(self.reward_sum, 6),
            "steps": self.steps,
            "invalid_actions": self.invalid_actions,
            "components": dict(ev.components) if ev else {},
            "findings": None
            if review is None
            else {"precision": review.precision, "recall": review.recall, "f1": review.f1},
            "tests": None
            if tests is None
            else {
                "score": tests.score,
                "fail_to_pass": list(tests.fail_to_pass),
                "pass_to_pass": list(tests.pass_to_pass),
            },
            "wall_s": round(self.wall_s, 3),
            "error": self.error,
        }


def action_json(action: CodeReviewAction) -> dict[str, Any]:
    """The action as the JSON an agent would send (no ``metadata``, no empty fields)."""
    return action.model_dump(mode="json", exclude_none=True, exclude={"metadata"})


def describe_action(action: CodeReviewAction | None) -> str:
    """A short, single-line rendering of an action for logs (``kind(...)``)."""
    if action is None:
        return "invalid"
    if action.kind is ActionKind.REVIEW:
        return f"review(findings={len(action.findings or [])})"
    if action.kind is ActionKind.EDIT:
        return f"edit(chars={len(action.code or '')})"
    if action.path is not None:  # read_file, edit_file: which file (spaces dropped)
        return f"{action.kind.value}({''.join(action.path.split())})"
    if action.kind is ActionKind.APPLY_PATCH:
        return f"apply_patch(chars={len(action.diff or '')})"
    if action.tests:
        return f"run_tests(tests={len(action.tests)})"
    return f"{action.kind.value}()"


SUBMIT = CodeReviewAction(kind=ActionKind.SUBMIT)


async def play_episode(
    env: PythonEnv,
    policy: Policy,
    reset: dict[str, Any],
    seed: int = 0,
    on_turn: Callable[[Transition], None] | None = None,
) -> EpisodeResult:
    """Reset ``env`` with ``reset`` options and let ``policy`` play until the episode is done.

    Transport errors propagate (the caller decides whether to retry or record them); agent
    mistakes — invalid actions, refused actions, failing code — are recorded and play goes on.
    ``on_turn`` sees every turn as it happens (for live logs).
    """
    started = time.perf_counter()
    result = await env.reset(seed=seed, **reset)
    obs = result.observation
    episode = EpisodeResult(
        agent=policy.name, task_id=obs.task.id if obs.task else "?", seed=seed, info=obs.task
    )
    # Invalid turns never reach the server, so the runner enforces the budget itself.
    budget = obs.steps_left
    turns = 0
    while not obs.done:
        forced = turns >= budget
        decision: Decision = SUBMIT if forced else await policy.act(obs)
        turns += 1
        if isinstance(decision, InvalidAction):
            episode.invalid_actions += 1
            turn = Transition(obs, None, 0.0, False, decision.reason)
        else:
            step = await env.step(decision)
            reward = float(step.reward or 0.0)
            episode.steps += 1
            episode.reward_sum += reward
            turn = Transition(obs, decision, reward, step.done, step.observation.error, forced)
            obs = step.observation
        episode.transitions.append(turn)
        if on_turn is not None:
            on_turn(turn)
    episode.evaluation = obs.evaluation
    episode.score = obs.evaluation.score if obs.evaluation else obs.score
    episode.wall_s = time.perf_counter() - started
    return episode


async def run_episode(
    base_url: str, factory: PolicyFactory, reset: dict[str, Any], seed: int = 0
) -> EpisodeResult:
    """One episode in its own WebSocket session (convenience for scripts and tests)."""
    policy = factory(seed)
    env = PythonEnv(base_url=base_url)
    try:
        async with env:
            return await play_episode(env, policy, reset, seed)
    finally:
        await policy.close()
