"""Which validated candidates of a source become tasks, and their task records."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

from python_env.tasks.generate.compose import Candidate
from python_env.tasks.generate.corpora import Source
from python_env.tasks.generate.texts import instructions, title
from python_env.types import Category, Difficulty, Issue, Task, TaskInfo, TaskKind

GENERATOR_VERSION = "1.2.0"
LONG_CODE = 60
OPTIMIZE_RATIO = 3
_CORPUS_TAG = {"codeio": "cio", "codeio-hq": "ciohq", "humaneval": "he"}
R, P, OPT = TaskKind.REVIEW, TaskKind.REPAIR, TaskKind.OPTIMIZE
_BUG_KINDS: tuple[tuple[TaskKind, ...], ...] = ((R, P), (R, P), (R,), (P,))
_PERF_KINDS: tuple[tuple[TaskKind, ...], ...] = ((OPT,), (R, OPT))


def difficulty(cand: Candidate) -> Difficulty:
    points = sum(c.spec.subtlety for c in cand.components)
    points += len(cand.code.splitlines()) > LONG_CODE
    if len(cand.components) >= 3 or points >= 4:
        return Difficulty.HARD
    return Difficulty.EASY if points <= 1 else Difficulty.MEDIUM


def kinds_for(
    cand: Candidate, rng: random.Random, cost: tuple[int, int] | None = None
) -> tuple[TaskKind, ...]:
    families = cand.families
    if families == {"perf"}:
        if cost is None or cost[0] < OPTIMIZE_RATIO * cost[1]:
            return (R,)
        return rng.choice(_PERF_KINDS)
    if families == {"bug"}:
        return rng.choice(_BUG_KINDS)
    if "bug" in families:
        return (R, P)
    return (R,)


def _pick(pool: list[Candidate], rng: random.Random) -> Candidate | None:
    return rng.choice(pool) if pool else None


def choose(valid: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """Up to one task per flavour: bug single, bug composite, security, maintainability/style,
    mixed, performance."""

    def cats(c: Candidate) -> set[Category]:
        return {comp.spec.category for comp in c.components}

    singles = [c for c in valid if len(c.components) == 1]
    multi = [c for c in valid if len(c.components) > 1]
    flavours = [
        [c for c in singles if c.families == {"bug"}],
        [c for c in singles if c.families == {"bug"}],
        [c for c in multi if c.families == {"bug"}],
        [c for c in singles if cats(c) == {Category.SECURITY}],
        [c for c in singles if c.families == {"static"} and Category.SECURITY not in cats(c)],
        [c for c in multi if len(c.families) > 1 or c.families == {"static"}],
        [c for c in singles if c.families == {"perf"}],
    ]
    chosen: list[Candidate] = []
    for pool in flavours:
        fresh = [c for c in pool if c not in chosen]
        used = {c.components[0].injector for c in chosen}
        pick = _pick([c for c in fresh if c.components[0].injector not in used] or fresh, rng)
        if pick is not None:
            chosen.append(pick)
    return chosen


def task_id(source: Source, cand: Candidate) -> str:
    digest = hashlib.sha256(source.key.encode()).hexdigest()[:10]
    return f"gen-{_CORPUS_TAG[source.corpus]}-{digest}-{cand.tag}"


def record(
    source: Source, cand: Candidate, kinds: tuple[TaskKind, ...], texts: dict[str, str],
    cost: tuple[int, int] | None,
) -> dict[str, Any]:  # fmt: skip
    """The dataset record of one task: the Task's fields plus generation metadata."""
    issues = tuple(
        Issue(
            id=f"{comp.injector.replace('_', '-')}-{k}",
            start_line=start,
            end_line=end,
            category=comp.spec.category,
            severity=comp.spec.severity,
            rule_id=comp.spec.rule_id,
            alt_categories=comp.spec.alt_categories,
            explanation=comp.explanation,
        )
        for k, (comp, (start, end)) in enumerate(zip(cand.components, cand.spans, strict=True), 1)
    )
    categories = tuple(sorted({i.category for i in issues}, key=list(Category).index))
    task = Task(
        info=TaskInfo(
            id=task_id(source, cand),
            title=title(source),
            kinds=kinds,
            difficulty=difficulty(cand),
            split=source.split,
            source=source.corpus,
            categories=categories,
            num_issues=len(issues),
            max_steps=8 + 2 * len(issues) + 2 * (P in kinds or OPT in kinds),
        ),
        instructions=instructions(source, kinds),
        code=cand.code,
        visible_tests=texts["visible"],
        hidden_tests=texts["hidden"],
        fix=cand.fix,
        issues=issues,
        benchmark=texts["benchmark"] if OPT in kinds else "",
    )
    rec = task.model_dump(mode="json")
    rec["meta"] = {
        "generator": GENERATOR_VERSION,
        "source": source.key,
        "group": source.group,
        "origin": source.origin,
        "injections": [
            {"injector": c.injector, "family": c.spec.family, "original": c.old,
             "injected": c.new, "start_line": s, "end_line": e}
            for c, (s, e) in zip(cand.components, cand.spans, strict=True)
        ],
        "cost": {"code": cost[0], "fix": cost[1]} if cost else None,
    }  # fmt: skip
    return rec


def choose_tasks(
    source: Source, valid: Sequence[Candidate], texts: dict[str, str],
    costs: dict[str, tuple[int, int]], rng: random.Random,
) -> list[dict[str, Any]]:  # fmt: skip
    chosen = choose(sorted(valid, key=lambda c: c.tag), rng)
    return [
        record(source, c, kinds_for(c, rng, costs.get(c.tag)), texts, costs.get(c.tag))
        for c in sorted(chosen, key=lambda c: c.tag)
    ]
