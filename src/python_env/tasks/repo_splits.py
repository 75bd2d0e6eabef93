"""The repository tasks a catalog serves: one ``RepoStore``'s splits, read on first use.

A store's task lines are read when a split is first asked for (listing, lookup, a seeded pick),
not when the catalog is built, so a server starts as fast with a large corpus as without one; a
snapshot is read when an episode first needs it (``RepoStore.snapshot``). Thread-safe: sessions
share one ``RepoSplits``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

from python_env.errors import InvalidTask
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.workspace import Workspace


class RepoSplits:
    """The tasks of ``store`` by split (those of ``only``, if given); immutable once read."""

    def __init__(self, store: RepoStore, only: Collection[str] | None = None) -> None:
        self.store = store
        self.names: tuple[str, ...] = tuple(s for s in store.splits() if only is None or s in only)
        self._lock = threading.Lock()
        self._tasks: dict[str, tuple[RepoTask, ...]] = {}
        self._by_id: dict[str, RepoTask] | None = None

    def tasks(self, split: str) -> tuple[RepoTask, ...]:
        """Every task of ``split``, sorted by id (() for a split the store does not hold)."""
        if split not in self.names:
            return ()
        with self._lock:
            if split not in self._tasks:
                try:
                    loaded = self.store.tasks(split)
                except (OSError, ValueError) as exc:  # a corrupt store: say which file
                    raise InvalidTask(f"repository tasks of {split!r}: {exc}") from exc
                self._tasks[split] = tuple(sorted(loaded, key=lambda t: t.id))
            return self._tasks[split]

    def find(self, task_id: str) -> RepoTask | None:
        """The task with this id, in any split (None if there is none)."""
        if self._by_id is None:
            by_id = {t.id: t for split in self.names for t in self.tasks(split)}
            with self._lock:
                self._by_id = by_id
        return self._by_id.get(task_id)

    def base(self, task: RepoTask) -> Workspace:
        """The snapshot ``task`` starts from (read once per process)."""
        try:
            return self.store.snapshot(task.snapshot)
        except KeyError:
            raise InvalidTask(
                f"{task.id}: the store holds no snapshot {task.snapshot[:12]}", task_id=task.id
            ) from None
        except (OSError, ValueError) as exc:
            raise InvalidTask(
                f"{task.id}: its snapshot cannot be read: {exc}", task_id=task.id
            ) from exc
