"""Task directories checked before they are served: the directory format, then the validation
engine (``python_env.environment.validation``) in the sandbox, twice seeded.

No FastAPI here: ``python-env tasks validate`` runs the same checks without a server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from python_env.config import SandboxSettings, Settings
from python_env.environment.validation import validate_tasks
from python_env.errors import InvalidTask
from python_env.sandbox import Executor, make_executor
from python_env.tasks.catalog import TaskCatalog, serving_catalog
from python_env.types import Task, TaskProblem

log = logging.getLogger("python_env.server")


def reseeded(sandbox: SandboxSettings) -> SandboxSettings:
    """The same sandbox with another hash seed: outcomes that follow set or dict order differ."""
    return sandbox.model_copy(update={"hash_seed": (sandbox.hash_seed + 1) % 2**32})


def check_tasks(
    tasks: Sequence[Task], sandbox: SandboxSettings, executor: Executor | None = None
) -> list[TaskProblem]:
    """The validation engine's problems with ``tasks``, run on ``executor`` (built from
    ``sandbox`` when None) and on a reseeded sandbox; the executors built here are closed."""
    own = executor is None
    first = executor or make_executor(sandbox)
    second: Executor | None = None
    try:
        second = make_executor(reseeded(sandbox))
        return validate_tasks(tasks, first, second, limits=sandbox.limits)
    finally:
        for built in ((first,) if own else ()) + ((second,) if second else ()):
            built.close()


def served_catalog(settings: Settings, executor: Executor, *, refuse: bool = False) -> TaskCatalog:
    """The built-in splits the settings select and a split per task directory, every problem
    logged as its one line: the tasks with one are left out, or (``refuse``) nothing starts."""

    def check(tasks: Sequence[Task]) -> list[TaskProblem]:
        return check_tasks(tasks, settings.sandbox, executor)

    catalog, problems = serving_catalog(settings.catalog, check)
    for problem in problems:
        log.warning("invalid task: %s", problem.line())
    if problems and refuse:
        raise InvalidTask(
            f"{len(problems)} problem(s) with the tasks of {_dirs(settings)} (each logged "
            "above): not serving (--invalid-tasks refuse)"
        )
    if problems:
        skipped = len({p.task for p in problems})
        log.warning("%d task(s) of %s left out: each has a problem above", skipped, _dirs(settings))
    return catalog


def _dirs(settings: Settings) -> str:
    return ", ".join(str(d.path) for d in settings.catalog.task_dirs)
