"""A real server on 127.0.0.1 serving a tiny store of repository tasks (``tests.repo_helpers``),
shared by the agent, eval and training-example tests of this directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from python_env.agents.launcher import server_process
from tests.repo_helpers import CLEAN_PR, EMPTY_MEAN, EVAL_PR, PLANTED_PR, SIGN, build_store

# train: SIGN, EVAL_PR; test: EMPTY_MEAN; review: the pull requests PLANTED_PR and CLEAN_PR
REPO_TASKS = (SIGN, EVAL_PR, EMPTY_MEAN, PLANTED_PR, CLEAN_PR)


@dataclass(frozen=True)
class RepoServer:
    """Where the server listens, and the store it serves (``PYTHON_ENV_REPO_TASKS_DIR``)."""

    url: str
    store: Path


@pytest.fixture(scope="session")
def repo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RepoServer]:
    store = build_store(tmp_path_factory.mktemp("repo-store"), REPO_TASKS).root
    env = {"PYTHON_ENV_REPO_TASKS_DIR": str(store)}
    with server_process(max_concurrent_envs=16, timeout_s=120, env=env) as (url, _proc):
        yield RepoServer(url, store)
