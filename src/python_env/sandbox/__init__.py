"""Isolated execution of untrusted code: the ``Executor`` interface and its implementations."""

from __future__ import annotations

from python_env.errors import ConfigError
from python_env.sandbox.base import Executor, Job, Limits
from python_env.sandbox.subprocess_executor import SubprocessExecutor

__all__ = ["Executor", "Job", "Limits", "SubprocessExecutor", "make_executor"]


def make_executor(name: str = "subprocess") -> Executor:
    """Build the executor named by the ``EXECUTOR`` setting."""
    if name == "subprocess":
        return SubprocessExecutor()
    raise ConfigError(f"unknown executor {name!r}; choose from: subprocess")
