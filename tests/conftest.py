"""Shared fixtures: a small fixture task, and a real server on 127.0.0.1 for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from python_env.agents.launcher import embedded_server
from python_env.config import Settings
from python_env.environment.env import PythonEnvironment
from python_env.environment.task_runner import TaskRunner
from python_env.sandbox import make_executor
from python_env.tasks.catalog import TaskCatalog, default_catalog
from python_env.tasks.directory import load_task_dir
from python_env.types import Task

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"


def fixture_task(name: str = "tiny-average") -> Task:
    return load_task_dir(FIXTURES / name, split="fixtures")


@pytest.fixture
def tiny_task() -> Task:
    return fixture_task()


@pytest.fixture
def tiny_catalog(tiny_task: Task) -> TaskCatalog:
    return TaskCatalog({"fixtures": [tiny_task]})


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """``python -m python_env.server`` as a real process on a free loopback port."""
    with embedded_server(max_concurrent_envs=32) as url:
        yield url


@pytest.fixture(scope="module")
def runner() -> Iterator[TaskRunner]:
    """A task runner over a warm sandbox built from the environment's settings (CI sets the
    tier), shared by a module's in-process environments and stopped after it."""
    executor = make_executor(Settings.from_env().sandbox)
    yield TaskRunner(executor)
    executor.close()


@pytest.fixture
def builtin_env(runner: TaskRunner) -> PythonEnvironment:
    """An environment over the built-in tasks, as the server would build it."""
    return PythonEnvironment(default_catalog(), runner)
