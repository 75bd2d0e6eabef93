"""Import direction: the pure layers never load openenv, FastAPI or the server stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import python_env

PURE = ["python_env.types", "python_env.tasks.catalog", "python_env.sandbox", "python_env.grading",
        "python_env.analysis", "python_env.config", "python_env.errors"]  # fmt: skip
PURE_MODULES = [
    "python_env.grading.findings",
    "python_env.grading.tests",
    "python_env.grading.performance",
    "python_env.grading.score",
    "python_env.tasks.workspace",
    "python_env.tasks.patches",
    "python_env.tasks.search",
    "python_env.tasks.repo_task",
    "python_env.tasks.repo_store",
    "python_env.tasks.repos.projects",
    "python_env.tasks.repos.fetch",
    "python_env.tasks.repos.benign",
    "python_env.tasks.repos.refactors",
    "python_env.tasks.repos.extract",
    "python_env.tasks.repos.pull_requests",
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


def test_client_and_cli_load_without_the_server_stack() -> None:
    """``import python_env.client`` (and the CLI's parser) never load FastAPI or Gradio: OpenEnv's
    client modules come in without its package ``__init__`` (``environment/openenv_light.py``)."""
    cases = {"import python_env.client": "openenv.core.env_client",
             "import python_env.cli as c; c.build_parser()": "python_env.cli.eval"}  # fmt: skip
    for code, expected in cases.items():
        check = f"{code}\nimport sys; print(sorted(sys.modules))"
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", check],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        timed = {line.split("|")[-1].strip() for line in out.stderr.splitlines()}
        loaded = set(ast.literal_eval(out.stdout))
        heavy = sorted(m for m in timed | loaded if m.split(".")[0] in [*HEAVY[1:], "fastmcp"])
        assert heavy == [], f"{code!r} imported {heavy[:5]}"
        assert expected in loaded


def test_client_first_then_server_share_openenv_classes() -> None:
    code = (
        "import python_env.client as c, sys\n"
        "from python_env.server.app import build_app\n"
        "from openenv.core import EnvClient\n"
        "from openenv.core.env_server import Action\n"
        "from python_env.environment.models import CodeReviewAction\n"
        "print(c.PythonEnv.__mro__[1] is EnvClient, issubclass(CodeReviewAction, Action))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def _all_modules() -> list[str]:
    root = Path(python_env.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        if "data" in relative.parts or path.name == "__main__.py":
            continue  # task data, and entry points that run when imported
        names.append(".".join(relative.parts).removesuffix(".__init__"))
    return names


def test_importing_any_module_starts_nothing() -> None:
    """No process, thread, socket or sandbox worker comes from an import (settings are read
    and things are started only where an application builds them)."""
    code = (
        "import importlib, os, sys, threading\n"
        f"for name in {_all_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "import server.app\n"  # the OpenEnv layout shim builds its app on first access only
        "children = open(f'/proc/{os.getpid()}/task/{os.getpid()}/children').read().split()\n"
        "print(threading.active_count(), len(children), 'app' in vars(server.app))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(python_env.__file__).parents[2],
    )  # fmt: skip
    assert out.stdout.split() == ["1", "0", "False"], out.stdout + out.stderr


def _uses_environ(source: str) -> bool:
    """``os.environ`` or ``os.getenv`` in code (not in strings such as task-code templates)."""
    return any(
        isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name) and node.value.id == "os"
        for node in ast.walk(ast.parse(source))
    )  # fmt: skip


def test_only_the_settings_read_the_environment() -> None:
    """``Settings.from_env`` is the one reader; the sandbox child's scrubbed environment (built,
    not read) and the launcher's pass-through for a child server go through config too."""
    root = Path(python_env.__file__).parent
    readers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "data" not in path.parts and _uses_environ(path.read_text())
    )
    assert readers == ["config.py", "sandbox/confine.py"], readers
    confine = (root / "sandbox" / "confine.py").read_text()
    assert "os.environ.get" not in confine and "os.environ[" not in confine


def test_all_names_the_public_api_exactly() -> None:
    """Like httpx's test_exported_members: ``__all__`` lists what the package exposes."""
    public = {name for name in dir(python_env) if not name.startswith("_")}
    assert set(python_env.__all__) - {"__version__"} <= public | set(python_env._LAZY)
    assert set(python_env._LAZY) == set(python_env.__all__) - {"__version__"}
    for name in python_env.__all__:
        value = getattr(python_env, name)
        assert getattr(value, "__module__", "python_env").startswith("python_env"), name


def test_every_syntax_tree_is_built_under_the_one_lock() -> None:
    """CPython 3.11 counts a tree's depth process-wide: two threads building trees at once fail
    now and then (``python_env/syntax.py``; a task's validation at start-up did). Only
    ``syntax.py`` and the test compiler (which takes the same lock) call ``ast.parse``."""
    package = Path(python_env.__file__).parent
    allowed = {package / "syntax.py", package / "sandbox" / "checks.py"}
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path in allowed or (package / "tasks" / "data") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            func = getattr(node, "func", None)
            called = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            if called and (func.value.id, func.attr) == ("ast", "parse"):  # type: ignore[union-attr]
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == [], offenders
