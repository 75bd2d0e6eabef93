"""The ``python-env`` command line: ``serve`` (more commands register in ``COMMANDS``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from python_env.errors import PythonEnvError


def _serve(args: argparse.Namespace) -> int:
    from python_env.server.app import main as serve

    serve(host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python-env", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the environment server (HTTP + WebSocket)")
    serve.add_argument("--host", default=None, help="bind address (default: $HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: $PORT or 8000)")
    serve.set_defaults(handler=_serve)
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
