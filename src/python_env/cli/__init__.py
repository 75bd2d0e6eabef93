"""The ``python-env`` command line. Each command is a module of this package with a ``register``
function; heavy imports happen inside the command handlers, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from python_env.errors import PythonEnvError

COMMANDS = ("serve", "tasks", "eval", "report", "rollouts", "generate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python-env", description="Python code review and repair environment."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"python_env.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except PythonEnvError as exc:
        print(f"python-env: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
