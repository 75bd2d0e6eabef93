"""What shipping relies on, checked without building anything: the image's pinned dependencies
cover pyproject's, the Dockerfile is lint-clean, the manifest's declarations match the package,
the Space directory passes OpenEnv's own push staging, and the server says which sandbox tier
it got in one line."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from python_env.server.notice import CONTAINER_HINT, INSTALL_HINT, sandbox_notice
from python_env.tasks.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "openenv.yaml").read_text())["validation"]


def test_the_image_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for spec in pyproject["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned: run scripts/lock-image-requirements.sh"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"
    # The build backend too, so the image builds offline once the lock is installed.
    backend = pyproject["build-system"]["requires"][0]
    assert Requirement(backend).specifier.contains(pins["setuptools"])


HADOLINT = shutil.which("hadolint", path=os.path.dirname(sys.executable))  # the dev extra's


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (the dev extra has it)")
def test_the_dockerfile_is_hadolint_clean() -> None:
    assert HADOLINT is not None
    out = subprocess.run([HADOLINT, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_build_context_is_an_allow_list_without_tests_or_vcs() -> None:
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r and r[0] != "#"]
    assert rules[0] == "*"  # everything out, then only what the Dockerfile copies back in
    admitted = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert not admitted & {"tests", ".git", ".venv", "examples", "benchmarks"}


def test_manifest_declarations_match_the_package() -> None:
    catalog = default_catalog()
    declared = MANIFEST["capabilities"]["declared_task_count"]
    assert declared == {split: catalog.size(split) for split in catalog.split_names()}
    generated = json.loads((ROOT / "src/python_env/tasks/data/generated/manifest.json").read_text())
    pin = MANIFEST["task_distribution"]
    assert pin["generator_seed"] == generated["seed"]
    assert pin["dataset_version"] == f"python-env-generate-{generated['generator_version']}"
    oracle = ROOT / MANIFEST["capabilities"]["oracle"]["location"]
    assert oracle.is_file() and os.access(oracle, os.X_OK)
    assert MANIFEST["network"]["mode"] == "no-network"


def test_the_runtime_plan_is_one_openenv_accepts() -> None:
    from openenv.validation.manifest import ExecutionDeclaration
    from openenv.validation.runtime.contracts import load_runtime_plan

    from python_env.environment.models import CodeReviewAction

    plan = load_runtime_plan(ROOT, ExecutionDeclaration(**MANIFEST["execution"]))
    for action in plan.actions:
        CodeReviewAction.model_validate(action)  # each step is valid: no error frame
    assert plan.actions[-1] == {"kind": "submit"}


@pytest.mark.timeout(300)
def test_the_space_directory_passes_openenv_push_staging(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_space.py"), str(tmp_path / "space")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "front matter: " in out.stdout and "sdk=docker app_port=8000" in out.stdout
    assert "base_path=/web" in out.stdout and "problem:" not in out.stdout


@pytest.mark.parametrize(
    ("description", "level", "says"),
    [
        ({"tier": "bwrap", "layers": ["bwrap", "seccomp"], "missing": []}, logging.INFO,
         "sandbox: tier bwrap, 2 layers, missing: none (the strongest tier)"),
        ({"tier": "native", "layers": ["seccomp"], "missing": ["bwrap"],
          "requested_tier": "auto", "tiers_unavailable": {"bwrap": "bubblewrap is not installed"}},
         logging.WARNING, INSTALL_HINT),
        ({"tier": "native", "layers": ["seccomp"], "missing": ["bwrap", "netns"],
          "requested_tier": "auto",
          "tiers_unavailable": {"bwrap": "bwrap: Can't mount proc on /newroot/proc"}},
         logging.WARNING, CONTAINER_HINT),
        ({"tier": "fallback", "layers": ["seccomp"], "missing": ["bwrap"],
          "requested_tier": "fallback"}, logging.INFO, "(PYTHON_ENV_SANDBOX_TIER=fallback)"),
        ({"executor": "subprocess", "isolation": "UNISOLATED"}, logging.WARNING, "UNISOLATED"),
    ],
)  # fmt: skip
def test_the_sandbox_notice_names_the_tier_and_how_to_get_bwrap(
    description: dict[str, object], level: int, says: str
) -> None:
    got_level, line = sandbox_notice(description)
    assert got_level == level and says in line and "\n" not in line
