"""Which tests a repository task hides and shows: cheap ones, drawn so that noise in their
measured cost changes nothing.

The environment runs the hidden tests at every graded submit. Pass-to-pass and clean hidden
tests, and the passing tests a task lets the agent run (``run_tests``), are drawn from those
under ``MAX_TEST_CPU_MS`` in the baseline (the slower of its two runs); fail-to-pass tests
come first, the cheap ones first when more than ``MAX_FAIL_TO_PASS`` fail.

Measured (thread CPU in the sandbox): most tests take under 1 ms (more-itertools, 749 kept
tests: median 0.3 ms, p90 0.8 ms; toolz, tabulate, pycparser, jsonpickle: none over 16 ms)
and a few take 25-300 ms (more-itertools: 9, from 28 ms; boltons: 5). A measured cost varies
with the load, so the only thing it decides is which side of the coarse 25 ms line a test is
on (some 80 times the median test): tests are shuffled before the line filters them, and a
suite is capped by a count of tests, not by a sum of costs (a sum crosses any budget at a
point that moves with every build). A build on another machine then gives the same tasks,
unless a test whose cost sits at 25 ms is drawn; such a flip changes which tests that task
hides or shows, never whether its hidden suite grades soundly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

MAX_TEST_CPU_MS = 25.0


def cheap(tests: Sequence[str], cost: Mapping[str, float]) -> list[str]:
    """The tests under ``MAX_TEST_CPU_MS``, in their order."""
    return [t for t in tests if cost[t] < MAX_TEST_CPU_MS]


def cheap_first(
    tests: Sequence[str], cost: Mapping[str, float], rng: random.Random, k: int
) -> list[str]:
    """A sample of ``k`` of ``tests`` (all, if fewer), cheap ones first."""
    order = rng.sample(list(tests), len(tests))  # drawn whatever the costs
    fast = cheap(order, cost)
    return (fast + [t for t in order if cost[t] >= MAX_TEST_CPU_MS])[:k]


def cheap_sample(
    tests: Sequence[str], cost: Mapping[str, float], rng: random.Random, k: int
) -> list[str]:
    """At most ``k`` cheap tests of ``tests``, drawn at random (the draw does not depend on
    the costs: a test that moves across the line changes the sample only if it is in it)."""
    return cheap(rng.sample(list(tests), len(tests)), cost)[:k]
