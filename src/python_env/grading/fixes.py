"""Suggested fixes: where one goes, how big it may be, and what it did (pure functions).

A fix for one issue is judged in the program it should complete: the reference fix with that
issue's part undone (``grading.reference.counterfactual``), so the other issues never stand in
its way. The fix replaces its finding's lines there, the hidden tests run in the sandbox (the task
runner's work), and it verifies when every test then behaves as on the reference fix, and, for a
**static** issue (an analyzer rule the reference fix silences), the rule fires no more often than
on the fix. A **behaviour** issue (bug or security) is checkable when undoing its part makes a
hidden test fail; an issue no check can see (a performance or maintainability issue without a
rule) is ``uncheckable``: locating it earns full credit. A fix is a block about the size of its
finding's lines (``fits``), not a rewritten module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from python_env.types import (
    Category,
    ExitReason,
    Finding,
    FixStatus,
    Issue,
    TestReport,
)


class Check(StrEnum):
    """How a suggested fix for an issue is verified."""

    STATIC = "static"
    BEHAVIOUR = "behaviour"
    NONE = "none"


MIN_FIX_LINES = 12  # a suggested fix may have max(MIN_FIX_LINES, FIX_LINES_FACTOR x span) lines
FIX_LINES_FACTOR = 4


def check_for(issue: Issue, static_rules: frozenset[str], has_fail_to_pass: bool) -> Check:
    """Which check can verify a fix for ``issue`` on its task."""
    if issue.rule_id and issue.rule_id in static_rules:
        return Check.STATIC
    if issue.category in (Category.BUG, Category.SECURITY) and has_fail_to_pass:
        return Check.BEHAVIOUR
    return Check.NONE


def fits(finding: Finding) -> bool:
    """A suggested fix replaces its finding's lines with a like-sized block, not a module."""
    span = finding.end_line - finding.start_line + 1
    lines = len(source_lines(finding.suggested_fix))
    return 0 < lines <= max(MIN_FIX_LINES, FIX_LINES_FACTOR * span)


def source_lines(code: str) -> list[str]:
    """``code`` split into lines as Python numbers them (only \\n, \\r\\n and \\r end a
    line; ``str.splitlines`` also splits on form feeds and Unicode separators)."""
    return [line for line in _LINE.findall(code) if line]


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def apply_fix(code: str, finding: Finding) -> str:
    """The original ``code`` with the finding's lines replaced by its ``suggested_fix``."""
    lines = source_lines(code)
    replacement = finding.suggested_fix
    if replacement and not replacement.endswith(("\n", "\r")):
        replacement += "\n"
    head, tail = "".join(lines[: finding.start_line - 1]), "".join(lines[finding.end_line :])
    return head + replacement + tail


def fix_status(
    check: Check,
    issue: Issue,
    report: TestReport,
    rule_counts: Mapping[str, int],
    fix_rule_counts: Mapping[str, int],
) -> FixStatus:
    """Whether a fix fixes ``issue``, from the hidden run of the program it completes (the
    reference fix with this issue's part undone, then the fix applied): every test must behave
    as on the reference, and for a static issue its rule fire no more often than on the fix."""
    if check is Check.NONE:
        return FixStatus.UNCHECKABLE
    if report.exit_reason is not ExitReason.OK or report.error or report.failed:
        return FixStatus.FAILED
    if check is Check.STATIC:
        rule = issue.rule_id
        if not 0 <= rule_counts.get(rule, 0) <= fix_rule_counts.get(rule, 0):
            return FixStatus.FAILED
    return FixStatus.VERIFIED
