"""``python-env serve``: run the environment server (HTTP + WebSocket)."""

from __future__ import annotations

import argparse
from typing import Any

from python_env.cli.help import plain


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve", help=plain(__doc__).split(":", 1)[-1].strip(), description=plain(__doc__)
    )
    parser.add_argument("--host", default=None, help="bind address (default: $HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: $PORT or 8000)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.server.app import main

    main(host=args.host, port=args.port)
    return 0
