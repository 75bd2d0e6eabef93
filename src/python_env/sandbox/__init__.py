"""Isolated execution of untrusted code: the ``Executor`` interface and its implementations."""

from __future__ import annotations

import logging

from python_env.errors import ConfigError, SandboxError
from python_env.sandbox.base import Executor, Job, Limits
from python_env.sandbox.forkserver import ForkServerExecutor
from python_env.sandbox.subprocess_executor import SubprocessExecutor

__all__ = [
    "EXECUTORS",
    "Executor",
    "ForkServerExecutor",
    "Job",
    "Limits",
    "SubprocessExecutor",
    "make_executor",
]

EXECUTORS = ("forkserver", "subprocess")
log = logging.getLogger("python_env.sandbox")


def make_executor(name: str = "forkserver") -> Executor:
    """Build the executor named by the ``EXECUTOR`` setting.

    ``forkserver`` (the default; ``auto`` is an alias) falls back to ``subprocess``, with a
    warning, when no sandbox worker can start on this host.
    """
    if name == "subprocess":
        return SubprocessExecutor()
    if name in ("forkserver", "auto"):
        try:
            return ForkServerExecutor()
        except (SandboxError, OSError) as exc:
            log.warning("forkserver executor cannot start (%s); using the subprocess executor", exc)
            return SubprocessExecutor()
    raise ConfigError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
