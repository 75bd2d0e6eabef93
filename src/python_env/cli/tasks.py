"""``python-env tasks``: list the tasks of a split (as a Markdown table with ``--markdown``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from python_env.cli.help import did_you_mean, plain


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "tasks", help="list the tasks of a split", description=plain(__doc__)
    )
    parser.add_argument("--split", default="curated", help="split to list (default: curated)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.tasks.catalog import default_catalog

    catalog = default_catalog()
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
