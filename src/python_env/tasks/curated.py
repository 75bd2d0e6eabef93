"""The hand-written task bank shipped in the package, in the task directory format."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from python_env.errors import InvalidTask
from python_env.tasks.directory import load_task_root
from python_env.types import Task

__all__ = ["CURATED_SPLIT", "curated_root", "load_curated"]

CURATED_SPLIT = "curated"


def curated_root() -> Traversable:
    """The folder of the curated bank inside the installed package."""
    return resources.files("python_env.tasks").joinpath("data", "curated")


def load_curated() -> list[Task]:
    """Every curated task, sorted by id so indices are stable; a broken one is an error."""
    tasks, problems = load_task_root(Path(str(curated_root())), CURATED_SPLIT)
    if problems:
        raise InvalidTask(f"curated bank: {problems[0].line()}", task_id=problems[0].task)
    return tasks
