"""Turns sandbox outcomes into test verdicts and a repair score (pure functions).

A test passes when the candidate's outcome equals the reference fix's outcome. Comparing with the
original code's outcomes splits hidden tests into fail-to-pass (the bug) and pass-to-pass (behaviour
that must survive). An answer-key rule the reference fix silences is a fail-to-pass check too
(``static_verdicts``): a security hole the tests cannot see is not repaired while it is there.
The repair score multiplies the two pass rates, so leaving the bug in place and deleting the
function body both score 0, and a suite with nothing that fails before the fix pays nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from python_env.types import (
    ExecReport,
    ExitReason,
    Suite,
    TestOutcome,
    TestReport,
    TestScore,
    TestStatus,
    TestVerdict,
    VerdictKind,
)


def grade_suite(
    suite: Suite, candidate: ExecReport, reference: ExecReport, original: ExecReport
) -> TestReport:
    """Compare each of the reference's tests with the candidate's outcome for it."""
    verdicts = []
    for expected in graded_outcomes(reference):
        got = candidate.outcome(expected.name)
        before = original.outcome(expected.name)
        same = before is not None and before.same_as(expected)
        kind = VerdictKind.PASS_TO_PASS if same else VerdictKind.FAIL_TO_PASS
        passed = got is not None and got.same_as(expected)
        message = "" if passed else _why(got, expected, candidate)
        verdicts.append(TestVerdict(name=expected.name, passed=passed, kind=kind, message=message))
    return TestReport(
        suite=suite,
        exit_reason=candidate.exit_reason,
        verdicts=tuple(verdicts),
        skipped=tuple(o.name for o in reference.outcomes if o.status is TestStatus.SKIPPED),
        error=candidate.error,
        stdout=candidate.stdout,
        stderr=candidate.stderr,
        cpu_ms=candidate.cpu_ms,
    )


def graded_outcomes(reference: ExecReport) -> list[TestOutcome]:
    """The reference's outcomes that grade a suite: a test the reference skips shows nothing."""
    return [o for o in reference.outcomes if o.status is not TestStatus.SKIPPED]


def failed_in_reference(reference: ExecReport, expected: Mapping[int, Any]) -> list[str]:
    """Tests the reference fix fails as pytest would see them: a test that raised, one whose
    assert of a truth or a comparison came out false, or one whose assert against a literal
    saw another value (``expected``: the normalised literal, per line)."""
    failures = []
    for outcome in reference.outcomes:
        if outcome.status is TestStatus.RAISED:
            failures.append(f"test {outcome.name} raised {outcome.message or outcome.value}")
            continue
        value = outcome.value
        for check in value["checks"] if _has_checks(value) else ():
            line, seen = check[0], check[1]
            if check[-1] is False:
                failures.append(f"test {outcome.name}: the assert on line {line} is false")
                break
            if line in expected and isinstance(seen, list) and len(check) == 2:
                wrong = [v for v in seen if v != expected[line]]
                if wrong:
                    failures.append(
                        f"test {outcome.name}: the assert on line {line} got {_short(wrong[0])}, "
                        f"expected {_short(expected[line])}"
                    )
                    break
    return failures


def _why(got: TestOutcome | None, expected: TestOutcome, candidate: ExecReport) -> str:
    if got is None:
        if candidate.error:
            return f"not run: {candidate.error}"
        return f"not run ({candidate.exit_reason.value})"
    if got.message:
        return got.message
    return _first_difference(got.value, expected.value)


def _first_difference(got: Any, expected: Any) -> str:
    """Which check (rewritten assert) of a test saw other values than the reference's."""
    if not (_has_checks(got) and _has_checks(expected)):
        return f"returned {_short(got)}, expected {_short(expected)}"
    for mine, theirs in zip(got["checks"], expected["checks"], strict=False):
        if mine != theirs:
            return (
                f"assert on line {theirs[0]}: got {_short(mine[1])}, expected {_short(theirs[1])}"
            )
    if len(got["checks"]) != len(expected["checks"]):
        return f"{len(got['checks'])} asserts ran, expected {len(expected['checks'])}"
    return f"returned {_short(got['returned'])}, expected {_short(expected['returned'])}"


def _has_checks(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("checks"), list)


def _short(value: Any, width: int = 120) -> str:
    """``repr(value)``, cut to ``width`` characters; a large value is not written out past
    them (its floats, the costly part, are left alone)."""
    out = _Prefix(width + 1)
    with contextlib.suppress(_Prefix.Full):
        out.add(value)
    text = "".join(out.parts)
    return text if len(text) <= width else text[: width - 3] + "..."


class _Prefix:
    """The start of a repr, written until it holds ``size`` characters (then ``Full``)."""

    class Full(Exception):
        pass

    def __init__(self, size: int) -> None:
        self.parts: list[str] = []
        self.left = size

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.left -= len(text)
        if self.left <= 0:
            raise _Prefix.Full

    def add(self, value: Any) -> None:
        kind = type(value)  # exact types: a subclass may have a repr of its own
        if kind is dict:
            self.put("{")
            for i, (key, item) in enumerate(value.items()):
                self.put(", " if i else "")
                self.add(key)
                self.put(": ")
                self.add(item)
            self.put("}")
        elif kind is list or kind is tuple:
            self.put("[" if kind is list else "(")
            for i, item in enumerate(value):
                self.put(", " if i else "")
                self.add(item)
            self.put("]" if kind is list else ",)" if len(value) == 1 else ")")
        else:
            self.put(repr(value))


def static_verdicts(
    report: TestReport,
    rules: frozenset[str],
    candidate: Mapping[str, int],
    fix: Mapping[str, int],
) -> tuple[TestVerdict, ...]:
    """One fail-to-pass check per answer-key rule the reference fix silences.

    The candidate passes it when the rule fires no more often than on the fix (-1: the code does
    not parse) *and* the code still does its job: every pass-to-pass test passes and, if the
    suite has fail-to-pass tests, at least one of them does. Deleting the code silences every
    rule; it must not earn the check.
    """
    p2p = [v.passed for v in report.verdicts if v.kind is VerdictKind.PASS_TO_PASS]
    f2p = [v.passed for v in report.verdicts if v.kind is VerdictKind.FAIL_TO_PASS]
    working = all(p2p) and (any(f2p) or not f2p) and (bool(p2p) or any(f2p))
    return tuple(
        TestVerdict(
            name=f"static:{rule}",
            passed=working and 0 <= candidate.get(rule, 0) <= fix.get(rule, 0),
            kind=VerdictKind.FAIL_TO_PASS,
            message=f"{rule} fires {candidate.get(rule, 0)} time(s), the fix {fix.get(rule, 0)}",
        )
        for rule in sorted(rules)
    )


def repair_score(report: TestReport) -> TestScore:
    """F2P pass rate * P2P pass rate: 0 with no fail-to-pass check (nothing shows a repair),
    and a P2P rate of 1.0 when the suite has no pass-to-pass test."""
    f2p = [v for v in report.verdicts if v.kind is VerdictKind.FAIL_TO_PASS]
    p2p = [v for v in report.verdicts if v.kind is VerdictKind.PASS_TO_PASS]
    f2p_passed = sum(v.passed for v in f2p)
    p2p_passed = sum(v.passed for v in p2p)
    rate_f2p = f2p_passed / len(f2p) if f2p else 0.0
    rate_p2p = p2p_passed / len(p2p) if p2p else 1.0
    if report.exit_reason is ExitReason.PROTOCOL_ERROR:
        rate_f2p = rate_p2p = 0.0
    return TestScore(
        score=round(rate_f2p * rate_p2p, 6),
        fail_to_pass=(f2p_passed, len(f2p)),
        pass_to_pass=(p2p_passed, len(p2p)),
    )


def public_report(hidden: TestReport) -> TestReport:
    """A hidden run as the agent may see it: verdicts by name, nothing the candidate printed."""
    verdicts = tuple(v.model_copy(update={"message": ""}) for v in hidden.verdicts)
    return TestReport(
        suite=hidden.suite,
        exit_reason=hidden.exit_reason,
        verdicts=verdicts,
        skipped=hidden.skipped,
    )
