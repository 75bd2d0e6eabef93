"""The app factory: everything built from one Settings value, nothing shared between apps."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from python_env.config import SandboxSettings, SandboxTier, Settings
from python_env.environment.models import CodeReviewAction, CodeReviewObservation, CodeReviewState
from python_env.server.app import build_app
from tests.sandbox.conftest import TIERS


def test_two_apps_with_different_settings_use_their_own_executors() -> None:
    tier = SandboxTier(TIERS[-1])  # the weakest tier this run allows: it starts everywhere
    one = build_app(Settings(sandbox=SandboxSettings(tier=tier, workers=1)))
    two = build_app(Settings(sandbox=SandboxSettings(tier=tier, workers=2)))
    assert one.state.runner is not two.state.runner
    assert one.state.runner.executor is not two.state.runner.executor
    with TestClient(one) as first, TestClient(two) as second:  # stops each sandbox on exit
        sizes = [c.get("/health").json()["sandbox"]["pool"]["size"] for c in (first, second)]
        assert sizes == [1, 2]
        assert first.get("/health").json()["sandbox"]["tier"] == tier.value
    for app in (one, two):
        assert not app.state.runner.executor.health()["serving"]  # closed with its app


def _undescribed(schema: dict[str, Any], name: str) -> list[str]:
    models = {name: schema, **schema.get("$defs", {})}
    return [
        f"{model}.{field}"
        for model, spec in models.items()
        for field, prop in spec.get("properties", {}).items()
        if not prop.get("description")
    ]


def test_every_field_published_at_schema_is_described() -> None:
    missing = [
        field
        for model in (CodeReviewAction, CodeReviewObservation, CodeReviewState)
        for field in _undescribed(model.model_json_schema(), model.__name__)
    ]
    inherited = {"metadata", "reward", "done", "episode_id", "step_count"}  # OpenEnv's own fields
    assert [f for f in missing if f.split(".")[1] not in inherited] == []
