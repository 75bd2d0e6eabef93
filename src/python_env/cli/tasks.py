"""``python-env tasks``: list the tasks of a split, export tasks as folders, validate folders.

    python-env tasks [list] [--split S] [--markdown]  the tasks of a split (built-in, TASKS_DIRS)
    python-env tasks export TASK_ID DIR [--force]     a built-in task as the folder DIR/TASK_ID
    python-env tasks export --all [--split S] DIR     every task of a built-in split
    python-env tasks validate DIR [--json]            check the tasks under DIR in the sandbox

Folders are in the task directory format (docs/task-format.md); ``serve --tasks DIR`` serves
them. ``validate`` prints one line per problem (``task: rule: evidence``) and a summary, and
exits 0 only when there is none.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from python_env.cli.help import Formatter, did_you_mean, plain
from python_env.errors import InvalidRequest, TaskNotFound


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "tasks",
        help="list, export and validate tasks",
        description=plain(__doc__),
        formatter_class=Formatter,
    )
    _listing_options(parser)
    parser.set_defaults(handler=run_list)
    actions = parser.add_subparsers(dest="action", metavar="{list,export,validate}")
    listing = actions.add_parser("list", help="the tasks of a split", formatter_class=Formatter)
    _listing_options(listing)
    listing.set_defaults(handler=run_list)

    export = actions.add_parser(
        "export", help="write built-in tasks as task folders", formatter_class=Formatter
    )
    export.add_argument("task_id", nargs="?", metavar="TASK_ID", help="the task to export")
    export.add_argument("dir", type=Path, metavar="DIR", help="write DIR/<task id> (made if new)")
    export.add_argument("--all", action="store_true", help="every task of --split")
    export.add_argument("--split", default=None, help="with --all: the split (default: curated)")
    export.add_argument("--force", action="store_true", help="replace task folders that exist")
    export.set_defaults(handler=run_export)

    validate = actions.add_parser(
        "validate", help="check the tasks under a directory", formatter_class=Formatter
    )
    validate.add_argument("dir", type=Path, metavar="DIR", help="a task folder, or their folder")
    validate.add_argument(
        "--json", action="store_true", help="print the problems as a JSON list on stdout"
    )
    validate.set_defaults(handler=run_validate)


def _listing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", default="curated", help="split to list (default: curated)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")


def run_list(args: argparse.Namespace) -> int:
    from python_env.config import Settings
    from python_env.tasks.catalog import serving_catalog

    catalog, problems = serving_catalog(Settings.from_env().catalog)
    for problem in problems:
        print(f"python-env: left out: {problem.line()}", file=sys.stderr)
    if args.split not in catalog.split_names():
        splits = catalog.split_names()
        print(
            f"python-env: error: unknown split {args.split!r}{did_you_mean(args.split, splits)}; "
            f"choose from {', '.join(splits)}",
            file=sys.stderr,
        )
        return 2
    header = ["id", "title", "kinds", "difficulty", "categories", "issues"]
    rows = [
        [t.id, t.title, ", ".join(t.kinds), t.difficulty.value, ", ".join(t.categories),
         str(t.num_issues)]
        for t in catalog.infos(args.split)
    ]  # fmt: skip
    if args.markdown:
        print(f"| {' | '.join(header)} |\n|{' --- |' * len(header)}")
        for row in rows:
            print(f"| {' | '.join(row)} |")
        return 0
    widths = [min(48, max(len(r[k]) for r in [header, *rows])) for k in range(len(header))]
    for row in [header, *rows]:
        cells = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(row, widths, strict=True)]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    print(f"\n{len(rows)} tasks in split {args.split!r}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from python_env.tasks.catalog import default_catalog
    from python_env.tasks.directory import occupied, write_task_dir
    from python_env.types import Task

    if args.all == bool(args.task_id) or (args.split and not args.all):
        raise InvalidRequest("export a TASK_ID, or --all tasks of a --split", field="task_id")
    catalog = default_catalog()
    if args.all:
        split = args.split or "curated"
        splits = catalog.split_names()
        if split not in splits:
            raise InvalidRequest(
                f"unknown split {split!r}{did_you_mean(split, splits)}; choose from "
                f"{', '.join(splits)}",
                field="split",
            )
        tasks = [catalog.at(split, index) for index in range(catalog.size(split))]
    else:
        try:
            tasks = [catalog.get(args.task_id)]
        except TaskNotFound:
            ids = [i.id for s in catalog.split_names() for i in catalog.infos(s)]
            raise InvalidRequest(
                f"unknown task id {args.task_id!r}{did_you_mean(args.task_id, ids)}; "
                "python-env tasks --split S lists them",
                field="task_id",
            ) from None
    exportable = [t for t in tasks if isinstance(t, Task)]  # a repository task is no folder
    if len(exportable) < len(tasks):
        raise InvalidRequest("repository tasks cannot be exported as task folders", field="task_id")
    taken = [str(args.dir / t.id) for t in tasks if occupied(args.dir / t.id)]
    if taken and not args.force:
        more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
        one = len(taken) == 1
        raise InvalidRequest(
            f"{', '.join(taken[:3])}{more} already exist{'s' if one else ''}; pass --force to "
            f"replace {'it' if one else 'them'}, or export to another DIR",
            field="dir",
        )
    for task in exportable:
        write_task_dir(task, args.dir, force=args.force)
    print(f"wrote {len(tasks)} task folder{'s' if len(tasks) != 1 else ''} to {args.dir}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from python_env.config import Settings
    from python_env.server.task_dirs import check_tasks
    from python_env.tasks.directory import load_task_root

    settings = Settings.from_env()
    root: Path = args.dir
    tasks, problems = load_task_root(root, root.resolve().name)
    checked = len(tasks) + len(problems)  # a format problem is one folder (or record) each
    if tasks:
        problems += check_tasks(tasks, settings.sandbox)
    if args.json:
        print(json.dumps([dataclasses.asdict(p) for p in problems], indent=2))
    else:
        for problem in problems:
            print(problem.line())
    broken = len({p.task for p in problems})
    verdict = f"{len(problems)} problem(s) in {broken} task(s)" if problems else "all valid"
    print(f"{checked} task(s) checked in {root}: {verdict}", file=sys.stderr if args.json else None)
    return 1 if problems else 0
