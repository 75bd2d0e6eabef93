"""Pull-request review episodes in process: ``approve`` ends a pull-request episode with that
verdict and is refused as a mistake elsewhere (a single file, a repository task with no pull
request); on a clean pull request a finding is a false alarm the running score shows at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.environment.task_runner import TaskRunner
from python_env.tasks.catalog import TaskCatalog
from python_env.tasks.repo_splits import RepoSplits
from python_env.types import Task
from tests.conftest import fixture_task
from tests.repo_helpers import CLEAN_PR, EMPTY_MEAN, OPS_PY, PLANTED_PR, PR_FINDING, build_store


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> TaskCatalog:
    store = build_store(tmp_path_factory.mktemp("repos"), (PLANTED_PR, CLEAN_PR, EMPTY_MEAN))
    return TaskCatalog({"fixtures": [fixture_task()]}).with_repos(RepoSplits(store))


@pytest.fixture
def env(catalog: TaskCatalog, runner: TaskRunner) -> Iterator[PythonEnvironment]:
    yield PythonEnvironment(catalog, runner)


def act(env: PythonEnvironment, **action: object) -> CodeReviewObservation:
    return env.step(CodeReviewAction.model_validate(action))


def test_approve_takes_no_fields() -> None:
    assert CodeReviewAction.model_validate({"kind": "approve"}).kind == "approve"
    with pytest.raises(ValueError, match="an approve action takes no 'findings'"):
        CodeReviewAction.model_validate({"kind": "approve", "findings": [PR_FINDING]})


def test_approve_is_a_mistake_on_a_single_file_task(
    env: PythonEnvironment, tiny_task: Task
) -> None:
    env.reset(task_id=tiny_task.id)
    obs = act(env, kind="approve")
    assert obs.error is not None and "verdict on a pull-request task" in obs.error
    assert not obs.done and obs.reward == 0.0 and obs.evaluation is None
    assert not env.state.done and env.state.step_count == 1
    assert act(env, kind="run_tests").test_report is not None  # the episode goes on


def test_approve_is_a_mistake_on_a_repository_task_without_a_pull_request(
    env: PythonEnvironment,
) -> None:
    first = env.reset(task_id=EMPTY_MEAN.id)
    assert first.pull_request is None and "approve" not in first.feedback
    obs = act(env, kind="approve")
    assert obs.error is not None and "end it with submit" in obs.error
    assert not obs.done and obs.reward == 0.0 and obs.evaluation is None
    assert env.state.navigation is not None and env.state.navigation.errors == 1
    assert act(env, kind="list_files", pattern="src/").error is None  # still playing


def test_approving_a_clean_pull_request_scores_one(env: PythonEnvironment) -> None:
    first = env.reset(task_id=CLEAN_PR.id)
    assert first.task is not None and first.task.setting == "pull_request"
    assert first.pull_request is not None and "End with approve" in first.feedback
    act(env, kind="read_file", path=OPS_PY)
    obs = act(env, kind="approve")
    assert obs.done and obs.reward == 1.0 and obs.feedback == "Approved. Final score 1.000."
    assert obs.evaluation is not None and obs.evaluation.components == {"review": 1.0}
    assert obs.evaluation.review is not None and obs.evaluation.review.f1 == 1.0
    assert obs.evaluation.hidden_tests is None  # a review-only task: nothing to run
    assert env.state.done and env.state.score == 1.0


def test_a_finding_on_a_clean_pull_request_is_a_false_alarm(env: PythonEnvironment) -> None:
    env.reset(task_id=CLEAN_PR.id)
    obs = act(env, kind="review", findings=[PR_FINDING])
    assert obs.error is None and obs.score_components == {"review": 0.0} and obs.reward == 0.0
    obs = act(env, kind="approve")  # approving after a false alarm does not take it back
    assert obs.done and obs.evaluation is not None and obs.evaluation.score == 0.0


def test_submitting_a_clean_pull_request_earns_nothing(env: PythonEnvironment) -> None:
    env.reset(task_id=CLEAN_PR.id)
    obs = act(env, kind="submit")
    assert obs.done and obs.evaluation is not None and obs.evaluation.score == 0.0
    assert obs.evaluation.weights == {"review": 1.0}


def test_approving_a_planted_pull_request_loses_the_review(env: PythonEnvironment) -> None:
    env.reset(task_id=PLANTED_PR.id)
    obs = act(env, kind="review", findings=[PR_FINDING])
    assert obs.score_components == {"review": 1.0} and obs.reward == 0.5
    act(env, kind="apply_patch", diff=PLANTED_PR.fix)
    obs = act(env, kind="approve")  # the fix counts; the verdict takes the review back
    assert obs.done and obs.evaluation is not None
    assert obs.evaluation.components == {"review": 0.0, "tests": 1.0}
    assert obs.evaluation.score == 0.5 and obs.reward == 0.0
