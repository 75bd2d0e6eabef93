"""``random``: valid random actions — the floor every other agent must beat."""

from __future__ import annotations

import random
import re

from python_env.agents.base import Decision
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.types import Category, Finding, Severity

# Submitting is one of four moves, so an episode lasts about four steps on average.
_KINDS = (ActionKind.REVIEW, ActionKind.EDIT, ActionKind.RUN_TESTS, ActionKind.SUBMIT)
# On a repository task: navigation instead of whole-file edits; submit is still one move in six.
_REPO_KINDS = (ActionKind.LIST_FILES, ActionKind.READ_FILE, ActionKind.SEARCH,
               ActionKind.REVIEW, ActionKind.RUN_TESTS, ActionKind.SUBMIT)  # fmt: skip
# On a pull-request task approve joins them: a verdict, like submit, that ends the episode.
_PR_KINDS = (*_REPO_KINDS, ActionKind.APPROVE)
_GLOBS = ("*.py", "**/*", "*.md", "*/*.py")
_WORDS = ("def ", "return", "import", "self", "if ", "None", "raise", "for ")
_LINES_OF = re.compile(r"^(.+): lines \d+-\d+ of (\d+)")


class RandomPolicy:
    """Picks a random kind each turn; findings point at random lines, edits shuffle lines.

    On a repository task it lists, reads and searches at random, reviews random lines of the
    files it has read (it knows their length from the read), runs random visible tests and
    submits (or, on a pull request, approves); its first move lists the Python files, to have
    paths to pick from.
    """

    name = "random"

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lines: int | None = None  # line count of the code as given at reset
        self._listed = False  # repository tasks: the first move (list the files) is made
        self._files: list[str] | None = None  # repository tasks: the paths listed
        self._sizes: dict[str, int] = {}  # repository tasks: line counts of the files read

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """A valid random action (submit once the budget is nearly spent)."""
        if observation.workspace is not None:
            return self._repo_action(observation)
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

    def _findings(self, lines: int, path: str = "") -> list[Finding]:
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
                    path=path,
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

    def _repo_action(self, obs: CodeReviewObservation) -> CodeReviewAction:
        """A random repository action, learning paths and file lengths from what it is shown."""
        if not self._listed:
            self._listed = True
            return CodeReviewAction(kind=ActionKind.LIST_FILES, pattern="*.py")
        if self._files is None:  # obs answers the first listing
            self._files = [p for p in obs.output.splitlines() if p and p[0] != "["]
        read = _LINES_OF.match(obs.feedback)
        if read is not None and obs.error is None:
            self._sizes[read.group(1)] = int(read.group(2))
        kind = self._rng.choice(_PR_KINDS if obs.pull_request is not None else _REPO_KINDS)
        if kind is ActionKind.REVIEW and not self._sizes:
            kind = ActionKind.READ_FILE  # findings need a file whose length is known
        if kind is ActionKind.READ_FILE and not self._files:
            kind = ActionKind.LIST_FILES
        if kind is ActionKind.LIST_FILES:
            return CodeReviewAction(kind=kind, pattern=self._rng.choice(_GLOBS))
        if kind is ActionKind.READ_FILE:
            path = self._rng.choice(self._files)
            size = self._sizes.get(path)
            start = self._rng.randint(1, size) if size else 1
            return CodeReviewAction(kind=kind, path=path, start_line=start)
        if kind is ActionKind.SEARCH:
            return CodeReviewAction(kind=kind, pattern=self._rng.choice(_WORDS))
        if kind is ActionKind.REVIEW:
            path = self._rng.choice(sorted(self._sizes))
            return CodeReviewAction(kind=kind, findings=self._findings(self._sizes[path], path))
        if kind is ActionKind.RUN_TESTS and obs.test_ids and self._rng.random() < 0.5:
            count = self._rng.randint(1, len(obs.test_ids))
            return CodeReviewAction(kind=kind, tests=self._rng.sample(obs.test_ids, count))
        return CodeReviewAction(kind=kind)
