"""The task catalog: every split, lookup by id or index, seeded selection with filters.

A split holds single-file tasks (``Task``) and, when the catalog has a store of them
(``with_repos``), repository tasks (``RepoTask``) of the same split name after them: a
single-file task keeps its index whether or not repository tasks are served.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain
from typing import TypeAlias

from python_env.config import BUILTIN_SPLITS, CatalogSettings
from python_env.errors import ConfigError, InvalidTask, TaskNotFound
from python_env.tasks.curated import CURATED_SPLIT, load_curated
from python_env.tasks.directory import FORMAT, load_task_root
from python_env.tasks.generate.dataset import SPLITS, LazyTasks, generated_splits
from python_env.tasks.generate.dataset import available as holds_dataset
from python_env.tasks.repo_splits import RepoSplits
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.workspace import Workspace
from python_env.types import Category, Difficulty, Task, TaskInfo, TaskKind, TaskProblem

HELD_OUT = ("test",)  # served only when asked for by name
Check = Callable[[Sequence[Task]], list[TaskProblem]]
AnyTask: TypeAlias = Task | RepoTask


class TaskCatalog:
    """Immutable collection of tasks grouped by split; safe to share between sessions.

    A split given as ``LazyTasks`` (the generated dataset) is read on first use, so building the
    catalog stays cheap; so are the splits of ``repos`` (repository tasks).
    """

    def __init__(
        self,
        splits: Mapping[str, Sequence[Task]],
        held_out: Collection[str] = HELD_OUT,
        repos: RepoSplits | None = None,
    ) -> None:
        self._held_out = tuple(held_out)
        self._repos = repos
        self._joined: dict[str, tuple[AnyTask, ...]] = {}
        self._splits: dict[str, Sequence[Task]] = {
            name: tasks if isinstance(tasks, LazyTasks) else tuple(tasks)
            for name, tasks in splits.items()
        }
        self._by_id = {
            t.id: t
            for tasks in self._splits.values()
            if not isinstance(tasks, LazyTasks)
            for t in tasks
        }
        self._lazy = [s for s in self._splits.values() if isinstance(s, LazyTasks)]
        self._matches: dict[tuple[object, ...], tuple[AnyTask, ...]] = {}

    def split_names(self) -> list[str]:
        """The splits, in the order given (then those only repository tasks are in)."""
        repo_only = [n for n in self._repos.names if n not in self._splits] if self._repos else []
        return [*self._splits, *repo_only]

    def with_splits(
        self, splits: Mapping[str, Sequence[Task]], held_out: Collection[str] = ()
    ) -> TaskCatalog:
        """A catalog of these splits and ``splits`` (``held_out`` names more held-out ones)."""
        taken = sorted(set(splits) & set(self.split_names()))
        if taken:
            raise ConfigError(f"split {taken[0]!r} is served twice: name one of them otherwise")
        return TaskCatalog({**self._splits, **splits}, (*self._held_out, *held_out), self._repos)

    def with_repos(self, repos: RepoSplits) -> TaskCatalog:
        """This catalog with the repository tasks of ``repos`` in their splits."""
        return TaskCatalog(self._splits, self._held_out, repos)

    def repo_base(self, task: RepoTask) -> Workspace:
        """The snapshot a repository task of this catalog starts from."""
        if self._repos is None:
            message = f"{task.id}: this catalog serves no repository tasks"
            raise InvalidTask(message, task_id=task.id)
        return self._repos.base(task)

    def loaded_ids(self) -> dict[str, str]:
        """Task id -> split, over the splits already in memory (not the lazily read ones)."""
        return {t.id: t.info.split for t in self._by_id.values()}

    def infos(self, split: str) -> list[TaskInfo]:
        """Public descriptions of every task of ``split``."""
        return [t.info for t in self._split(split)]

    def size(self, split: str) -> int:
        """How many tasks ``split`` holds."""
        return len(self._split(split))

    def get(self, task_id: str) -> AnyTask:
        """The task with this id, in any split."""
        task: AnyTask | None = self._by_id.get(task_id)
        for lazy in self._lazy if task is None else ():
            task = lazy.find(task_id)
            if task is not None:
                break
        if task is None and self._repos is not None:
            task = self._repos.find(task_id)
        if task is None:
            raise TaskNotFound(f"unknown task id {task_id!r}", task_id=task_id)
        return task

    def at(self, split: str, index: int) -> AnyTask:
        """The task at ``index`` of ``split``."""
        tasks = self._split(split)
        if not 0 <= index < len(tasks):
            raise TaskNotFound(
                f"index {index} is out of range for split {split!r} (0..{len(tasks) - 1})",
                split=split,
                index=index,
            )
        return tasks[index]

    def select(
        self,
        seed: int | None,
        split: str | None = None,
        kind: TaskKind | None = None,
        difficulty: Difficulty | None = None,
        category: Category | None = None,
        repo: bool = False,
    ) -> AnyTask:
        """Pick a task matching the filters; the same seed always picks the same task.

        Without ``split`` the pick is over every split but the held-out ``test`` one, so a trainer
        that passes no split never trains on evaluation tasks. ``repo=True`` picks among the
        repository tasks; otherwise among the single-file ones: repository tasks take actions an
        agent written for single files does not know, and a seed keeps picking what it picked
        before they were served.
        """
        key = (split, kind, difficulty, category, repo)
        matches = self._matches.get(key)
        if matches is None:  # the catalog never changes: filter and sort once per filter set
            matches = self._matching(split, kind, difficulty, category, repo)
            self._matches[key] = matches
        return random.Random(seed).choice(matches)

    def _matching(
        self,
        split: str | None,
        kind: TaskKind | None,
        difficulty: Difficulty | None,
        category: Category | None,
        repo: bool,
    ) -> tuple[AnyTask, ...]:
        names = [split] if split else [n for n in self.split_names() if n not in self._held_out]
        pool: Iterable[AnyTask] = chain(*(self._split(name) for name in names))
        matches = sorted(
            (
                t
                for t in pool
                if (kind is None or kind in t.info.kinds)
                and (difficulty is None or t.info.difficulty == difficulty)
                and (category is None or category in t.info.categories)
                and isinstance(t, RepoTask) == bool(repo)
            ),
            key=lambda t: t.id,
        )
        if not matches:
            raise TaskNotFound("no task matches the filters given")
        return tuple(matches)

    def _split(self, split: str) -> Sequence[AnyTask]:
        single = self._splits.get(split)
        if self._repos is None or split not in self._repos.names:
            if single is None:
                known = ", ".join(self.split_names())
                raise TaskNotFound(f"unknown split {split!r}; known splits: {known}", split=split)
            return single
        joined = self._joined.get(split)
        if joined is None:  # single-file tasks first: their indices do not move
            joined = self._joined[split] = (*(single or ()), *self._repos.tasks(split))
        return joined


@lru_cache(maxsize=8)
def default_catalog(splits: tuple[str, ...] | None = None) -> TaskCatalog:
    """The built-in tasks (shipped data, loaded once per process): the curated bank, and the
    generated ``train``/``test`` splits (read lazily, on first use); ``splits`` picks some."""
    available: dict[str, Sequence[Task]] = {CURATED_SPLIT: load_curated()}
    available.update(generated_splits())
    unknown = sorted(set(splits or ()) - set(available))
    if unknown:
        raise ConfigError(f"no built-in split {unknown[0]!r}; there are {sorted(available)}")
    return TaskCatalog({n: t for n, t in available.items() if splits is None or n in splits})


def serving_catalog(
    settings: CatalogSettings, check: Check | None = None
) -> tuple[TaskCatalog, list[TaskProblem]]:
    """The built-in splits ``settings`` select, and a split per task directory (a generated
    dataset's two, its ``-test`` one held out), and the repository tasks of the store
    ``settings.repo_tasks_dir`` in their splits (a built-in split's name only if ``settings``
    select it); a task with a problem (the directory format, an id served already, or what
    ``check`` finds) is left out. Returns the problems too."""
    catalog = default_catalog(settings.splits)
    store = RepoStore(settings.repo_tasks_dir)
    wanted = [s for s in store.splits() if s in settings.splits or s not in BUILTIN_SPLITS]
    if wanted:
        catalog = catalog.with_repos(RepoSplits(store, wanted))
    served = catalog.loaded_ids()
    splits: dict[str, list[Task]] = {}
    held_out: list[str] = []
    kept: list[Task] = []
    problems: list[TaskProblem] = []
    for entry in settings.task_dirs:
        tasks, found = load_task_root(entry.path, entry.split)
        problems += found
        if holds_dataset(entry.path):
            splits.update({f"{entry.split}-{part}": [] for part in SPLITS})
            held_out += [f"{entry.split}-{part}" for part in HELD_OUT]
        else:
            splits[entry.split] = []  # served even if every task is left out: it is asked for
        for task in tasks:
            if task.id in served:
                where = f"split {served[task.id]!r}"
                problems.append(TaskProblem(task.id, FORMAT, f"id already served by {where}"))
            else:
                served[task.id] = task.info.split
                kept.append(task)
    checked = check(kept) if check and kept else []
    bad = {p.task for p in checked}
    for task in kept:
        if task.id not in bad:
            splits[task.info.split].append(task)
    return catalog.with_splits(splits, held_out), problems + checked
