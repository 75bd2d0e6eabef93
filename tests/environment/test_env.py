"""Episode rules of PythonEnvironment, in process (the server tests repeat key ones over /ws)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from python_env.environment import env as env_module
from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction
from python_env.environment.task_runner import TaskRunner
from python_env.errors import EpisodeFinished, InvalidRequest, ResetNeeded, TaskNotFound
from python_env.tasks.catalog import TaskCatalog
from python_env.types import Task

BUG = {"start_line": 5, "end_line": 5, "category": "bug", "severity": "high", "message": "+1"}
FIXED_BUG = BUG | {"suggested_fix": "    return sum(values) / len(values)"}


@pytest.fixture
def env(tiny_catalog: TaskCatalog, runner: TaskRunner) -> PythonEnvironment:
    return PythonEnvironment(tiny_catalog, runner)


def test_full_episode_rewards_sum_to_final_score(env: PythonEnvironment, tiny_task: Task) -> None:
    obs = env.reset(seed=3, episode_id="ep-1")
    assert obs.reward is None and obs.score == 0.0 and obs.code == tiny_task.code
    rewards = []
    for action in (
        CodeReviewAction(kind="review", findings=[FIXED_BUG]),
        CodeReviewAction(kind="run_tests"),
        CodeReviewAction(kind="edit", code=tiny_task.fix),
        CodeReviewAction(kind="run_tests"),
        CodeReviewAction(kind="submit"),
    ):
        obs = env.step(action)
        assert obs.reward is not None
        rewards.append(obs.reward)
    assert obs.done and obs.evaluation is not None
    assert obs.evaluation.score == 1.0
    assert sum(rewards) == pytest.approx(obs.evaluation.score)
    assert env.state.episode_id == "ep-1" and env.state.step_count == 5 and env.state.done


def test_step_before_reset_and_after_done_are_refused(env: PythonEnvironment) -> None:
    with pytest.raises(ResetNeeded):
        env.step(CodeReviewAction(kind="submit"))
    env.reset()
    env.step(CodeReviewAction(kind="submit"))
    with pytest.raises(EpisodeFinished):
        env.step(CodeReviewAction(kind="run_tests"))


def test_noop_edit_and_unchanged_submit_earn_nothing(
    env: PythonEnvironment, tiny_task: Task
) -> None:
    env.reset()
    assert env.step(CodeReviewAction(kind="edit", code=tiny_task.code)).reward == 0.0
    final = env.step(CodeReviewAction(kind="submit"))
    assert final.reward == 0.0 and final.evaluation is not None and final.evaluation.score == 0.0


def test_stub_that_deletes_the_body_scores_zero(env: PythonEnvironment) -> None:
    env.reset()
    env.step(CodeReviewAction(kind="edit", code="def mean(values):\n    pass\n"))
    final = env.step(CodeReviewAction(kind="submit"))
    assert final.evaluation is not None and final.evaluation.components["tests"] == 0.0


def test_step_budget_auto_submits(env: PythonEnvironment, tiny_task: Task) -> None:
    env.reset()
    obs = None
    for _ in range(tiny_task.info.max_steps):
        obs = env.step(CodeReviewAction(kind="run_tests"))
    assert obs is not None and obs.done and obs.evaluation is not None
    assert "budget" in obs.feedback and obs.steps_left == 0


def test_findings_past_the_end_are_an_observed_error(env: PythonEnvironment) -> None:
    env.reset()
    obs = env.step(CodeReviewAction(kind="review", findings=[{**BUG, "end_line": 99}]))
    assert obs.error is not None and "last line" in obs.error
    assert obs.findings == [] and obs.reward == 0.0


def test_duplicate_findings_lower_the_score(env: PythonEnvironment) -> None:
    env.reset()
    first = env.step(CodeReviewAction(kind="review", findings=[BUG]))
    again = env.step(CodeReviewAction(kind="review", findings=[BUG]))
    assert first.reward is not None and first.reward > 0
    assert again.reward is not None and again.reward < 0


def test_syntax_error_is_feedback_not_an_exception(env: PythonEnvironment) -> None:
    env.reset()
    obs = env.step(CodeReviewAction(kind="edit", code="def mean(:\n"))
    assert "does not compile" in obs.feedback and not obs.done


def test_reset_selection_is_seeded_and_validated(env: PythonEnvironment) -> None:
    assert env.reset(seed=7).task == env.reset(seed=7).task
    assert env.reset(split="fixtures", index=0).task is not None
    with pytest.raises(TaskNotFound):
        env.reset(task_id="no-such-task")
    with pytest.raises(TaskNotFound):
        env.reset(split="fixtures", index=5)
    with pytest.raises(InvalidRequest, match="valid Difficulty"):
        env.reset(difficulty="impossible")
    with pytest.raises(InvalidRequest, match="unknown reset option") as raised:
        env.reset(task_idd="tiny-average")
    assert raised.value.details == {"field": "task_idd"}


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "review"},
        {"kind": "review", "findings": []},
        {"kind": "edit"},
        {"kind": "edit", "code": "x", "findings": [BUG]},
        {"kind": "submit", "code": "x"},
        {"kind": "explode"},
        {"kind": "review", "findings": [{**BUG, "start_line": 9, "end_line": 2}]},
        {"kind": "review", "findings": [{**BUG, "category": "vibes"}]},
        {"kind": "run_tests", "extra": 1},
    ],
)
def test_malformed_actions_fail_validation(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CodeReviewAction.model_validate(payload)


def test_task_provider_api(env: PythonEnvironment) -> None:
    assert env.list_splits() == ["fixtures"]
    assert env.num_tasks("fixtures") == 1
    assert env.get_task("fixtures", 0)["id"] == "tiny-average"
    assert env.get_task_range("fixtures", 0, 5)[0]["kinds"] == ["review", "repair"]
    with pytest.raises(IndexError):
        env.get_task("fixtures", 3)


def test_run_tests_is_information_not_reward(env: PythonEnvironment, tiny_task: Task) -> None:
    """Red-team finding 8: a visible pass (forged or memorised) must not pay before submit."""
    env.reset()
    env.step(CodeReviewAction(kind="edit", code=tiny_task.fix))
    obs = env.step(CodeReviewAction(kind="run_tests"))
    assert obs.test_report is not None and obs.test_report.failed == 0
    assert obs.reward == 0.0 and "tests" not in obs.score_components
    assert "Not scored" in obs.feedback
    final = env.step(CodeReviewAction(kind="submit"))
    assert final.evaluation is not None and final.evaluation.components["tests"] == 1.0
    assert final.reward == final.evaluation.score


def test_quick_reviews_and_graded_runs_play_on_the_event_loop_and_the_rest_in_the_pool(
    tiny_catalog: TaskCatalog, runner: TaskRunner, tiny_task: Task, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = ThreadPoolExecutor(2, thread_name_prefix="blocking")
    env = PythonEnvironment(tiny_catalog, runner, blocking=pool)
    threads: list[tuple[str, str]] = []  # (action, the thread that played it)
    dispatch = env._dispatch

    def noted(task: Any, action: CodeReviewAction) -> Any:
        threads.append((action.kind.value, threading.current_thread().name))
        return dispatch(task, action)

    monkeypatch.setattr(env, "_dispatch", noted)
    review = CodeReviewAction(kind="review", findings=[BUG, BUG])
    one = CodeReviewAction(kind="review", findings=[BUG])
    loop = threading.current_thread().name  # asyncio.run's loop runs here

    async def episodes() -> None:
        monkeypatch.setattr(env_module, "QUICK_REVIEW_FINDINGS", 3)
        await env.reset_async(seed=1)
        await env.step_async(review)  # 2 findings in all: quick
        await env.step_async(CodeReviewAction(kind="run_tests"))  # baselines built: the loop
        await env.step_async(review)  # 4 in all, over the cap of 3
        monkeypatch.setattr(env_module, "QUICK_REVIEW_FINDINGS", 1_000)
        await env.reset_async(seed=1)
        for _ in range(tiny_task.info.max_steps):  # the last one spends the budget: a submit
            await env.step_async(one)

    try:
        asyncio.run(episodes())
    finally:
        pool.shutdown()
    quick = [True, True, False] + [True] * (tiny_task.info.max_steps - 1) + [False]
    kinds = ["review", "run_tests"] + ["review"] * (len(quick) - 2)
    assert [kind for kind, _ in threads] == kinds
    assert [name == loop for _, name in threads] == quick
    assert all(name.startswith("blocking") for _, name in threads if name != loop)
    assert env.state.done


@pytest.mark.parametrize("fixed", [False, True], ids=["failing", "passing"])
def test_a_graded_run_on_the_loop_waits_there_and_sees_what_a_threaded_one_sees(
    tiny_catalog: TaskCatalog,
    runner: TaskRunner,
    tiny_task: Task,
    monkeypatch: pytest.MonkeyPatch,
    fixed: bool,
) -> None:
    executor = runner.executor
    calls: list[str] = []
    run, run_async = executor.run, executor.run_async

    def noted_run(job: Any) -> Any:
        calls.append("run")
        return run(job)

    async def noted_run_async(job: Any) -> Any:
        calls.append("run_async")
        return await run_async(job)

    monkeypatch.setattr(executor, "run", noted_run)
    monkeypatch.setattr(executor, "run_async", noted_run_async)
    edit = CodeReviewAction(kind="edit", code=tiny_task.fix if fixed else tiny_task.code + "\n")
    run_tests = CodeReviewAction(kind="run_tests")
    threaded = PythonEnvironment(tiny_catalog, runner)
    threaded.reset(seed=1)
    threaded.step(edit)
    calls.clear()
    seen_in_thread = threaded.step(run_tests)
    assert calls == ["run"]

    async def on_the_loop() -> Any:
        looped = PythonEnvironment(tiny_catalog, runner)
        await looped.reset_async(seed=1)
        await looped.step_async(edit)
        calls.clear()
        return await looped.step_async(run_tests)

    seen_on_loop = asyncio.run(on_the_loop())
    assert calls == ["run_async"]  # no thread and no blocking run on the loop
    timing = {"test_report": {"cpu_ms"}}  # the one field that differs from run to run
    assert seen_on_loop.model_dump(exclude=timing) == seen_in_thread.model_dump(exclude=timing)
    report = seen_on_loop.test_report
    assert report is not None and (report.failed == 0) is fixed
