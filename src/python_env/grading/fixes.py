"""Suggested fixes: applying one to the original code, and judging what it did (pure functions).

A fix is applied alone to the original code and run on the hidden tests (the sandbox work is the
task runner's). How it is checked depends on the issue (``check_for``):

- **static** (an analyzer rule the reference fix silences): the rule fires less often than on
  the original;
- **behaviour** (a bug or security issue of a task with fail-to-pass tests): at least one
  fail-to-pass test now passes;

and in both cases no pass-to-pass test breaks. An issue neither can check (a performance or
maintainability issue without a rule) is ``uncheckable``: locating it earns full credit.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from python_env.types import (
    Category,
    ExitReason,
    Finding,
    FixStatus,
    Issue,
    TestReport,
    VerdictKind,
)


class Check(StrEnum):
    """How a suggested fix for an issue is verified."""

    STATIC = "static"
    BEHAVIOUR = "behaviour"
    NONE = "none"


def check_for(issue: Issue, static_rules: frozenset[str], has_fail_to_pass: bool) -> Check:
    """Which check can verify a fix for ``issue`` on its task."""
    if issue.rule_id and issue.rule_id in static_rules:
        return Check.STATIC
    if issue.category in (Category.BUG, Category.SECURITY) and has_fail_to_pass:
        return Check.BEHAVIOUR
    return Check.NONE


def apply_fix(code: str, finding: Finding) -> str:
    """The original ``code`` with the finding's lines replaced by its ``suggested_fix``."""
    lines = code.splitlines(keepends=True)
    replacement = finding.suggested_fix
    if replacement and not replacement.endswith("\n"):
        replacement += "\n"
    head, tail = "".join(lines[: finding.start_line - 1]), "".join(lines[finding.end_line :])
    return head + replacement + tail


def fix_status(
    check: Check,
    issue: Issue,
    report: TestReport,
    rule_counts: Mapping[str, int],
    original_rule_counts: Mapping[str, int],
) -> FixStatus:
    """Whether a patched original (``report``: its hidden run) fixes ``issue``."""
    if check is Check.NONE:
        return FixStatus.UNCHECKABLE
    if report.exit_reason is ExitReason.PROTOCOL_ERROR or report.error:
        return FixStatus.FAILED
    verdicts = [v for v in report.verdicts if not v.name.startswith("static:")]
    if not all(v.passed for v in verdicts if v.kind is VerdictKind.PASS_TO_PASS):
        return FixStatus.FAILED
    if check is Check.STATIC:
        rule = issue.rule_id
        fixed = 0 <= rule_counts.get(rule, 0) < original_rule_counts.get(rule, 0)
    else:
        fixed = any(v.passed for v in verdicts if v.kind is VerdictKind.FAIL_TO_PASS)
    return FixStatus.VERIFIED if fixed else FixStatus.FAILED
