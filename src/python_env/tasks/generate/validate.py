"""Validation oracles: the analyzer (ruff, batched) and the verdicts on batch-run digests.

* bug components: the candidate must fail at least one visible and one hidden probe, never by
  timing out, crashing or exhausting memory, and must not add an analyzer finding of category
  ``bug`` (other than its own rule): otherwise a linter would give it away.
* static components: the component's rule must fire inside its span and fire more often than on
  the reference; behaviour must be identical on every probe.
* perf components: behaviour identical; the cost ratio is checked later from benchmark jobs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from python_env.analysis.linters import DEFAULT_RUFF_RULES, Hit, category_of
from python_env.tasks.generate.compose import Candidate
from python_env.tasks.generate.injectors import REGISTRY
from python_env.types import Category

BAD_PREFIXES = ("slow", "skip", "~", "!import", "big")


@lru_cache(maxsize=1)
def lint_rules() -> tuple[str, ...]:
    """Rules checked on every candidate: the default review set plus every injector's rule."""
    extra = {inj.rule_id for inj in REGISTRY.values() if inj.rule_id}
    return tuple(sorted(set(DEFAULT_RUFF_RULES) | extra))


@dataclass(frozen=True)
class LintVerdict:
    ok: bool
    reason: str = ""


def lint_verdict(cand: Candidate, code_hits: list[Hit], fix_hits: list[Hit]) -> LintVerdict:
    """Does the analyzer agree with the candidate's answer key?"""
    added = Counter(r for r, _, _ in code_hits) - Counter(r for r, _, _ in fix_hits)
    for comp, (start, end) in zip(cand.components, cand.spans, strict=True):
        spec = comp.spec
        if spec.family == "static" or (spec.family == "bug" and spec.rule_id):
            fired = any(r == spec.rule_id and start <= a <= end for r, a, _ in code_hits)
            if not fired or added[spec.rule_id] < 1:
                return LintVerdict(False, "rule_not_fired")
    own = {c.spec.rule_id for c in cand.components}
    if "bug" in cand.families:
        giveaway = [r for r in added if r not in own and category_of(r) is Category.BUG]
        if giveaway:
            return LintVerdict(False, "lint_giveaway")
    return LintVerdict(True)


def behaviour(original: dict[str, list[str]], run: dict[str, list[str]] | None) -> str:
    """``same``, ``killed`` (fails a visible and a hidden probe), ``hidden_only``, or ``bad``."""
    if not run:
        return "bad"
    digests = [d for suite in ("v", "h") for d in run.get(suite, [])]
    if any(d.startswith(BAD_PREFIXES) for d in digests):
        return "bad"
    differs = {s: run.get(s) != original.get(s) for s in ("v", "h")}
    if differs["v"] and differs["h"]:
        return "killed"
    if differs["h"] or differs["v"]:
        return "partial"
    return "same"


def verdict(cand: Candidate, outcome: str) -> bool:
    """Whether a candidate with this behaviour outcome can become a task."""
    if "bug" in cand.families:
        return outcome == "killed"
    return outcome == "same"
