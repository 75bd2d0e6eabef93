"""ruff and bandit as a second oracle: their findings on a piece of code, as review categories.

Both tools only parse the code (they never execute it), so they run directly on the text. ruff runs
with ``--isolated`` so no project configuration changes its verdicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from python_env.errors import SandboxError
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
        return Finding(
            start_line=self.start_line,
            end_line=self.end_line,
            category=self.category,
            severity=self.severity,
            rule_id=self.rule_id,
            message=f"{self.rule_id}: {self.message}"[:2_000],
        )


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


def _run(args: Sequence[str], code: str) -> str:
    try:
        proc = subprocess.run(
            list(args), input=code, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"analyzer {args[0]} failed to run: {exc}") from exc
    return proc.stdout


def run_ruff(code: str, select: Sequence[str] = DEFAULT_RUFF_RULES) -> list[AnalyzerHit]:
    """ruff's findings on ``code``, sorted by line."""
    out = _run(
        [_ruff_bin(), "check", "--isolated", "--no-cache", "--output-format", "json",
         "--select", ",".join(select), "--stdin-filename", "solution.py", "-"],
        code,
    )  # fmt: skip
    hits = [
        AnalyzerHit(
            tool="ruff",
            rule_id=item["code"] or "E999",
            start_line=item["location"]["row"],
            end_line=max(item["location"]["row"], item["end_location"]["row"]),
            message=item["message"],
            category=category_of(item["code"] or "E999"),
            severity=Severity.HIGH if (item["code"] or "").startswith("S") else Severity.MEDIUM,
        )
        for item in json.loads(out or "[]")
    ]
    return sorted(hits, key=lambda h: (h.start_line, h.rule_id))


def ruff_fix(code: str, select: Sequence[str] = DEFAULT_RUFF_RULES) -> str:
    """``code`` with ruff's safe autofixes applied (unchanged when none applies)."""
    fixed = _run(
        [_ruff_bin(), "check", "--isolated", "--no-cache", "--fix-only", "--exit-zero",
         "--select", ",".join(select), "--stdin-filename", "solution.py", "-"],
        code,
    )  # fmt: skip
    return fixed or code


def run_bandit(code: str) -> list[AnalyzerHit]:
    """bandit's findings on ``code`` (security only), sorted by line."""
    out = _run([sys.executable, "-m", "bandit", "-q", "-f", "json", "-"], code)
    try:
        results = json.loads(out or "{}").get("results", [])
    except json.JSONDecodeError as exc:
        raise SandboxError(f"bandit returned unreadable output: {exc}") from exc
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
