"""``heuristic``: what static analysis alone achieves — ruff and bandit findings, safe autofixes.

It reads only the observation: the code, the task's public kinds and the categories of the planted
issues (both published in ``observation.task``). On a repository task it reviews the files it is
shown to be changed (``agents.repo_heuristic``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from functools import lru_cache

from python_env.agents.base import Decision
from python_env.agents.repo_heuristic import RepoReviewer
from python_env.analysis import AnalyzerHit, ruff_fix, run_bandit, run_ruff
from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.types import MAX_FINDINGS, Category, Finding, TaskKind


class HeuristicPolicy:
    """Plan once from the first observation: review, autofix, run tests, submit."""

    name = "heuristic"

    def __init__(self, seed: int) -> None:
        del seed  # deterministic
        self._plan: list[CodeReviewAction] | None = None
        self._repo: RepoReviewer | None = None

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """The next action of the plan made from the first observation."""
        if observation.workspace is not None:  # a repository task: it asks for what it reads
            if self._repo is None:
                self._repo = RepoReviewer(analyze=findings_in)
            return await asyncio.to_thread(self._repo.next_action, observation)
        if self._plan is None:
            # ruff and bandit are subprocesses: keep them off the event loop other episodes share.
            self._plan = await asyncio.to_thread(plan_for, observation)
        return self._plan.pop(0) if self._plan else CodeReviewAction(kind=ActionKind.SUBMIT)

    async def close(self) -> None:
        """Nothing to release."""
        return None


# Rules that flag style metrics or mere imports rather than defects: a reviewer skips them.
NOISE_PREFIXES = ("PLR2004", "PLR09", "B4", "S4")


def findings_for(observation: CodeReviewObservation) -> list[Finding]:
    """Analyzer findings, deduplicated, limited to the categories the task says it plants."""
    wanted = set(observation.task.categories) if observation.task else set()
    return findings_in(observation.code, wanted)


def findings_in(code: str, wanted: Collection[Category] = ()) -> list[Finding]:
    """ruff and bandit findings on ``code``, one per line and category, in the categories
    ``wanted`` (any if empty), sorted by line, at most ``MAX_FINDINGS``."""
    hits = _analyze(code)
    lines = len(code.splitlines())
    seen: set[tuple[int, str]] = set()
    findings = []
    for hit in sorted(hits, key=_priority):
        key = (hit.start_line, hit.category.value)
        # ruff's S rules and bandit report the same problems: one finding per line and category.
        noise = hit.rule_id.startswith(NOISE_PREFIXES)  # bandit's B4xx/ruff's S4xx: imports
        if noise or key in seen or (wanted and hit.category not in wanted) or hit.end_line > lines:
            continue
        seen.add(key)
        findings.append(hit.to_finding())
    return sorted(findings, key=lambda f: f.start_line)[:MAX_FINDINGS]


# The analyzers are deterministic and cost a subprocess each (bandit starts an interpreter), and an
# evaluation meets the same code many times: remember their answers per code text.
@lru_cache(maxsize=256)
def _analyze(code: str) -> tuple[AnalyzerHit, ...]:
    return (*run_ruff(code), *run_bandit(code))


@lru_cache(maxsize=256)
def _autofix(code: str) -> str:
    return ruff_fix(code)


def _priority(hit: AnalyzerHit) -> tuple[int, int, str]:
    # bandit grades severity per finding; prefer it over ruff's flat "high" for security rules.
    return (hit.start_line, 0 if hit.tool == "bandit" else 1, hit.rule_id)


def plan_for(observation: CodeReviewObservation) -> list[CodeReviewAction]:
    """The whole episode's actions: analyzer findings, safe autofixes, tests, submit."""
    kinds = set(observation.task.kinds) if observation.task else set(TaskKind)
    plan = []
    if TaskKind.REVIEW in kinds:
        findings = findings_for(observation)
        if findings:
            plan.append(CodeReviewAction(kind=ActionKind.REVIEW, findings=findings))
    if kinds & {TaskKind.REPAIR, TaskKind.OPTIMIZE}:
        fixed = _autofix(observation.code)
        if fixed != observation.code and _compiles(fixed):
            plan.append(CodeReviewAction(kind=ActionKind.EDIT, code=fixed))
        plan.append(CodeReviewAction(kind=ActionKind.RUN_TESTS))
    plan.append(CodeReviewAction(kind=ActionKind.SUBMIT))
    budget = max(1, observation.steps_left)
    return plan[-budget:] if len(plan) > budget else plan


def _compiles(code: str) -> bool:
    try:
        compile(code, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
