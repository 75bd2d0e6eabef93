"""The task catalog: every split, lookup by id or index, seeded selection with filters."""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import lru_cache

from python_env.errors import TaskNotFound
from python_env.tasks.curated import CURATED_SPLIT, load_curated
from python_env.types import Category, Difficulty, Task, TaskInfo, TaskKind


class TaskCatalog:
    """Immutable collection of tasks grouped by split; safe to share between sessions."""

    def __init__(self, splits: dict[str, list[Task]]) -> None:
        self._splits = {name: tuple(tasks) for name, tasks in splits.items()}
        self._by_id = {t.id: t for tasks in self._splits.values() for t in tasks}

    def split_names(self) -> list[str]:
        return list(self._splits)

    def infos(self, split: str) -> list[TaskInfo]:
        return [t.info for t in self._split(split)]

    def size(self, split: str) -> int:
        return len(self._split(split))

    def get(self, task_id: str) -> Task:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise TaskNotFound(f"unknown task id {task_id!r}") from None

    def at(self, split: str, index: int) -> Task:
        tasks = self._split(split)
        if not 0 <= index < len(tasks):
            raise TaskNotFound(
                f"index {index} is out of range for split {split!r} (0..{len(tasks) - 1})"
            )
        return tasks[index]

    def select(
        self,
        seed: int | None,
        split: str | None = None,
        kind: TaskKind | None = None,
        difficulty: Difficulty | None = None,
        category: Category | None = None,
    ) -> Task:
        """Pick a task matching the filters; the same seed always picks the same task."""
        pool: Iterable[Task] = self._split(split) if split else self._by_id.values()
        matches = sorted(
            (
                t
                for t in pool
                if (kind is None or kind in t.info.kinds)
                and (difficulty is None or t.info.difficulty == difficulty)
                and (category is None or category in t.info.categories)
            ),
            key=lambda t: t.id,
        )
        if not matches:
            raise TaskNotFound("no task matches the filters given")
        return random.Random(seed).choice(matches)

    def _split(self, split: str) -> tuple[Task, ...]:
        try:
            return self._splits[split]
        except KeyError:
            known = ", ".join(self._splits)
            raise TaskNotFound(f"unknown split {split!r}; known splits: {known}") from None


@lru_cache(maxsize=1)
def default_catalog() -> TaskCatalog:
    """The built-in tasks, loaded once per process."""
    return TaskCatalog({CURATED_SPLIT: load_curated()})
