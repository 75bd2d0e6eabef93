"""Scores a speed-up by counted operations, which do not depend on machine load (pure function).

The cost of ``benchmark()`` is the number of Python line events it executes (C builtins are free).
The score is the share of the reference fix's log speed-up that the candidate achieves, and it only
counts when every hidden test still passes.
"""

from __future__ import annotations

import math

from python_env.types import PerfScore


def perf_score(
    baseline_cost: int,
    reference_cost: int,
    candidate_cost: int | None,
    tests_pass: bool,
    tampered: bool = False,
) -> PerfScore:
    """Share of the reference's speed-up achieved, in [0, 1]; 0 unless every test passes."""

    def result(score: float, note: str) -> PerfScore:
        return PerfScore(
            score=round(score, 6),
            baseline_cost=baseline_cost,
            reference_cost=reference_cost,
            candidate_cost=candidate_cost,
            note=note,
        )

    if tampered:
        return result(0.0, "the benchmark's operation counter was tampered with")
    if not tests_pass:
        return result(0.0, "a speed-up only counts when every test passes")
    if candidate_cost is None:
        return result(0.0, "benchmark() did not complete")
    if candidate_cost >= baseline_cost:
        return result(0.0, "no faster than the original")
    target = math.log(baseline_cost / max(1, reference_cost))
    gained = math.log(baseline_cost / max(1, candidate_cost))
    return result(min(1.0, gained / target) if target > 0 else 1.0, "")
