"""``generate --ray``: the sources validated by Ray actors give the local build's bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from python_env.cli import main
from python_env.config import Settings
from python_env.tasks.generate.runner import generate
from tests.ray_helpers import local_ray, needs_ray
from tests.tasks.test_generator import needs_corpora

SANDBOX = Settings.from_env().sandbox  # CI may force the fallback tier

pytestmark = [needs_ray, needs_corpora]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    yield from local_ray(num_cpus=2)


def test_ray_build_is_byte_identical_to_the_local_build(
    tmp_path: Path, ray_cluster: object, capsys: pytest.CaptureFixture[str]
) -> None:
    local = generate(tmp_path / "local", seed=7, count=12, workers=2, max_sources=10,
                     sandbox=SANDBOX)  # fmt: skip
    argv = ["generate", "--out", str(tmp_path / "ray"), "--seed", "7", "--count", "12",
            "--max-sources", "10", "--workers", "2", "--no-progress", "--ray"]  # fmt: skip
    assert main(argv) == 0
    assert f"wrote {local.tasks} tasks" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "ray").iterdir())
    assert "manifest.json" in names and local.tasks > 0
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
