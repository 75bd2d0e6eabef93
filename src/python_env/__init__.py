"""python_env: an OpenEnv environment for reviewing and repairing Python code.

Importing this package is cheap: the OpenEnv-based parts (environment, server, client, pool) load on
first use, so ``python_env.tasks``, ``python_env.sandbox`` and ``python_env.grading`` stay light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "PythonEnv": "python_env.client",
    "PythonEnvPool": "python_env.pool",
    "PythonEnvironment": "python_env.environment.env",
    "CodeReviewAction": "python_env.environment.models",
    "CodeReviewObservation": "python_env.environment.models",
    "CodeReviewState": "python_env.environment.models",
    "Finding": "python_env.types",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'python_env' has no attribute {name!r}")
