"""Turns sandbox outcomes into test verdicts and a repair score (pure functions).

A test passes when the candidate's outcome equals the reference fix's outcome. Comparing with the
original code's outcomes splits hidden tests into fail-to-pass (the bug) and pass-to-pass (behaviour
that must survive). The repair score multiplies the two pass rates, so leaving the bug in place and
deleting the function body both score 0.
"""

from __future__ import annotations

from python_env.types import (
    ExecReport,
    ExitReason,
    Suite,
    TestReport,
    TestScore,
    TestVerdict,
    VerdictKind,
)


def grade_suite(
    suite: Suite, candidate: ExecReport, reference: ExecReport, original: ExecReport
) -> TestReport:
    """Compare each of the reference's tests with the candidate's outcome for it."""
    verdicts = []
    for expected in reference.outcomes:
        got = candidate.outcome(expected.name)
        before = original.outcome(expected.name)
        same = before is not None and before.same_as(expected)
        kind = VerdictKind.PASS_TO_PASS if same else VerdictKind.FAIL_TO_PASS
        passed = got is not None and got.same_as(expected)
        verdicts.append(
            TestVerdict(
                name=expected.name, passed=passed, kind=kind, message=_why(got, passed, candidate)
            )
        )
    return TestReport(
        suite=suite,
        exit_reason=candidate.exit_reason,
        verdicts=tuple(verdicts),
        error=candidate.error,
        stdout=candidate.stdout,
        stderr=candidate.stderr,
        cpu_ms=candidate.cpu_ms,
    )


def _why(got: object, passed: bool, candidate: ExecReport) -> str:
    if passed:
        return ""
    if got is None:
        if candidate.error:
            return f"not run: {candidate.error}"
        return f"not run ({candidate.exit_reason.value})"
    message = getattr(got, "message", "")
    return message or "result differs from the expected behaviour"


def repair_score(report: TestReport) -> TestScore:
    """F2P pass rate * P2P pass rate, each 1.0 when the suite has no test of that kind."""
    f2p = [v for v in report.verdicts if v.kind is VerdictKind.FAIL_TO_PASS]
    p2p = [v for v in report.verdicts if v.kind is VerdictKind.PASS_TO_PASS]
    f2p_passed = sum(v.passed for v in f2p)
    p2p_passed = sum(v.passed for v in p2p)
    rate_f2p = f2p_passed / len(f2p) if f2p else 1.0
    rate_p2p = p2p_passed / len(p2p) if p2p else 1.0
    if report.exit_reason is ExitReason.PROTOCOL_ERROR:
        rate_f2p = rate_p2p = 0.0
    return TestScore(
        score=round(rate_f2p * rate_p2p, 6),
        fail_to_pass=(f2p_passed, len(f2p)),
        pass_to_pass=(p2p_passed, len(p2p)),
    )
