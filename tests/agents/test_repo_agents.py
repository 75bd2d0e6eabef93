"""The baseline agents on repository tasks, against a real server on 127.0.0.1 serving a tiny
store: the oracle scores 1 (approving the clean pull request), random plays valid moves and
scores about 0, the heuristic reads and reviews only the lines a pull request adds (or the files
the failing tests point at) and approves when it finds nothing, the llm agent's prompt shows the
repository and offers approve on a pull request; and the parts of the heuristic that read diffs,
lines and imports."""

from __future__ import annotations

import asyncio
import json
import statistics

import pytest

from python_env.agents import make_factory
from python_env.agents.base import EpisodeResult, run_episode
from python_env.agents.llm import LLMConfig
from python_env.agents.prompting import REPO_SYSTEM_PROMPT
from python_env.agents.repo_heuristic import (
    added_lines,
    imported_files,
    is_test_path,
    numbered_lines,
    raise_sites,
)
from python_env.environment.models import ActionKind
from python_env.types import ExitReason, Suite, TestReport, TestVerdict, VerdictKind
from tests.agents.conftest import REPO_TASKS, RepoServer
from tests.agents.fake_openai import FakeOpenAI, scripted
from tests.repo_helpers import (
    CLEAN_PR,
    EMPTY_MEAN,
    EVAL_PR,
    GOOD,
    OPS_PY,
    PLANTED_PR,
    PR_FINDING,
    SIGN,
    STATS_PY,
)


def play(
    server: RepoServer, agent: str, resets: list[dict[str, object]], seed: int = 0
) -> list[EpisodeResult]:
    factory = make_factory(agent, repo_tasks_dir=server.store) if agent == "oracle" else None

    async def main() -> list[EpisodeResult]:
        return await asyncio.gather(*(
            run_episode(server.url, factory or make_factory(agent), reset, seed + i)
            for i, reset in enumerate(resets)
        ))  # fmt: skip

    return asyncio.run(main())


def reads(result: EpisodeResult) -> list[str]:
    return [t.action.path for t in result.transitions if t.action and t.action.path]


def test_the_oracle_applies_the_fix_and_reports_the_issues_for_a_score_of_one(
    repo_server: RepoServer,
) -> None:
    results = play(repo_server, "oracle", [{"task_id": t.id} for t in REPO_TASKS])
    for result, task in zip(results, REPO_TASKS, strict=True):
        assert result.error is None and result.task_id == task.id
        assert result.score == pytest.approx(1.0) and result.reward_sum == pytest.approx(1.0)
        assert all(t.error is None for t in result.transitions)
    labels = [[t.action_label().split("(")[0] for t in r.transitions] for r in results]
    assert labels == [
        ["review", "apply_patch", "submit"],  # SIGN: review and repair
        ["review", "submit"],  # EVAL_PR: a review, nothing to repair
        ["apply_patch", "submit"],  # EMPTY_MEAN: repair only
        ["review", "apply_patch", "submit"],  # PLANTED_PR: the planted line, its fix
        ["approve"],  # CLEAN_PR: nothing to report
    ]
    review = results[0].transitions[0].action
    assert review is not None and review.findings and review.findings[0].path == OPS_PY


def test_the_oracle_submits_a_repository_task_it_cannot_find(repo_server: RepoServer) -> None:
    # A store without the task: it can only submit.
    factory = make_factory("oracle", repo_tasks_dir=repo_server.store / "absent")
    lost = asyncio.run(run_episode(repo_server.url, factory, {"task_id": SIGN.id}))
    assert [t.action_label() for t in lost.transitions] == ["submit()"] and lost.score == 0.0


def test_random_plays_valid_repository_moves_and_scores_about_zero(
    repo_server: RepoServer,
) -> None:
    resets: list[dict[str, object]] = [{"split": "train", "repo": True}] * 6
    results = play(repo_server, "random", resets, seed=40)
    assert {r.task_id for r in results} == {SIGN.id, EVAL_PR.id}  # seeded picks, both
    for result in results:
        assert result.error is None and result.invalid_actions == 0
        assert all(t.error is None for t in result.transitions), result.transitions
        assert result.transitions[0].action_label() == "list_files()"
    kinds = {t.action.kind for r in results for t in r.transitions if t.action}
    assert {ActionKind.READ_FILE, ActionKind.REVIEW, ActionKind.SEARCH} <= kinds
    assert statistics.fmean(r.score for r in results) < 0.1
    again = play(repo_server, "random", resets[:1], seed=40)[0]
    assert [t.action_label() for t in again.transitions] == [
        t.action_label() for t in results[0].transitions
    ]


def test_the_heuristic_reviews_only_the_files_a_pull_request_changes(
    repo_server: RepoServer,
) -> None:
    (result,) = play(repo_server, "heuristic", [{"task_id": EVAL_PR.id}])
    assert result.error is None and reads(result) == [OPS_PY]
    review = next(t.action for t in result.transitions if t.action and t.action.findings)
    assert review is not None and review.findings is not None
    assert {f.path for f in review.findings} == {OPS_PY}
    assert {(f.start_line, f.category.value) for f in review.findings} == {(2, "security")}
    # bandit's B307 locates the issue; its severity (medium, not high) earns half the credit.
    evaluation = result.evaluation
    assert evaluation is not None and evaluation.review is not None
    assert [m.issue_id for m in evaluation.review.matched] == ["add-eval"]
    assert evaluation.components["review"] == pytest.approx(0.5)


def test_without_a_pull_request_the_heuristic_follows_the_failing_tests(
    repo_server: RepoServer,
) -> None:
    # SIGN's pull request shows no diff: test_add fails (an assert: no line of calc raised);
    # tests/test_ops.py imports calc. It finds nothing there, but a failing test is reason
    # enough not to approve.
    (result,) = play(repo_server, "heuristic", [{"task_id": SIGN.id}])
    labels = [t.action_label() for t in result.transitions]
    assert labels == ["run_tests()", "list_files()", "search()",
                      "read_file(src/calc/__init__.py)", "submit()"]  # fmt: skip
    search = result.transitions[2].action
    assert search is not None and search.path_glob == "tests/test_ops.py"
    assert result.error is None and result.score == 0.0  # nothing a linter sees
    # A repair task whose visible tests pass gives it nothing to read.
    (quiet,) = play(repo_server, "heuristic", [{"task_id": EMPTY_MEAN.id}])
    assert [t.action_label() for t in quiet.transitions] == ["run_tests()", "submit()"]


def test_the_heuristic_approves_a_pull_request_only_when_tests_and_linters_are_quiet(
    repo_server: RepoServer,
) -> None:
    clean, planted = play(
        repo_server, "heuristic", [{"task_id": t.id} for t in (CLEAN_PR, PLANTED_PR)]
    )
    for result, verdict in ((clean, "approve()"), (planted, "submit()")):
        labels = [t.action_label() for t in result.transitions]  # tests, the diff's files
        assert labels == ["run_tests()", f"read_file({OPS_PY})", f"read_file({STATS_PY})", verdict]
    assert clean.score == 1.0  # the right verdict
    assert planted.score == 0.0  # its visible test fails, on an assert: not approved, not found


def test_the_lines_failing_tests_raised_at_are_read_from_their_messages() -> None:
    def verdict(name: str, message: str) -> TestVerdict:
        kind = VerdictKind.FAIL_TO_PASS
        return TestVerdict(name=name, passed=not message, kind=kind, message=message)

    where = "(raised at src/calc/ops.py:2 in add, from tests/test_ops.py:6 in test_add)"
    report = TestReport(suite=Suite.VISIBLE, exit_reason=ExitReason.OK, verdicts=(
        verdict("t1", f"KeyError: 2 {where}"),
        verdict("t2", "TypeError: x (raised at tests/test_ops.py:9 in test_mul)"),  # a test file
        verdict("t3", f"KeyError: 5 {where}"),
        verdict("t4", "ValueError: (raised at src/calc/stats.py:4 in mean, from src/x.py:1 in f)"),
        verdict("t5", "assert on line 6: got -1, expected 5"),
        verdict("t7", f"KeyError: '(raised at x.py:1 in f)' {where}"),  # its text says it too
        verdict("t6", ""),
    ))  # fmt: skip
    assert raise_sites(report) == [(OPS_PY, 2), (STATS_PY, 4)]  # ops.py three times
    assert raise_sites(None) == []


def test_random_may_approve_a_pull_request(repo_server: RepoServer) -> None:
    results = play(repo_server, "random", [{"split": "review", "repo": True}] * 8, seed=3)
    assert all(r.error is None and r.invalid_actions == 0 for r in results)
    ends = [r.transitions[-1].action_label() for r in results]
    assert "approve()" in ends and set(ends) <= {"approve()", "submit()"}


def test_the_llm_agent_sees_the_repository_and_its_json_actions_play(
    repo_server: RepoServer,
) -> None:
    script = scripted([
        json.dumps({"kind": "read_file", "path": OPS_PY}),
        json.dumps({"kind": "review", "findings": [GOOD]}),
        json.dumps({"kind": "apply_patch", "diff": SIGN.fix}),
    ])  # fmt: skip
    with FakeOpenAI(script) as llm:
        config = LLMConfig(base_url=llm.base_url, model="scripted-model", api_key="test-key")
        factory = make_factory("llm", config=config)
        result = asyncio.run(run_episode(repo_server.url, factory, {"task_id": SIGN.id}))
    assert result.score == pytest.approx(1.0) and result.invalid_actions == 0
    first, second = llm.requests[0]["messages"], llm.requests[1]["messages"]
    assert first[0]["content"] == REPO_SYSTEM_PROMPT
    assert "Repository: calc 1.0, 7 files" in first[1]["content"]
    assert "tests/test_ops.py::test_add" in first[1]["content"]
    assert "Original code" not in first[1]["content"]  # code is empty on these tasks
    assert "    2 |     return a - b" in second[1]["content"]  # what the read showed
    assert "read_file(src/calc/ops.py)" in second[1]["content"]  # and the history says so


def test_the_llm_agent_is_offered_approve_on_a_pull_request(repo_server: RepoServer) -> None:
    script = scripted([json.dumps({"kind": "read_file", "path": OPS_PY}), '{"kind": "approve"}'])
    with FakeOpenAI(script) as llm:
        config = LLMConfig(base_url=llm.base_url, model="scripted-model", api_key="test-key")
        factory = make_factory("llm", config=config)
        clean = asyncio.run(run_episode(repo_server.url, factory, {"task_id": CLEAN_PR.id}))
    assert clean.score == 1.0 and clean.invalid_actions == 0
    assert [t.action_label() for t in clean.transitions] == [f"read_file({OPS_PY})", "approve()"]
    first = llm.requests[0]["messages"]
    assert '{"kind": "approve"}' in first[0]["content"]  # the system prompt offers it
    assert "Your verdict: approve if this change has no problem" in first[1]["content"]
    assert "+    acc = 0" in first[1]["content"]  # the diff is in the prompt
    with FakeOpenAI(scripted([json.dumps({"kind": "review", "findings": [PR_FINDING]})])) as llm:
        config = LLMConfig(base_url=llm.base_url, model="scripted-model", api_key="test-key")
        factory = make_factory("llm", config=config)
        found = asyncio.run(run_episode(repo_server.url, factory, {"task_id": PLANTED_PR.id}))
    assert found.evaluation is not None and found.evaluation.components["review"] == 1.0


def test_added_lines_follow_the_hunk_counts() -> None:
    diff = (
        "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1,3 +1,4 @@\n x\n-y\n+++ y\n+z\n w\n"
        "--- a/notes.md\n+++ b/notes.md\n@@ -1 +1 @@\n-a\n+b\n"
        "--- a/pkg/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1,2 @@\n+a\n+b\n"
    )
    assert added_lines(diff) == {"pkg/a.py": frozenset({2, 3}), "pkg/new.py": frozenset({1, 2})}
    assert added_lines(EVAL_PR.pull_request.diff if EVAL_PR.pull_request else "") == {
        OPS_PY: frozenset({2})
    }


def test_numbered_lines_keep_empty_lines_and_drop_notes() -> None:
    output = "    9 | def f():\n   10 | \n   11 |     return 1 | 2\n[lines 9-11 of 40]\n"
    assert numbered_lines(output) == ["def f():", "", "    return 1 | 2"]


def test_imports_name_the_project_files_they_load() -> None:
    files = ["src/calc/__init__.py", "src/calc/ops.py", "src/calc/stats.py", "tests/test_ops.py"]
    assert imported_files("from calc import add, ops as o", files) == [
        "src/calc/__init__.py",
        "src/calc/ops.py",
    ]
    assert imported_files("import calc.stats, os", files) == ["src/calc/stats.py"]
    assert imported_files("from . import helpers", files) == []
    assert imported_files("from calc.ops import (", files) == ["src/calc/ops.py"]
    assert [p for p in files if is_test_path(p)] == ["tests/test_ops.py"]
