"""``python-env serve``: run the environment server (HTTP + WebSocket).

Each ``--tasks [NAME=]DIR`` (added to ``TASKS_DIRS``) is served as a split of its own, named
after the directory unless NAME is given. Its tasks are checked at start-up (the task format,
then ``python-env tasks validate``'s rules in the sandbox); a task with a problem is reported
and left out, or with ``--invalid-tasks refuse`` the server does not start.
"""

from __future__ import annotations

import argparse
from typing import Any

from python_env.cli.help import Formatter, at_least, choice, plain

POLICIES = ("skip", "refuse")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help=plain(__doc__).split(":", 1)[-1].split("\n", 1)[0].strip(),
        description=plain(__doc__),
        formatter_class=Formatter,
    )
    parser.add_argument("--host", default=None, help="bind address (default: $HOST or 127.0.0.1)")
    parser.add_argument(
        "--port", type=at_least(1, 65535), default=None, help="port (default: $PORT or 8000)"
    )
    parser.add_argument(
        "--tasks",
        action="append",
        default=[],
        metavar="[NAME=]DIR",
        help="serve the task directory DIR as the split NAME (default: DIR's name); repeatable",
    )
    parser.add_argument(
        "--invalid-tasks",
        type=choice(POLICIES, "policy"),
        default="skip",
        metavar="{skip,refuse}",
        help="a task that fails its start-up check: skip it (reported on stderr), or refuse "
        "to start (default: skip)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.config import Settings
    from python_env.errors import ConfigError
    from python_env.server.app import main

    settings = Settings.from_env()
    if args.tasks:
        if settings.server.workers > 1:
            raise ConfigError(
                "--tasks needs WORKERS=1: several workers each build their app from the "
                "environment; set TASKS_DIRS for them instead"
            )
        settings = settings.with_task_dirs(tuple(args.tasks))
    main(args.host, args.port, settings, refuse_invalid_tasks=args.invalid_tasks == "refuse")
    return 0
