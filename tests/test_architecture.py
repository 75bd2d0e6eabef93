"""Import direction: the pure layers never load openenv, FastAPI or the server stack."""

from __future__ import annotations

import subprocess
import sys

import python_env

PURE = ["python_env.types", "python_env.tasks.catalog", "python_env.sandbox", "python_env.grading"]
PURE_MODULES = [
    "python_env.grading.findings",
    "python_env.grading.tests",
    "python_env.grading.performance",
    "python_env.grading.score",
]
HEAVY = ["openenv", "fastapi", "uvicorn", "gradio", "starlette"]


def test_pure_layers_do_not_import_openenv_or_fastapi() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {PURE + PURE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_lazy_and_complete() -> None:
    code = "import sys, python_env\nprint('openenv' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    for name in python_env.__all__:
        assert getattr(python_env, name) is not None
