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
30 ms): the thresholds are coarse, 25 ms being some 80 times the median test; the tests are
shuffled before the costs filter them, so the draws do not depend on the costs; and a flip
changes which tests that task hides and shows (its whole hidden suite, when it moves the
budget), never whether the hidden suite grades soundly.
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
    order = rng.sample(list(tests), len(tests))  # drawn whatever the costs: see the module
    fast = cheap(order, cost)
    return (fast + [t for t in order if cost[t] >= MAX_TEST_CPU_MS])[:k]


def within_budget(
    tests: Sequence[str], cost: Mapping[str, float], rng: random.Random, k: int, spent: float
) -> list[str]:
    """At most ``k`` cheap tests of ``tests``, drawn at random while the hidden suite, which
    already costs ``spent``, stays within ``MAX_HIDDEN_CPU_MS``."""
    picked: list[str] = []
    for test in cheap(rng.sample(list(tests), len(tests)), cost):
        if len(picked) == k:
            break
        if spent + cost[test] <= MAX_HIDDEN_CPU_MS:
            picked.append(test)
            spent += cost[test]
    return picked
