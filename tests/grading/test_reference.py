"""Each issue's own part of the reference fix: the counterfactual a fix completes, and the
oracle's finding (pure functions over the fixture task)."""

from __future__ import annotations

from python_env.grading.fixes import fits
from python_env.grading.reference import counterfactual, reference_finding
from tests.conftest import fixture_task

TASK = fixture_task("assert-style-discount")
DIVISOR, SHELL, COUPONS = TASK.issues


def test_the_counterfactual_undoes_one_issue_and_keeps_the_others_fixed() -> None:
    undone = counterfactual(TASK, DIVISOR)
    assert "// 1000" in undone.code  # this issue, as in the original
    assert "shell=True" not in undone.code and "coupons or []" in undone.code  # the others fixed
    own = reference_finding(TASK, DIVISOR)
    assert undone.apply(own) == TASK.fix  # its own part completes the reference fix


def test_a_fix_on_another_issues_lines_has_no_place_in_the_counterfactual() -> None:
    undone = counterfactual(TASK, DIVISOR)
    on_shell_line = reference_finding(TASK, SHELL)
    assert undone.apply(on_shell_line) is None


def test_every_issue_of_the_fixture_has_a_fitting_own_fix() -> None:
    for issue in TASK.issues:
        own = reference_finding(TASK, issue)
        assert own.suggested_fix and fits(own), issue.id
