"""A directory of pytest-style tasks served by a real server (``TASKS_DIRS``) and played over
its WebSocket: the reference scores 1, a partial fix its share, a skip is shown, never graded."""

from __future__ import annotations

from pathlib import Path

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.config import Settings
from python_env.environment.models import CodeReviewAction
from python_env.tasks.directory import load_task_dir, write_task_dir
from tests.environment.test_pytest_exploits import CODE, TASK


def test_a_served_pytest_task_directory_grades_over_the_socket(tmp_path: Path) -> None:
    folder = write_task_dir(TASK, tmp_path / "pytasks")
    assert load_task_dir(folder, split="pytasks").digest == TASK.digest
    half = CODE.replace("round(total - discount, 1)", "round(total * (1 - discount), 2)")
    env = Settings.from_env().to_env() | {"TASKS_DIRS": f"pytasks={tmp_path / 'pytasks'}"}
    with (
        server_process(max_concurrent_envs=2, timeout_s=120, env=env) as (url, _proc),
        PythonEnv(base_url=url).sync() as client,
    ):
        scores = {}
        for name, code in (("oracle", TASK.fix), ("partial", half), ("original", CODE)):
            first = client.reset(split="pytasks", seed=0).observation
            assert first.task.id == TASK.id
            client.step(CodeReviewAction(kind="edit", code=code))
            visible = client.step(CodeReviewAction(kind="run_tests")).observation.test_report
            assert visible is not None and visible.skipped == ("visible_tests.py::test_never",)
            assert "visible_tests.py::test_receipt_total[lines1-0.1-7.38]" in {
                v.name for v in visible.verdicts
            }
            done = client.step(CodeReviewAction(kind="submit")).observation
            assert done.evaluation is not None
            scores[name] = done.evaluation.components["tests"]
    assert scores == {"oracle": 1.0, "partial": 0.75, "original": 0.0}
