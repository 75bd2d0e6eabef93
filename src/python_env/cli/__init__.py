"""The ``python-env`` command line. Each command is a module of this package with a ``register``
function; heavy imports happen inside the command handlers, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from python_env.cli.help import did_you_mean
from python_env.errors import PythonEnvError

COMMANDS = ("serve", "tasks", "eval", "report", "rollouts", "generate", "validate", "drain")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python-env", description="Python code review and repair environment."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"python_env.cli.{name}").register(sub)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with mistakes reported by the command they belong to and the closest
    valid spelling suggested."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        parser.error(
            f"unknown command {argv[0]!r}{did_you_mean(argv[0], COMMANDS)}; "
            f"choose from {', '.join(COMMANDS)}"
        )
    args, extras = parser.parse_known_args(argv)
    if extras:
        command = _subparser(parser, args.command)
        options = [o for a in command._actions for o in a.option_strings]
        hints = [
            f"{e.split('=')[0]}{hint}"
            for e in extras
            if e.startswith("-") and (hint := did_you_mean(e.split("=")[0], options))
        ]
        command.error(
            f"unrecognized arguments: {' '.join(extras)}" + "".join(f"; {h}" for h in hints)
        )
    return args


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except PythonEnvError as exc:
        print(f"python-env: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
