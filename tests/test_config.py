"""Settings from the environment: defaults, parsing, a clear error for bad values, round trip."""

from __future__ import annotations

import pytest

from python_env.config import ExecutorKind, SandboxTier, Settings
from python_env.errors import ConfigError


def test_defaults_serve_on_loopback_only_with_the_sandbox() -> None:
    settings = Settings.from_env({})
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8000
    assert settings.sandbox.executor is ExecutorKind.FORKSERVER
    assert settings.sandbox.tier is SandboxTier.AUTO and settings.sandbox.queue_timeout_s == 60.0
    assert settings.catalog.splits == ("curated", "train", "test")
    assert settings.llm.api_key is None


def test_values_are_parsed_into_their_sections() -> None:
    env = {
        "PORT": "8123",
        "MAX_CONCURRENT_ENVS": "256",
        "PYTHON_ENV_SANDBOX_TIER": "fallback",
        "PYTHON_ENV_SANDBOX_BWRAP": "0",
        "PYTHON_ENV_SANDBOX_WORKERS": "3",
        "PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT": "2.5",
        "PYTHON_ENV_SPLITS": "curated, test",
        "API_KEY": "k1",
        "OPENAI_API_KEY": "k2",
    }
    settings = Settings.from_env(env)
    assert settings.server.port == 8123 and settings.server.max_concurrent_envs == 256
    sandbox = settings.sandbox
    assert sandbox.tier is SandboxTier.FALLBACK and sandbox.bwrap == "0" and sandbox.workers == 3
    assert sandbox.queue_timeout_s == 2.5
    assert settings.catalog.splits == ("curated", "test")
    assert settings.llm.api_key is not None and settings.llm.api_key.get_secret_value() == "k1"
    assert "k1" not in repr(settings)  # the key never lands in a log line


def test_settings_are_frozen_values() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ValueError, match="frozen"):
        settings.sandbox.workers = 9  # type: ignore[misc]
    assert Settings.from_env({}) == settings


def test_to_env_rebuilds_the_same_settings() -> None:
    settings = Settings.from_env({"PORT": "9000", "PYTHON_ENV_SANDBOX_TIER": "native"})
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("name", "raw"),
    [("PORT", "0"), ("PORT", "eighty"), ("WORKERS", "-1"), ("PYTHON_ENV_EXECUTOR", "docker"),
     ("PYTHON_ENV_SANDBOX_TIER", "vm"), ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "0"),
     ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "nan"), ("PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT", "inf")],
)  # fmt: skip
def test_bad_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name) as raised:
        Settings.from_env({name: raw})
    assert repr(raw) in str(raised.value)
