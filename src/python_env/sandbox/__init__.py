"""Isolated execution of untrusted code: the ``Executor`` interface and its implementations."""

from __future__ import annotations

import logging

from python_env.config import ExecutorKind, SandboxSettings
from python_env.errors import SandboxError
from python_env.sandbox.base import Executor, Job
from python_env.sandbox.forkserver import ForkServerExecutor
from python_env.sandbox.subprocess_executor import SubprocessExecutor
from python_env.types import Limits

__all__ = [
    "Executor",
    "ForkServerExecutor",
    "Job",
    "Limits",
    "SubprocessExecutor",
    "make_executor",
]

log = logging.getLogger("python_env.sandbox")


def make_executor(settings: SandboxSettings | None = None) -> Executor:
    """Build the executor the settings name (default settings: the isolated fork server).

    ``forkserver`` fails closed: when no sandbox worker can start on this host it raises
    ``SandboxError`` naming why, never downgrading to an executor without isolation.
    ``subprocess`` runs jobs UNISOLATED, only when the settings ask for it by name.
    """
    settings = settings or SandboxSettings()
    if settings.executor is ExecutorKind.SUBPROCESS:
        log.error("PYTHON_ENV_EXECUTOR=subprocess: agent code runs UNISOLATED (no sandbox)")
        return SubprocessExecutor(
            queue_timeout_s=settings.queue_timeout_s, hash_seed=settings.hash_seed
        )
    try:
        return ForkServerExecutor(
            pool_size=settings.workers,
            tier=settings.tier.value,
            bwrap=settings.bwrap,
            queue_timeout_s=settings.queue_timeout_s,
            hash_seed=settings.hash_seed,
        )
    except OSError as exc:
        raise SandboxError(f"the sandbox cannot start on this host: {exc}") from exc
