"""Shared fixtures: a small fixture task, and a real server on 127.0.0.1 for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from python_env.agents.server import embedded_server
from python_env.environment.env import shared_grader
from python_env.tasks.catalog import TaskCatalog
from python_env.tasks.curated import load_task_dir
from python_env.types import Task

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"


def fixture_task(name: str = "tiny-average") -> Task:
    return load_task_dir(FIXTURES / name, split="fixtures")  # type: ignore[arg-type]


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


@pytest.fixture(scope="module", autouse=True)
def close_shared_grader() -> Iterator[None]:
    """In-process environments share one warm executor: stop its workers after each module."""
    yield
    if shared_grader.cache_info().currsize:
        shared_grader().executor.close()
        shared_grader.cache_clear()
