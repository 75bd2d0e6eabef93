from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from python_env.grading.performance import perf_score
from python_env.grading.score import weighted_score
from python_env.grading.tests import _short, grade_suite, repair_score
from python_env.types import ExecReport, ExitReason, Suite, TestOutcome
from python_env.types import TestStatus as Status


def report(values: dict[str, object], reason: ExitReason = ExitReason.OK) -> ExecReport:
    outcomes = tuple(
        TestOutcome(name=n, status=Status.RETURNED, value=v) for n, v in values.items()
    )
    return ExecReport(exit_reason=reason, outcomes=outcomes)


REFERENCE = report({"t_bug": 2, "t_keep1": 5, "t_keep2": 7})
ORIGINAL = report({"t_bug": 3, "t_keep1": 5, "t_keep2": 7})


def test_fixed_code_scores_one() -> None:
    graded = grade_suite(Suite.HIDDEN, REFERENCE, REFERENCE, ORIGINAL)
    assert repair_score(graded).score == 1.0
    assert [v.kind for v in graded.verdicts] == ["fail_to_pass", "pass_to_pass", "pass_to_pass"]


def test_unchanged_code_scores_zero() -> None:
    assert repair_score(grade_suite(Suite.HIDDEN, ORIGINAL, REFERENCE, ORIGINAL)).score == 0.0


def test_deleted_body_scores_zero() -> None:
    stub = report({"t_bug": None, "t_keep1": None, "t_keep2": None})
    assert repair_score(grade_suite(Suite.HIDDEN, stub, REFERENCE, ORIGINAL)).score == 0.0


def test_regression_scales_the_fix_down() -> None:
    partial = report({"t_bug": 2, "t_keep1": 5, "t_keep2": 0})
    assert repair_score(grade_suite(Suite.HIDDEN, partial, REFERENCE, ORIGINAL)).score == 0.5


def test_missing_outcomes_fail_and_forged_channel_scores_zero() -> None:
    crashed = report({"t_bug": 2}, ExitReason.CRASHED)
    graded = grade_suite(Suite.HIDDEN, crashed, REFERENCE, ORIGINAL)
    assert graded.passed == 1
    assert "crashed" in graded.verdicts[1].message
    forged = report({"t_bug": 2, "t_keep1": 5, "t_keep2": 7}, ExitReason.PROTOCOL_ERROR)
    assert repair_score(grade_suite(Suite.HIDDEN, forged, REFERENCE, ORIGINAL)).score == 0.0


def test_perf_score_is_share_of_log_speedup() -> None:
    assert perf_score(10_000, 100, 100, tests_pass=True).score == 1.0
    assert perf_score(10_000, 100, 1_000, tests_pass=True).score == 0.5
    assert perf_score(10_000, 100, 10_000, tests_pass=True).score == 0.0
    assert perf_score(10_000, 100, 100, tests_pass=False).score == 0.0
    assert perf_score(10_000, 100, 100, tests_pass=True, tampered=True).score == 0.0
    assert perf_score(10_000, 100, None, tests_pass=True).score == 0.0


def test_weighted_score_is_clamped_mean() -> None:
    assert weighted_score({"review": 1.0, "tests": 0.5}, {"review": 1.0, "tests": 1.0}) == 0.75
    assert weighted_score({"review": 1.0}, {"review": 1.0, "tests": 1.0}) == 0.5
    assert weighted_score({}, {}) == 0.0


LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=8)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=60,
)


@given(VALUES)
def test_a_short_repr_is_the_start_of_the_full_one(value: Any) -> None:
    """Failure messages show values cut to 120 characters; the cut is written without writing
    out the whole value, and must read exactly as the cut of its full repr."""
    text = repr(value)
    assert _short(value) == (text if len(text) <= 120 else text[:117] + "...")
