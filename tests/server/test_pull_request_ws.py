"""Pull-request review episodes against a real server on 127.0.0.1, over its WebSocket, on a store
of calc pull requests (``PYTHON_ENV_REPO_TASKS_DIR``):

- planted: the agent reads the diff, lists, reads and searches the project, reports the planted
  line of the head, applies the fix and submits: the hidden tests pass and the score is 1; a
  finding on a wrong line besides costs precision;
- clean: approving scores 1; submitting without the verdict scores 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.config import Settings
from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from tests.repo_helpers import CLEAN_PR, OPS_PY, PLANTED_PR, PR_FINDING, build_store

WRONG = {**PR_FINDING, "start_line": 7, "end_line": 7}  # mul's line: nothing wrong there


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("repos")
    build_store(root, (PLANTED_PR, CLEAN_PR))
    env = Settings.from_env().to_env() | {"PYTHON_ENV_REPO_TASKS_DIR": str(root)}
    with server_process(max_concurrent_envs=2, timeout_s=120, env=env) as (server_url, _proc):
        yield server_url


class Episode:
    """One session's episode: each step's observation checked for errors, rewards summed."""

    def __init__(self, client: Any, task_id: str) -> None:
        self.client = client
        self.first: CodeReviewObservation = client.reset(task_id=task_id).observation
        self.rewards: list[float] = []

    def step(self, **action: object) -> CodeReviewObservation:
        result = self.client.step(CodeReviewAction.model_validate(action))
        assert result.observation.error is None, result.observation.error
        self.rewards.append(result.reward or 0.0)
        return result.observation  # type: ignore[no-any-return]


def test_a_planted_pull_request_reviewed_and_repaired_over_the_socket(url: str) -> None:
    with PythonEnv(base_url=url).sync() as client:
        episode = Episode(client, PLANTED_PR.id)
        pr = episode.first.pull_request
        assert pr is not None and episode.first.task is not None
        assert episode.first.task.setting == "pull_request"
        assert "+    return a - b" in pr.diff and "+    acc = 0" in pr.diff  # among benign changes
        listed = episode.step(kind="list_files", pattern="src/**/*.py").output
        assert OPS_PY in listed.splitlines()
        read = episode.step(kind="read_file", path=OPS_PY).output
        assert "    3 |     return a - b\n" in read  # the planted line of the head
        found = episode.step(kind="search", pattern=r"\badd\(", path_glob="*.py").output
        assert "src/calc/stats.py:7:         acc = add(acc, x)" in found
        assert episode.step(kind="review", findings=[PR_FINDING]).score_components == {
            "review": 1.0
        }
        patched = episode.step(kind="apply_patch", diff=PLANTED_PR.fix)
        assert patched.workspace is not None and patched.workspace.changed == [OPS_PY]
        final = episode.step(kind="submit")
        evaluation = final.evaluation
        assert final.done and evaluation is not None and evaluation.score == 1.0
        assert evaluation.components == {"review": 1.0, "tests": 1.0}
        assert evaluation.tests is not None and evaluation.tests.fail_to_pass == (2, 2)
        hidden = evaluation.hidden_tests
        assert hidden is not None and hidden.failed == 0 and hidden.passed == 4
        assert sum(episode.rewards) == pytest.approx(1.0, abs=1e-5)

        # A second finding, on a line with nothing wrong, halves the precision.
        again = Episode(client, PLANTED_PR.id)
        again.step(kind="review", findings=[PR_FINDING, WRONG])
        again.step(kind="apply_patch", diff=PLANTED_PR.fix)
        noisy = again.step(kind="submit").evaluation
        assert noisy is not None and noisy.review is not None
        assert (noisy.review.precision, noisy.review.recall) == (0.5, 1.0)
        assert noisy.components["review"] == pytest.approx(2 / 3, abs=1e-5)
        assert noisy.score == pytest.approx((2 / 3 + 1) / 2, abs=1e-5)


def test_a_clean_pull_request_is_answered_with_approve_over_the_socket(url: str) -> None:
    with PythonEnv(base_url=url).sync() as client:
        episode = Episode(client, CLEAN_PR.id)
        assert episode.first.pull_request is not None and episode.first.task is not None
        assert episode.first.task.num_issues == 0
        episode.step(kind="read_file", path=OPS_PY)
        final = episode.step(kind="approve")
        assert final.done and final.feedback == "Approved. Final score 1.000."
        assert final.evaluation is not None and final.evaluation.score == 1.0
        assert final.evaluation.issues == ()  # nothing was planted
        assert sum(episode.rewards) == pytest.approx(1.0, abs=1e-5)
        assert client.state().done

        # Submitting without the verdict (a reviewer who says nothing) earns nothing.
        silent = Episode(client, CLEAN_PR.id)
        submitted = silent.step(kind="submit")
        assert submitted.done and submitted.evaluation is not None
        assert submitted.evaluation.score == 0.0 and sum(silent.rewards) == 0.0


def test_the_store_serves_the_pull_requests_in_their_split(url: str) -> None:
    with PythonEnv(base_url=url).sync() as client:
        picked = {client.reset(split="review", seed=s, repo=True).observation.task.id  # type: ignore[union-attr]
                  for s in range(8)}  # fmt: skip
    assert picked == {PLANTED_PR.id, CLEAN_PR.id}
