"""``python-env tasks``: list the tasks of a split (as a Markdown table with ``--markdown``)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("tasks", help=__doc__)
    parser.add_argument("--split", default="curated", help="split to list (default: curated)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.tasks.catalog import default_catalog

    infos = default_catalog().infos(args.split)
    if args.markdown:
        print("| id | title | kinds | difficulty | categories | issues |")
        print("| --- | --- | --- | --- | --- | --- |")
    for t in infos:
        cells = [t.id, t.title, ", ".join(t.kinds), t.difficulty.value,
                 ", ".join(t.categories), str(t.num_issues)]  # fmt: skip
        print(f"| {' | '.join(cells)} |" if args.markdown else "  ".join(cells))
    return 0
