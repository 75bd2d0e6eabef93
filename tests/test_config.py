"""Settings from the environment: defaults, parsing, and a clear error for bad values."""

from __future__ import annotations

import pytest

from python_env.config import Settings
from python_env.errors import ConfigError


def test_defaults_serve_on_loopback_only() -> None:
    settings = Settings.from_env({})
    assert settings.host == "127.0.0.1" and settings.port == 8000
    assert settings.executor == "forkserver" and settings.sandbox_queue_timeout_s == 60.0


def test_values_are_parsed() -> None:
    env = {"PORT": "8123", "MAX_CONCURRENT_ENVS": "256", "PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT": "2.5"}
    settings = Settings.from_env(env)
    assert settings.port == 8123 and settings.max_concurrent_envs == 256
    assert settings.sandbox_queue_timeout_s == 2.5


@pytest.mark.parametrize(
    ("name", "raw"),
    [("PORT", "0"), ("PORT", "eighty"), ("WORKERS", "-1"),
     ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "0"), ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "nan"),
     ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "inf")],
)  # fmt: skip
def test_bad_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})
