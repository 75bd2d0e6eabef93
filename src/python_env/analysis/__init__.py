"""Static analysis: ruff and bandit on a piece of code, their hits as review categories.

Used by the heuristic agent (its findings and autofixes) and by the task generator (an injected
issue must make its rule fire; a bug must not be given away by a linter). The tools run as
processes, on text only: they never execute the code.
"""

from __future__ import annotations

from python_env.analysis.linters import (
    DEFAULT_RUFF_RULES,
    AnalyzerHit,
    category_of,
    ruff_batch,
    ruff_fix,
    run_bandit,
    run_ruff,
)

__all__ = [
    "DEFAULT_RUFF_RULES",
    "AnalyzerHit",
    "category_of",
    "ruff_batch",
    "ruff_fix",
    "run_bandit",
    "run_ruff",
]
