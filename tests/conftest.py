"""Shared fixtures: a small fixture task, and a real server on 127.0.0.1 for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m python_env.server`` as a real process on a free loopback port."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "MAX_CONCURRENT_ENVS": "32"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "python_env.server"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"server did not start:\n{log.read_text()}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert proc.returncode is not None
