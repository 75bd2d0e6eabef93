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


def make_executor(name: str = "forkserver", queue_timeout_s: float = 60.0) -> Executor:
    """Build the executor named by the ``EXECUTOR`` setting.

    ``forkserver`` (the default; ``auto`` is an alias) fails closed: when no sandbox worker can
    start on this host it raises ``SandboxError`` naming why, never downgrading to an executor
    without isolation. ``subprocess`` runs jobs UNISOLATED, only when asked for by name.
    """
    if name == "subprocess":
        log.error("PYTHON_ENV_EXECUTOR=subprocess: agent code runs UNISOLATED (no sandbox)")
        return SubprocessExecutor(queue_timeout_s=queue_timeout_s)
    if name in ("forkserver", "auto"):
        try:
            return ForkServerExecutor(queue_timeout_s=queue_timeout_s)
        except OSError as exc:
            raise SandboxError(f"the sandbox cannot start on this host: {exc}") from exc
    raise ConfigError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
