"""The README's credit table, produced here: what each kind of finding earns, checked for real.

Every row is one finding (or a pair) against the fixture task ``assert-style-discount``, graded
at submit by the real task runner and sandbox (suggested fixes are applied and run). The test
asserts each credit, then that the README shows exactly this table.

The approval table beside it: what the review component of a pull-request task is after each
way of ending the episode (approve or submit, with or without findings), played in process on
the calc pull requests of ``tests.repo_helpers``, one clean and one with a planted bug.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction
from python_env.environment.task_runner import TaskRunner
from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import TaskCatalog
from python_env.tasks.repo_splits import RepoSplits
from python_env.tasks.repo_task import RepoTask
from python_env.types import Category, Finding, Severity
from tests.conftest import fixture_task
from tests.repo_helpers import CLEAN_PR, PLANTED_PR, PR_FINDING, build_store

README = Path(__file__).resolve().parents[2] / "README.md"
TASK = fixture_task("assert-style-discount")
DIVISOR, COUPONS = TASK.issues[0], TASK.issues[2]  # line 10 (bug); lines 24-26 (B006)
FIXED = "    return total_cents - total_cents * percent // 100"
BROKEN = "    return total_cents // 100"
WHOLE = FIXED + "\n    pass" * 15  # a fix far larger than its finding


def at(start: int, end: int | None = None, **change: Any) -> Finding:
    fields: dict[str, Any] = {
        "start_line": start, "end_line": end or start, "category": Category.BUG,
        "severity": Severity.HIGH, "message": "integer division by 1000 shrinks every discount",
    }  # fmt: skip
    return Finding(**(fields | change))


ROWS: list[tuple[str, list[Finding], float]] = [
    ("exact span, no fix", [at(10)], 0.5),
    ("shifted 1 line", [at(9)], 0.5),
    ("shifted 2 lines", [at(8)], 0.5),
    ("shifted 3 lines", [at(7)], 0.0),
    ("shifted 5 lines", [at(5)], 0.0),
    ("the whole function (lines 6-10)", [at(6, 10)], 0.5),
    ("the whole file", [at(1, 27)], 0.0),
    ("the symptom, an alternative span (line 16)", [at(16)], 0.5),
    ("wrong category (style)", [at(10, category=Category.STYLE)], 0.0),
    ("severity one level off", [at(10, severity=Severity.MEDIUM)], 0.25),
    ("right place, wrong message", [at(10, message="the variable name is unclear")], 0.5),
    ("right place, verified fix", [at(10, suggested_fix=FIXED)], 1.0),
    ("right place, fix that breaks tests", [at(10, suggested_fix=BROKEN)], 0.5),
    ("right place, advice instead of code", [at(10, suggested_fix="use // 100")], 0.5),
    ("right place, a whole module as the fix", [at(10, suggested_fix=WHOLE)], 0.5),
    ("B006 as maintainability (its category)", [reference_finding(TASK, COUPONS)], 1.0),
    (
        "B006 as bug (an acceptable alternative)",
        [reference_finding(TASK, COUPONS).model_copy(update={"category": Category.BUG})],
        1.0,
    ),
    ("noise: a finding on a clean line", [at(3)], 0.0),
    ("duplicate: the same finding twice (the second)", [at(10), at(10)], 0.0),
]


def credit_of(runner: TaskRunner, findings: list[Finding]) -> float:
    review = runner.evaluate(TASK, TASK.code, findings).review
    assert review is not None
    last = len(findings) - 1
    return next((m.credit for m in review.matched if m.finding_index == last), 0.0)


def render(credits: list[float]) -> str:
    lines = ["| finding | credit |", "|---|---|"]
    lines += [
        f"| {name} | {credit:g} |" for (name, _, _), credit in zip(ROWS, credits, strict=True)
    ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def credits(runner: TaskRunner) -> list[float]:
    return [credit_of(runner, findings) for _, findings, _ in ROWS]


@pytest.mark.parametrize("row", range(len(ROWS)), ids=[name for name, _, _ in ROWS])
def test_credit(row: int, credits: list[float]) -> None:
    assert credits[row] == ROWS[row][2]


def test_readme_shows_this_table(credits: list[float]) -> None:
    section = re.search(
        r"<!-- credit-table:start -->\n(.*?)\n<!-- credit-table:end -->", README.read_text(), re.S
    )
    assert section is not None, "README lost its credit table markers"
    assert section.group(1) == render(credits), "README's credit table is out of date:\n" + render(
        credits
    )


CLEAN_LINE = {**PR_FINDING, "start_line": 7, "end_line": 7}  # mul: nothing wrong there
APPROVE, SUBMIT = {"kind": "approve"}, {"kind": "submit"}


def review(*findings: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "review", "findings": list(findings)}


APPROVAL_ROWS: list[tuple[RepoTask, str, list[dict[str, Any]], float]] = [
    (CLEAN_PR, "approves", [APPROVE], 1.0),
    (CLEAN_PR, "submits", [SUBMIT], 0.0),
    (CLEAN_PR, "reports a finding, then approves", [review(CLEAN_LINE), APPROVE], 0.0),
    (CLEAN_PR, "reports a finding, then submits", [review(CLEAN_LINE), SUBMIT], 0.0),
    (PLANTED_PR, "approves", [APPROVE], 0.0),
    (PLANTED_PR, "reports the planted line, then approves", [review(PR_FINDING), APPROVE], 0.0),
    (PLANTED_PR, "reports the planted line, then submits", [review(PR_FINDING), SUBMIT], 1.0),
    (
        PLANTED_PR,
        "reports the planted line and a clean one, then submits",
        [review(PR_FINDING, CLEAN_LINE), SUBMIT],
        0.667,
    ),
    (PLANTED_PR, "reports a clean line, then submits", [review(CLEAN_LINE), SUBMIT], 0.0),
]


@pytest.fixture(scope="module")
def approvals(tmp_path_factory: pytest.TempPathFactory, runner: TaskRunner) -> list[float]:
    store = build_store(tmp_path_factory.mktemp("repos"), (CLEAN_PR, PLANTED_PR))
    env = PythonEnvironment(TaskCatalog({}).with_repos(RepoSplits(store)), runner)
    reviews = []
    for task, _, actions, _ in APPROVAL_ROWS:
        env.reset(task_id=task.id)
        for action in actions:
            obs = env.step(CodeReviewAction.model_validate(action))
            assert obs.error is None, obs.error
        assert obs.evaluation is not None
        reviews.append(round(obs.evaluation.components["review"], 3))
    return reviews


def render_approvals(reviews: list[float]) -> str:
    lines = ["| pull request | the agent | review |", "|---|---|---|"]
    for (task, what, _, _), value in zip(APPROVAL_ROWS, reviews, strict=True):
        kind = "clean" if not task.issues else "planted bug"
        lines.append(f"| {kind} | {what} | {value:g} |")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "row", range(len(APPROVAL_ROWS)), ids=[f"{t.id}: {w}" for t, w, _, _ in APPROVAL_ROWS]
)
def test_approval(row: int, approvals: list[float]) -> None:
    assert approvals[row] == APPROVAL_ROWS[row][3]


def test_readme_shows_the_approval_table(approvals: list[float]) -> None:
    section = re.search(
        r"<!-- approval-table:start -->\n(.*?)\n<!-- approval-table:end -->",
        README.read_text(),
        re.S,
    )
    assert section is not None, "README lost its approval table markers"
    table = render_approvals(approvals)
    assert section.group(1) == table, "README's approval table is out of date:\n" + table
