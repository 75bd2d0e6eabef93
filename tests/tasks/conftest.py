"""Fixtures of the task tests that build repository tasks in the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from python_env.config import Settings
from python_env.sandbox import Executor, make_executor


@pytest.fixture(scope="module")
def executors() -> Iterator[tuple[Executor, Executor]]:
    """Two executors, the second with another string-hash seed (as the generator uses them)."""
    sandbox = Settings.from_env().sandbox.model_copy(update={"workers": 2})
    made = (make_executor(sandbox), make_executor(sandbox.model_copy(update={"hash_seed": 1})))
    yield made
    for executor in made:
        executor.close()
