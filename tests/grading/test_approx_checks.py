"""pytest.approx checks: matched with the reference's value within the reference's tolerance."""

from __future__ import annotations

from typing import Any

from python_env.types import TestOutcome, TestStatus

TOLERANCE = {"rel": 1e-6, "abs": 1e-12}


def _outcome(value: Any, tolerance: dict[str, float] = TOLERANCE) -> TestOutcome:
    checks = [[3, value, tolerance], [4, ["exact"]]]
    return TestOutcome(name="t", status=TestStatus.RETURNED, value={"checks": checks,
                                                                    "returned": None})  # fmt: skip


def test_a_value_within_the_tolerance_matches() -> None:
    reference = _outcome(0.3)
    assert _outcome(0.3000001).same_as(reference)
    assert _outcome([0.1, {"__dict__": [["a", 2.0000000001]]}]).same_as(
        _outcome([0.1, {"__dict__": [["a", 2.0]]}])
    )


def test_a_value_outside_it_or_another_shape_does_not() -> None:
    reference = _outcome(0.3)
    assert not _outcome(0.31).same_as(reference)
    assert not _outcome([0.3]).same_as(reference)
    assert not _outcome("0.3").same_as(reference)


def test_the_tolerance_is_the_references_a_forged_wider_one_fails() -> None:
    reference = _outcome(0.3)
    assert not _outcome(0.5, {"rel": 1.0, "abs": 1.0}).same_as(reference)
    assert not _outcome(0.3, {"rel": 1e-6, "abs": 1e-12, "x": 1}).same_as(reference)


def test_other_checks_and_the_return_value_still_match_exactly() -> None:
    reference = _outcome(0.3)
    other = reference.model_copy(
        update={"value": {"checks": [[3, 0.3, TOLERANCE], [4, ["EXACT"]]], "returned": None}}
    )
    assert not other.same_as(reference)


def test_a_reference_that_misses_a_literal_fails_as_pytest_would() -> None:
    from python_env.grading.tests import failed_in_reference
    from python_env.types import ExecReport, ExitReason

    def report(*checks: list[Any]) -> ExecReport:
        value = {"checks": list(checks), "returned": None}
        outcome = TestOutcome(name="t", status=TestStatus.RETURNED, value=value)
        return ExecReport(exit_reason=ExitReason.OK, outcomes=(outcome,))

    assert failed_in_reference(report([2, [3]], [3, True]), {2: 3}) == []
    assert failed_in_reference(report([2, [4]]), {2: 3}) == [
        "test t: the assert on line 2 got 4, expected 3"
    ]
    assert failed_in_reference(report([5, False]), {}) == ["test t: the assert on line 5 is false"]
