"""A repository repair episode against a real server on 127.0.0.1, over its WebSocket: a store
of repository tasks named by ``PYTHON_ENV_REPO_TASKS_DIR``, the agent lists, reads and searches
the project, reports the bug on the right file and lines, applies the reference patch, runs the
visible tests and submits: the hidden tests grade the tree, and the score is 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.config import Settings
from python_env.environment.models import CodeReviewAction
from tests.repo_helpers import GOOD, SIGN, build_store
from tests.server.test_integration import http


def test_a_repository_repair_episode_over_the_socket(tmp_path: Path) -> None:
    build_store(tmp_path / "repos")
    env = Settings.from_env().to_env() | {"PYTHON_ENV_REPO_TASKS_DIR": str(tmp_path / "repos")}
    with server_process(max_concurrent_envs=2, timeout_s=120, env=env) as (url, _proc):
        status, listing = http(f"{url}/python_env/tasks", "POST", {"split": "train"})
        assert status == 200 and SIGN.id in {t["id"] for t in listing["tasks"]}
        with PythonEnv(base_url=url).sync() as client:
            first = client.reset(split="train", seed=3, repo=True).observation
            assert first.task is not None and first.task.id == SIGN.id
            assert first.code == "" and first.workspace is not None and first.workspace.files == 7
            assert first.test_ids == list(SIGN.visible_tests)

            def step(**action: object) -> tuple[float, str, str]:
                result = client.step(CodeReviewAction.model_validate(action))
                obs = result.observation
                assert obs.error is None, obs.error
                return result.reward or 0.0, obs.output, obs.feedback

            rewards = []
            reward, output, _ = step(kind="list_files", pattern="src/**/*.py")
            assert output.splitlines() == [
                "src/calc/__init__.py", "src/calc/ops.py", "src/calc/stats.py"
            ]  # fmt: skip
            rewards.append(reward)
            reward, output, _ = step(kind="read_file", path="src/calc/ops.py")
            assert "    2 |     return a - b\n" in output
            rewards.append(reward)
            reward, output, _ = step(kind="search", pattern=r"\badd\(", path_glob="*.py")
            assert "src/calc/stats.py:7:         total = add(total, x)" in output
            rewards.append(reward)
            rewards.append(step(kind="review", findings=[GOOD])[0])
            reward, output, feedback = step(kind="apply_patch", diff=SIGN.fix)
            assert feedback == "Changed 1 file(s): src/calc/ops.py."
            assert "+    return a + b" in output
            rewards.append(reward)
            visible = client.step(CodeReviewAction(kind="run_tests")).observation.test_report
            assert visible is not None and (visible.passed, visible.failed) == (2, 0)
            final = client.step(CodeReviewAction(kind="submit"))
            rewards.append(final.reward or 0.0)

            evaluation = final.observation.evaluation
            assert final.done and evaluation is not None
            assert evaluation.score == 1.0
            assert evaluation.components == {"review": 1.0, "tests": 1.0}
            assert evaluation.tests is not None and evaluation.tests.fail_to_pass == (2, 2)
            assert evaluation.issue_paths == {"add-sign": "src/calc/ops.py"}
            assert sum(rewards) == pytest.approx(1.0, abs=1e-5)
            state = client.state()
            stats = state.navigation
            assert state.done and state.step_count == 7 and stats is not None
            counts = (stats.list_calls, stats.reads, stats.searches, stats.patches_applied)
            assert counts == (1, 1, 1, 1) and (stats.test_runs, stats.errors) == (1, 0)

            # The same seed gives the same task; the untouched tree scores nothing.
            again = client.reset(split="train", seed=3, repo=True).observation
            assert again.task == first.task and again.workspace == first.workspace
            untouched = client.step(CodeReviewAction(kind="submit")).observation.evaluation
            assert untouched is not None and untouched.score == 0.0
