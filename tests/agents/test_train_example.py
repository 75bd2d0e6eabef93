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

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_trl_grpo.py"


@pytest.fixture
def example(server_url: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_trl_grpo", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ENV_URL", server_url)
    return module


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
