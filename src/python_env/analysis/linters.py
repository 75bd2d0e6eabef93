"""ruff and bandit: their findings on a piece of code, as review categories.

Both tools only parse the code (they never execute it), so they run directly on the text. ruff runs
with ``--isolated`` so no project configuration changes its verdicts; one parser reads its JSON
for a single text (``run_ruff``) and for many at once (``ruff_batch``, the generator's path).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from python_env.errors import AnalysisError
from python_env.types import Category, Finding, Severity

# Rules worth a reviewer's time (not docstring or annotation nits).
DEFAULT_RUFF_RULES = (
    "S", "B", "F", "E7", "E9", "PERF", "BLE", "SIM", "C90", "PLR", "PLW", "RET", "ARG", "UP", "C4",
)  # fmt: skip
_CATEGORY_BY_PREFIX = (
    ("S", Category.SECURITY),
    ("PERF", Category.PERFORMANCE),
    ("C4", Category.PERFORMANCE),
    ("F401", Category.MAINTAINABILITY),
    ("F841", Category.MAINTAINABILITY),
    ("E722", Category.MAINTAINABILITY),
    ("B006", Category.MAINTAINABILITY),
    ("E7", Category.STYLE),
    ("UP", Category.STYLE),
    ("B", Category.BUG),
    ("F", Category.BUG),
    ("E9", Category.BUG),
    ("PLE", Category.BUG),
)
_BANDIT_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}


@dataclass(frozen=True)
class AnalyzerHit:
    """One rule violation reported by ruff or bandit."""

    tool: str
    rule_id: str
    start_line: int
    end_line: int
    message: str
    category: Category
    severity: Severity

    def to_finding(self) -> Finding:
        """The hit as a review finding (its rule id in the message)."""
        return Finding(
            start_line=self.start_line,
            end_line=self.end_line,
            category=self.category,
            severity=self.severity,
            rule_id=self.rule_id,
            message=f"{self.rule_id}: {self.message}"[:2_000],
        )


RUFF_FAILED = 2  # ruff's exit status when it could not run (1 only means it found something)
Hit = tuple[str, int, int]  # rule id, start line, end line: what ``ruff_batch`` returns


def category_of(rule_id: str) -> Category:
    """Review category of a ruff rule code (bandit ids map through their ruff S-ports)."""
    for prefix, category in _CATEGORY_BY_PREFIX:
        if rule_id.startswith(prefix):
            return category
    return Category.MAINTAINABILITY


@lru_cache(maxsize=1)
def _ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


def _run(args: Sequence[str], code: str = "", cwd: str | None = None, fatal: int = 99) -> str:
    """The tool's stdout; ``fatal`` is the exit status that means the tool itself failed."""
    try:
        proc = subprocess.run(
            list(args), input=code, capture_output=True, text=True, timeout=120, check=False,
            cwd=cwd,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AnalysisError(f"{Path(args[0]).name} failed to run: {exc}", tool=args[0]) from exc
    if proc.returncode == fatal:
        why = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        raise AnalysisError(f"{Path(args[0]).name} failed: {why[0][:300]}", tool=args[0])
    return proc.stdout


def _ruff_args(select: Sequence[str], *extra: str) -> list[str]:
    return [_ruff_bin(), "check", "--isolated", "--no-cache", "--select", ",".join(select), *extra]


def _ruff_items(out: str) -> list[dict[str, Any]]:
    try:
        items = json.loads(out or "[]")
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"ruff returned unreadable output: {exc}", tool="ruff") from exc
    return list(items)


def _span(item: dict[str, Any]) -> Hit:
    start = int(item["location"]["row"])
    return item["code"] or "E999", start, max(start, int(item["end_location"]["row"]))


def known_rules(rules: Sequence[str]) -> frozenset[str]:
    """The rule codes ruff knows (an answer key may name a bandit id ruff has no selector for)."""
    return frozenset(rule for rule in rules if _ruff_knows(rule))


@lru_cache(maxsize=512)
def _ruff_knows(rule: str) -> bool:
    try:
        _run(_ruff_args([rule], "--stdin-filename", "x.py", "-"), "", fatal=RUFF_FAILED)
    except AnalysisError as exc:
        if "Unknown rule selector" in str(exc):
            return False
        raise  # ruff itself failed: not cached, and never taken for "no such rule"
    return True


def run_ruff(code: str, select: Sequence[str] = DEFAULT_RUFF_RULES) -> list[AnalyzerHit]:
    """ruff's findings on ``code``, sorted by line."""
    args = _ruff_args(select, "--output-format", "json", "--stdin-filename", "solution.py", "-")
    hits = []
    for item in _ruff_items(_run(args, code, fatal=RUFF_FAILED)):
        rule, start, end = _span(item)
        severity = Severity.HIGH if rule.startswith("S") else Severity.MEDIUM
        hits.append(AnalyzerHit("ruff", rule, start, end, item["message"], category_of(rule),
                                severity))  # fmt: skip
    return sorted(hits, key=lambda h: (h.start_line, h.rule_id))


def ruff_batch(
    codes: Sequence[str], select: Sequence[str], ignore_noqa: bool = False
) -> list[list[Hit]]:
    """ruff's hits on each text, in one ruff process (the same flags as ``run_ruff``;
    ``ignore_noqa``: ``# noqa`` silences nothing, as when grading code whose author wants a
    rule to stop firing)."""
    with tempfile.TemporaryDirectory(prefix="pyenv-ruff-") as tmp:
        for i, code in enumerate(codes):
            (Path(tmp) / f"c{i:05d}.py").write_text(code, encoding="utf-8")
        extra = ("--ignore-noqa",) if ignore_noqa else ()
        args = _ruff_args(select, *extra, "--exit-zero", "--output-format", "json", ".")
        items = _ruff_items(_run(args, cwd=tmp))
    hits: list[list[Hit]] = [[] for _ in codes]
    for item in items:
        hits[int(Path(item["filename"]).stem[1:])].append(_span(item))
    return hits


def ruff_fix(code: str, select: Sequence[str] = DEFAULT_RUFF_RULES) -> str:
    """``code`` with ruff's safe autofixes applied (unchanged when none applies)."""
    args = _ruff_args(select, "--fix-only", "--exit-zero", "--stdin-filename", "solution.py", "-")
    return _run(args, code) or code


def run_bandit(code: str) -> list[AnalyzerHit]:
    """bandit's findings on ``code`` (security only), sorted by line."""
    out = _run([sys.executable, "-m", "bandit", "-q", "-f", "json", "-"], code)
    try:
        results = json.loads(out or "{}").get("results", [])
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"bandit returned unreadable output: {exc}", tool="bandit") from exc
    hits = [
        AnalyzerHit(
            tool="bandit",
            rule_id=item["test_id"],
            start_line=min(item["line_range"] or [item["line_number"]]),
            end_line=max(item["line_range"] or [item["line_number"]]),
            message=item["issue_text"],
            category=Category.SECURITY,
            severity=_BANDIT_SEVERITY.get(item["issue_severity"], Severity.MEDIUM),
        )
        for item in results
    ]
    return sorted(hits, key=lambda h: (h.start_line, h.rule_id))
