"""Which tests a repository task hides: cheap ones, for a fast graded run.

The environment runs the hidden tests at every graded submit. Pass-to-pass and clean hidden
tests are drawn from those under ``MAX_TEST_CPU_MS`` in the baseline (the slower of its two
runs), and only while the hidden suite's baseline CPU stays within ``MAX_HIDDEN_CPU_MS``;
fail-to-pass tests come first, the cheap ones first when more than ``MAX_FAIL_TO_PASS`` fail.
The passing tests a task lets the agent run (``run_tests``) are cheap ones too.

Measured (thread CPU in the sandbox): most tests take under 1 ms (more-itertools, 749 kept
tests: median 0.3 ms, p90 0.8 ms; toolz, tabulate, pycparser, jsonpickle: none over 16 ms)
and a few take 25-300 ms (more-itertools: 9, from 28 ms; boltons: 5). Costs are measured, so
a test near a threshold may fall on either side in another build (boltons has tests at 23 and
30 ms): the thresholds are coarse, 25 ms being some 80 times the median test, and a flip only
changes which tests are drawn, never whether the hidden suite grades soundly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

MAX_TEST_CPU_MS = 25.0
MAX_HIDDEN_CPU_MS = 100.0


def cheap(tests: Sequence[str], cost: Mapping[str, float]) -> list[str]:
    """The tests under ``MAX_TEST_CPU_MS``, in their order."""
    return [t for t in tests if cost[t] < MAX_TEST_CPU_MS]


def cheap_first(
    tests: Sequence[str], cost: Mapping[str, float], rng: random.Random, k: int
) -> list[str]:
    """A sample of ``k`` of ``tests`` (all, if fewer), cheap ones (``MAX_TEST_CPU_MS``) first."""
    fast = cheap(tests, cost)
    slow = [t for t in tests if cost[t] >= MAX_TEST_CPU_MS]
    picked = rng.sample(fast, min(k, len(fast)))
    return picked + rng.sample(slow, min(k - len(picked), len(slow)))


def within_budget(
    tests: Sequence[str], cost: Mapping[str, float], rng: random.Random, k: int, spent: float
) -> list[str]:
    """At most ``k`` cheap tests of ``tests``, drawn at random while the hidden suite, which
    already costs ``spent``, stays within ``MAX_HIDDEN_CPU_MS``."""
    fast = cheap(tests, cost)
    picked: list[str] = []
    for test in rng.sample(fast, len(fast)):
        if len(picked) == k:
            break
        if spent + cost[test] <= MAX_HIDDEN_CPU_MS:
            picked.append(test)
            spent += cost[test]
    return picked
