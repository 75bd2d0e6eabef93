"""Fixtures for the sandbox suite: one warm executor per isolation tier this host can run.

``PYTHON_ENV_SANDBOX_TIER=fallback`` (or ``native``/``bwrap``) restricts the suite to one tier, so
CI can prove the fallback path on its own; by default every available tier is tested.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from python_env.config import Settings
from python_env.sandbox import ForkServerExecutor, cgroups, isolation
from python_env.sandbox.scratch import SCRATCH_PREFIX

# A secret in the "server's" environment: no job may ever see it.
SERVER_SECRET = "pyenv-server-secret-" + os.urandom(8).hex()
os.environ["PYTHON_ENV_TEST_SERVER_SECRET"] = SERVER_SECRET


SANDBOX = Settings.from_env().sandbox  # CI forces a tier (and no bubblewrap) through these


def bwrap_runs() -> bool:
    """bubblewrap is installed *and* may create namespaces here (not in every container)."""
    path = isolation.bwrap_binary(SANDBOX.bwrap)[0]
    if path is None:
        return False
    argv = [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "true"]
    return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0


def tiers_under_test() -> list[str]:
    if SANDBOX.tier != "auto":
        return [SANDBOX.tier.value]
    return ["bwrap", "native", "fallback"] if bwrap_runs() else ["native", "fallback"]


TIERS = tiers_under_test()


@pytest.fixture(scope="session", params=TIERS)
def executor(request: pytest.FixtureRequest) -> Iterator[ForkServerExecutor]:
    ex = ForkServerExecutor(tier=request.param, pool_size=3)
    assert ex.tier == request.param
    yield ex
    ex.close()


def _our_cgroups() -> list[str]:
    pattern = f"{cgroups.PREFIX}{os.getpid()}-*"
    dirs = [os.path.join(cgroups.ROOT, c, pattern) for c in ("pids", "memory", "")]
    return [d for p in dirs for d in glob.glob(p)]


@pytest.fixture(scope="session", autouse=True)
def no_leaks() -> Iterator[None]:
    """After the whole suite: no cgroup, scratch directory or worker process of ours is left."""
    pattern = os.path.join(tempfile.gettempdir(), f"{SCRATCH_PREFIX}*")
    before = set(glob.glob(pattern))
    yield
    left = sorted(set(glob.glob(pattern)) - before)
    assert left == [], f"scratch directories left behind: {left}"
    assert _our_cgroups() == [], f"cgroups left behind: {_our_cgroups()}"
    assert _our_workers() == [], f"worker processes left behind: {_our_workers()}"


def _our_workers() -> list[str]:
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
        pids = f.read().split()
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"worker.py" in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found
