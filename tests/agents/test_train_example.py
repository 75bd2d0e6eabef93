"""The TRL example's environment wrapper, driven the way TRL drives it (no torch or TRL needed):
reset with a dataset row, tool calls as plain method calls, get_reward at the end."""

from __future__ import annotations

import gc
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

from python_env.agents.launcher import free_port
from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import default_catalog
from tests.agents.conftest import RepoServer
from tests.repo_helpers import CLEAN_PR, EMPTY_MEAN, OPS_PY, SIGN

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_trl_grpo.py"


def load_example(url: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example as a module, its sessions going to the server at ``url``."""
    spec = importlib.util.spec_from_file_location("train_trl_grpo", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ENV_URL", url)
    return module


@pytest.fixture
def example(server_url: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_example(server_url, monkeypatch)


def test_tool_calls_play_an_episode_and_the_reward_is_the_score(example: ModuleType) -> None:
    task = default_catalog().get("userstore-sqlite-lookup")
    tools = example.PythonEnvTools()
    text = tools.reset(task_id=task.id, prompt=[{"role": "user", "content": "x"}])
    assert "   1 | " in text and task.info.title in text
    own = reference_finding(task, task.issues[0])  # with its part of the reference fix
    feedback = tools.report_finding(
        own.start_line, own.end_line, own.category.value, own.severity.value, "SQL built",
        own.suggested_fix,
    )  # fmt: skip
    assert feedback.startswith("Recorded 1 finding")
    assert "Code updated" in tools.edit_code(task.fix)
    assert "passed" in tools.run_tests()
    assert tools.get_reward() == pytest.approx(1.0)  # submits for the model, then reads the score
    assert tools.submit() == "The episode is over."
    # Pooled instances are reset and reused: the next episode starts clean.
    tools.reset(task_id=task.id)
    assert "Invalid action" in tools.report_finding(1, 1, "typo", "high", "not a category")
    assert tools.get_reward() == 0.0
    # Dataset columns other than task_id pick a task too; the session ends with the object.
    text = tools.reset(split="curated", seed=3, kind="optimize", prompt=[])
    picked = default_catalog().get(tools._obs.task.id)
    assert "optimize" in picked.info.kinds and picked.info.title in text
    closer = tools._closer
    del tools
    gc.collect()
    assert not closer.alive


def test_every_tool_has_the_docstring_trl_turns_into_a_schema(example: ModuleType) -> None:
    public = [
        name
        for name, _ in inspect.getmembers(example.PythonEnvTools, inspect.isfunction)
        if not name.startswith("_") and name not in {"reset", "get_reward"}
    ]
    assert public == ["edit_code", "report_finding", "run_tests", "submit"]
    for name in public:
        method = getattr(example.PythonEnvTools, name)
        doc = inspect.getdoc(method) or ""
        params = [p for p in inspect.signature(method).parameters if p != "self"]
        assert "Returns:" in doc and all(f"{p}:" in doc for p in params), name
        assert all(
            p.annotation != inspect.Parameter.empty
            for p in inspect.signature(method).parameters.values()
            if p.name != "self"
        )


def test_several_urls_spread_the_rollouts_and_skip_a_replica_that_is_down(
    example: ModuleType, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(example, "ENV_URL", f"{dead},{server_url}")  # as --env-url A --env-url B
    first, second = example.PythonEnvTools(), example.PythonEnvTools()
    for tools in (first, second):
        tools.reset(task_id="bill-split-lost-cents")
        assert "Final score" in tools.submit()
    stats = example.env_pool().stats()
    assert stats[dead].down and stats[dead].failures == 1  # tried once, then skipped
    assert stats[server_url].open == 2
    del first, second, tools
    gc.collect()
    assert example.env_pool().stats()[server_url].open == 0  # the sessions ended with them
    example.env_pool().close()


def test_the_repository_tools_play_a_repository_task(
    repo_server: RepoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example(repo_server.url, monkeypatch)
    tools = example.PythonRepoTools()
    text = tools.reset(split="train", seed=0, repo=True, prompt=[])  # a row of a --repo dataset
    assert tools._obs.task.id == SIGN.id and "Repository: calc 1.0, 7 files" in text
    assert "src/calc/ops.py" in tools.list_files("src/**/*.py")
    assert "    2 |     return a - b" in tools.read_file(OPS_PY, 1, 3)
    assert "src/calc/stats.py:7:" in tools.search(r"add\(", "*.py")
    finding = tools.report_finding(OPS_PY, 2, 2, "bug", "high", "add subtracts")
    assert finding.startswith("Recorded 1 finding")
    assert "+    return a + b" in tools.edit_file(OPS_PY, 2, 2, "    return a + b\n")
    assert "does not apply" in tools.apply_patch(SIGN.fix)  # fixed already: the error comes back
    assert "2 passed, 0 failed" in tools.run_tests()
    assert tools.get_reward() == pytest.approx(1.0)
    tools.reset(task_id=EMPTY_MEAN.id)  # no pull request: approve is refused, play goes on
    assert tools.approve().startswith("approve is the verdict on a pull request")
    tools.reset(task_id=CLEAN_PR.id)
    assert tools.approve().startswith("Approved. Final score 1.000.")
    assert tools.get_reward() == 1.0
    public = {n for n, _ in inspect.getmembers(example.PythonRepoTools, inspect.isfunction)}
    for name in public - {"reset", "get_reward"} - {n for n in public if n.startswith("_")}:
        method = getattr(example.PythonRepoTools, name)
        doc = inspect.getdoc(method) or ""
        params = [p for p in inspect.signature(method).parameters if p != "self"]
        assert "Returns:" in doc and all(f"{p}:" in doc for p in params), name
    rows = example.dataset_rows(
        example.argparse.Namespace(split="train", repo=True, kind=None, max_steps=2,
                                   batch_size=2), repo_server.url
    )  # fmt: skip
    assert len(rows) == example.REPO_ROWS and rows[5] == {
        "prompt": [{"role": "user", "content": example.REPO_INSTRUCTION}],
        "split": "train", "repo": True, "seed": 5,
    }  # fmt: skip
