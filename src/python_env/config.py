"""Server settings, read from environment variables once, in the app factory (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from python_env.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CONCURRENT_ENVS = 64
DEFAULT_WORKERS = 1
DEFAULT_EXECUTOR = "forkserver"


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_concurrent_envs: int = DEFAULT_MAX_CONCURRENT_ENVS
    workers: int = DEFAULT_WORKERS
    executor: str = DEFAULT_EXECUTOR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read HOST, PORT, MAX_CONCURRENT_ENVS, WORKERS and PYTHON_ENV_EXECUTOR."""
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("HOST", DEFAULT_HOST),
            port=_positive_int(env, "PORT", DEFAULT_PORT),
            max_concurrent_envs=_positive_int(
                env, "MAX_CONCURRENT_ENVS", DEFAULT_MAX_CONCURRENT_ENVS
            ),
            workers=_positive_int(env, "WORKERS", DEFAULT_WORKERS),
            executor=env.get("PYTHON_ENV_EXECUTOR", DEFAULT_EXECUTOR),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value
