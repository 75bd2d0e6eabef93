"""OpenEnv conformance: OpenEnv's own validation (``openenv.validation``) run against python_env.

``run(root)`` copies the package at ``root`` (what an image would be built from: the manifest and
its runtime plan, the sources, the Dockerfile) into a snapshot, runs OpenEnv's ``run_validation``
on the snapshot with the local-process provider (``provider.py``) serving the snapshot's own
code, then sorts every check into passed, failed, or skipped with the reason.
``python-env validate`` prints that; CI runs it. The snapshot is why a checkout being edited (or
caches being written) during the run cannot invalidate it, and why the digest OpenEnv reports
names exactly the code that was served.

What "passed" means: every check the installed openenv implements and this provider can feed ran
and passed. Checks openenv only reserves ("grader not implemented in this build") and checks
that need a capability the provider lacks are listed as skipped, with their reason; they do not
fail the run, and OpenEnv's own verdict for such a run is ``warn``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The package as an image sees it (the Dockerfile's inputs), plus the manifest's runtime plan.
PACKAGE_FILES = ("openenv.yaml", "validation", "Dockerfile", ".dockerignore", "requirements.lock",
                 "pyproject.toml", "README.md", "LICENSE", "NOTICE", "src", "server")  # fmt: skip
_NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.py[co]", "*.egg-info", ".*_cache")
NOT_IMPLEMENTED = "grader not implemented in this build"


@dataclass(frozen=True)
class Check:
    """One check of the report: its id, status (pass/fail/skip/error) and first evidence."""

    check_id: str
    status: str
    detail: str
    counts: bool  # implemented here, so a skip is a failure of the run


@dataclass(frozen=True)
class Outcome:
    """What a validation run proved."""

    checks: list[Check]
    verdict: str  # OpenEnv's own: pass, warn or fail
    openenv_version: str
    provider: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Check]:
        """Checks that failed or errored, and implemented checks that did not run."""
        return [c for c in self.checks if c.status != "pass" and (c.counts or c.status != "skip")]

    @property
    def passed(self) -> bool:
        """True when nothing failed and at least the runtime contract was exercised."""
        return not self.failed and any(c.check_id == "runtime.startup" for c in self.checks)


def run(root: Path, *, semantic: bool = True, artifacts: Path | None = None) -> Outcome:
    """Validate the package at ``root`` up to the runtime (or semantic) level, locally."""
    from importlib.metadata import version

    from openenv.validation import Level, run_validation

    from python_env.conformance.provider import LocalProcessProvider

    level = Level.SEMANTIC if semantic else Level.RUNTIME
    with tempfile.TemporaryDirectory(prefix="python-env-validate-") as tmp:
        snapshot = Path(tmp) / root.name
        stage(root, snapshot)
        # The server imports the snapshot's python_env (PYTHONPATH precedes any installed copy).
        provider = LocalProcessProvider(env={"PYTHONPATH": str(snapshot / "src")})
        report = run_validation(
            snapshot, max_level=level, provider=provider, artifacts_dir=artifacts
        )
    checks = [_check(r.check_id, r.status.value, r.evidence) for r in report.results]
    order = {"static": 0, "runtime": 1, "semantic": 2}
    # By level; within one, what ran (runtime.startup first) before what was skipped.
    checks.sort(key=lambda c: (order.get(c.check_id.split(".")[0], 3), c.status == "skip",
                               c.check_id != "runtime.startup", c.check_id))  # fmt: skip
    inspected = provider.inspections[-1] if provider.inspections else {}
    details = {"name": provider.name, "source_digest": report.source_digest, **inspected}
    return Outcome(checks, report.verdict.value, version("openenv"), details)


def stage(root: Path, snapshot: Path) -> None:
    """Copy the package files of ``root`` (those it has) into ``snapshot``, without caches."""
    snapshot.mkdir(parents=True)
    for name in PACKAGE_FILES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name, ignore=_NOT_SOURCE)
        elif source.is_file():
            shutil.copy2(source, snapshot / name)


def _check(check_id: str, status: str, evidence: list[str]) -> Check:
    detail = "; ".join(evidence)[:300]
    reserved = NOT_IMPLEMENTED in detail
    lacks = "missing provider capabilities" in detail
    return Check(check_id, status, detail, counts=not (reserved or lacks))
