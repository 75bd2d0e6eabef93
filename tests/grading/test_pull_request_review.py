"""The approval rule of pull-request tasks (``grading.findings.review_pull_request``) and the
weight of their review component, on the calc pull requests of ``tests.repo_helpers``: a clean
one earns the review only when approved with no finding; approving a planted one earns nothing;
otherwise findings score as on any repository task. Other tasks' weights do not change."""

from __future__ import annotations

import pytest

from python_env.grading.findings import review_pull_request, score_findings
from python_env.grading.score import component_weights, is_pull_request
from python_env.types import Finding, ReviewScore
from tests.conftest import fixture_task
from tests.repo_helpers import (
    CLEAN,
    CLEAN_PR,
    EMPTY_MEAN,
    EVAL_PR,
    PLANTED_PR,
    PR_FINDING,
    PR_ISSUE,
    SIGN,
)

RIGHT = Finding.model_validate(PR_FINDING)
WRONG = Finding.model_validate({**PR_FINDING, "start_line": 7, "end_line": 7})  # mul's line
ISSUES = PLANTED_PR.issues
EVERY = frozenset(issue.id for issue in ISSUES)  # repository fixes are not run: located = full


def scores(review: ReviewScore) -> tuple[float, float, float]:
    return review.precision, review.recall, review.f1


def test_pull_requests_weigh_the_review_even_with_no_issue() -> None:
    assert is_pull_request(CLEAN_PR) and is_pull_request(PLANTED_PR)
    assert not is_pull_request(EMPTY_MEAN) and not is_pull_request(fixture_task())
    assert component_weights(CLEAN_PR) == {"review": 1.0}
    assert component_weights(PLANTED_PR) == {"review": 1.0, "tests": 1.0}
    assert component_weights(EVAL_PR) == {"review": 1.0}
    # Unchanged elsewhere: no answer key and no pull request, no review component.
    assert component_weights(CLEAN) == component_weights(EMPTY_MEAN) == {"tests": 1.0}
    assert component_weights(SIGN) == {"review": 1.0, "tests": 1.0}
    assert component_weights(fixture_task()) == {"review": 1.0, "tests": 1.0}


@pytest.mark.parametrize(
    ("findings", "approved", "f1"),
    [
        ([], True, 1.0),  # approve: the right answer
        ([RIGHT], True, 0.0),  # a finding, then approve: a false alarm all the same
        ([], False, 0.0),  # submit without a verdict earns nothing
        ([RIGHT, WRONG], False, 0.0),  # findings, then submit
    ],
    ids=["approve", "finding-then-approve", "submit", "findings-then-submit"],
)
def test_a_clean_pull_request_earns_the_review_only_when_approved_without_findings(
    findings: list[Finding], approved: bool, f1: float
) -> None:
    review = review_pull_request(findings, (), approved)
    assert scores(review) == (f1, f1, f1)
    assert review.matched == () and review.missed_issues == ()
    assert review.unmatched_findings == tuple(range(len(findings)))  # each one a false alarm


@pytest.mark.parametrize("findings", [[], [RIGHT], [RIGHT, WRONG]], ids=["none", "right", "two"])
def test_approving_a_planted_pull_request_earns_nothing(findings: list[Finding]) -> None:
    review = review_pull_request(findings, ISSUES, approved=True, uncheckable=EVERY)
    assert scores(review) == (0.0, 0.0, 0.0)
    assert review.matched == () and review.missed_issues == (PR_ISSUE.id,)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [([RIGHT], (1.0, 1.0, 1.0)), ([RIGHT, WRONG], (0.5, 1.0, 0.666667)), ([WRONG], (0, 0, 0))],
    ids=["right", "right-and-wrong", "wrong"],
)
def test_a_planted_pull_request_not_approved_scores_its_findings_as_before(
    findings: list[Finding], expected: tuple[float, float, float]
) -> None:
    review = review_pull_request(findings, ISSUES, approved=False, uncheckable=EVERY)
    assert review == score_findings(findings, ISSUES, uncheckable=EVERY)
    assert scores(review) == expected
