"""``random``: valid random actions — the floor every other agent must beat."""

from __future__ import annotations

import random

from python_env.agents.base import Decision
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.types import Category, Finding, Severity

# Submitting is one of four moves, so an episode lasts about four steps on average.
_KINDS = (ActionKind.REVIEW, ActionKind.EDIT, ActionKind.RUN_TESTS, ActionKind.SUBMIT)


class RandomPolicy:
    """Picks a random kind each turn; findings point at random lines, edits shuffle lines."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lines: int | None = None  # line count of the code as given at reset

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """A valid random action (submit once the budget is nearly spent)."""
        if self._lines is None:
            self._lines = max(1, len(observation.code.splitlines()))
        kind = self._rng.choice(_KINDS)
        if kind is ActionKind.REVIEW:
            return CodeReviewAction(kind=kind, findings=self._findings(self._lines))
        if kind is ActionKind.EDIT:
            return CodeReviewAction(kind=kind, code=self._mutate(observation.code))
        return CodeReviewAction(kind=kind)

    async def close(self) -> None:
        """Nothing to release."""
        return None

    def _findings(self, lines: int) -> list[Finding]:
        findings = []
        for _ in range(self._rng.randint(1, 3)):
            start = self._rng.randint(1, lines)
            findings.append(
                Finding(
                    start_line=start,
                    end_line=min(lines, start + self._rng.randint(0, 2)),
                    category=self._rng.choice(list(Category)),
                    severity=self._rng.choice(list(Severity)),
                    message="random finding",
                )
            )
        return findings

    def _mutate(self, code: str) -> str:
        lines = code.splitlines()
        if len(lines) < 2:
            return code + "\n# edited\n"
        i, j = sorted(self._rng.sample(range(len(lines)), 2))
        move = self._rng.randrange(3)
        if move == 0:
            del lines[i]
        elif move == 1:
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines) + "\n"
