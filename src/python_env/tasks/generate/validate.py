"""Validation oracles: the analyzer (ruff, batched) and the verdicts on batch-run digests.

* bug components: the candidate must fail at least one visible and one hidden probe, never by
  timing out, crashing or exhausting memory, and must not add an analyzer finding of category
  ``bug`` (other than its own rule): otherwise a linter would give it away.
* static components: the component's rule must fire inside its span and fire more often than on
  the reference; behaviour must be identical on every probe.
* perf components: behaviour identical; the cost ratio is checked later from benchmark jobs.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from python_env.errors import SandboxError
from python_env.grading.analyzers import DEFAULT_RUFF_RULES, category_of
from python_env.tasks.generate.compose import Candidate
from python_env.tasks.generate.injectors import REGISTRY
from python_env.types import Category

Hit = tuple[str, int, int]  # rule id, start line, end line
BAD_PREFIXES = ("slow", "skip", "~", "!import", "big")


@lru_cache(maxsize=1)
def _ruff() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


@lru_cache(maxsize=1)
def lint_rules() -> tuple[str, ...]:
    """Rules checked on every candidate: the default review set plus every injector's rule."""
    extra = {inj.rule_id for inj in REGISTRY.values() if inj.rule_id}
    return tuple(sorted(set(DEFAULT_RUFF_RULES) | extra))


def ruff_batch(codes: Sequence[str], select: Sequence[str]) -> list[list[Hit]]:
    """ruff's hits on each text, in one ruff process (same flags as ``run_ruff``)."""
    with tempfile.TemporaryDirectory(prefix="pyenv-gen-") as tmp:
        root = Path(tmp)
        for i, code in enumerate(codes):
            (root / f"c{i:05d}.py").write_text(code, encoding="utf-8")
        try:
            proc = subprocess.run(
                [_ruff(), "check", "--isolated", "--no-cache", "--exit-zero", "--output-format",
                 "json", "--select", ",".join(select), "."],
                cwd=root, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"ruff failed to run: {exc}") from exc
    hits: list[list[Hit]] = [[] for _ in codes]
    for item in json.loads(proc.stdout or "[]"):
        index = int(Path(item["filename"]).stem[1:])
        rule = item["code"] or "E999"
        start = item["location"]["row"]
        hits[index].append((rule, start, max(start, item["end_location"]["row"])))
    return hits


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
