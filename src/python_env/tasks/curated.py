"""Loads the hand-written task bank: one folder per task, format in docs/task-format.md."""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.abc import Traversable
from typing import Any

from pydantic import ValidationError

from python_env.errors import InvalidTask
from python_env.types import Category, Difficulty, Issue, Task, TaskInfo, TaskKind

CURATED_SPLIT = "curated"
_KEYS = {"title", "kinds", "difficulty", "max_steps", "instructions", "issues"}


def curated_root() -> Traversable:
    """The folder of the curated bank inside the installed package."""
    return resources.files("python_env.tasks").joinpath("data", "curated")


def load_task_dir(folder: Traversable, split: str = CURATED_SPLIT) -> Task:
    """Read one task folder; raise InvalidTask naming the folder and the problem."""
    try:
        meta: dict[str, Any] = tomllib.loads(folder.joinpath("task.toml").read_text("utf-8"))
        unknown = set(meta) - _KEYS
        if unknown:
            raise InvalidTask(
                f"{folder.name}: unknown keys in task.toml: {sorted(unknown)}", task_id=folder.name
            )
        kinds = tuple(TaskKind(k) for k in meta["kinds"])
        issues = tuple(Issue(**issue) for issue in meta.get("issues", []))
        bench = folder.joinpath("benchmark.py")
        task = Task(
            info=TaskInfo(
                id=folder.name,
                title=meta["title"],
                kinds=kinds,
                difficulty=Difficulty(meta["difficulty"]),
                split=split,
                source="curated",
                categories=tuple(sorted({i.category for i in issues}, key=list(Category).index)),
                num_issues=len(issues),
                max_steps=int(meta["max_steps"]),
            ),
            instructions=meta["instructions"].strip(),
            code=folder.joinpath("code.py").read_text("utf-8"),
            visible_tests=folder.joinpath("visible_tests.py").read_text("utf-8"),
            hidden_tests=folder.joinpath("hidden_tests.py").read_text("utf-8"),
            fix=folder.joinpath("fix.py").read_text("utf-8"),
            issues=issues,
            benchmark=bench.read_text("utf-8") if bench.is_file() else "",
        )
    except (KeyError, ValueError, ValidationError, OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidTask(f"{folder.name}: {exc}", task_id=folder.name) from exc
    if TaskKind.OPTIMIZE in kinds and not task.benchmark:
        raise InvalidTask(f"{folder.name}: optimize tasks need benchmark.py", task_id=folder.name)
    return task


def load_curated() -> list[Task]:
    """Every curated task, sorted by id so indices are stable."""
    root = curated_root()
    folders = sorted(
        (f for f in root.iterdir() if f.is_dir() and not f.name.startswith(("_", "."))),
        key=lambda f: f.name,
    )
    return [load_task_dir(f) for f in folders if f.joinpath("task.toml").is_file()]
