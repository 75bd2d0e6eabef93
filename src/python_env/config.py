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
DEFAULT_QUEUE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_concurrent_envs: int = DEFAULT_MAX_CONCURRENT_ENVS
    workers: int = DEFAULT_WORKERS
    executor: str = DEFAULT_EXECUTOR
    # How long a queued sandbox job waits while no worker can make progress (then HTTP 503).
    sandbox_queue_timeout_s: float = DEFAULT_QUEUE_TIMEOUT_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read HOST, PORT, MAX_CONCURRENT_ENVS, WORKERS, PYTHON_ENV_EXECUTOR and
        PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT."""
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("HOST", DEFAULT_HOST),
            port=_positive_int(env, "PORT", DEFAULT_PORT),
            max_concurrent_envs=_positive_int(
                env, "MAX_CONCURRENT_ENVS", DEFAULT_MAX_CONCURRENT_ENVS
            ),
            workers=_positive_int(env, "WORKERS", DEFAULT_WORKERS),
            executor=env.get("PYTHON_ENV_EXECUTOR", DEFAULT_EXECUTOR),
            sandbox_queue_timeout_s=_positive_float(
                env, "PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", DEFAULT_QUEUE_TIMEOUT_S
            ),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_positive(env, name, default, int, "a positive integer"))


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, float, "a positive number")


def _positive(
    env: Mapping[str, str], name: str, default: float, kind: type[float], what: str
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from None
    if not 0 < value < float("inf") or (kind is int and value < 1):
        raise ConfigError(f"{name} must be {what}, got {value}")
    return value
