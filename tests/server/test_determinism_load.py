"""Determinism under load (issue 16): the same seeds and actions give byte-identical results
played by 16 concurrent sessions and played again one episode at a time on one session.

A graded-heavy mix (``benchmarks/soak_driver.py``, mix ``graded``): reviews with answer-key and
random findings (suggested fixes included, each checked in the sandbox at submit), edits to the
reference fix, the original or garbage, visible test runs and submits. Every episode's replies,
rewards and final evaluation (canonical JSON) must be the same alone as under load.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def bench_module(name: str) -> ModuleType:
    """A module of benchmarks/ (not a package), imported by path."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(name) or importlib.util.module_from_spec(spec)
    if name not in sys.modules:
        sys.modules[name] = module  # dataclasses look their module up while being built
        spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(240)
def test_sixteen_sessions_match_one_session_byte_for_byte(server_url: str) -> None:
    driver = bench_module("soak_driver")
    pool = driver.build_pool(seed=3, per_split=6)
    drivers = [
        driver.SessionDriver(server_url, n, 3, 30, pool, mix="graded", timeout_s=90)
        for n in range(16)
    ]
    tally = asyncio.run(driver.run_sessions(drivers))
    assert tally.unexpected == [] and tally.steps == 16 * 30

    episodes = [e for d in drivers for e in d.episodes]
    graded = [e for e in episodes if e.done]
    assert len(graded) >= 16, "too few submitted episodes to compare evaluations"
    scores = [json.loads(e.final)["score"] for e in graded]
    assert any(s > 0 for s in scores) and any(s < 1 for s in scores), scores
    mismatches = asyncio.run(driver.replay(server_url, episodes, timeout_s=90))
    assert mismatches == []
