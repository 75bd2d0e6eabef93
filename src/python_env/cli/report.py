"""``python-env report a.json b.json``: eval reports side by side (and a plot comparing them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from python_env.cli.help import command, refuse_overwrite


def register(sub: Any) -> None:
    parser = command(sub, "report", "eval reports side by side", __doc__)
    parser.add_argument("reports", nargs="+", type=Path, help="JSON reports from python-env eval")
    parser.add_argument(
        "--plot", type=Path, default=None,
        help="also write a PNG of the reports side by side (mean score ± 95%% CI per kind and "
        "category)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from python_env.agents.report import load_report, plot_scores, side_by_side

    reports = []
    for path in args.reports:
        try:
            reports.append(load_report(path))
        except (OSError, ValueError) as exc:
            print(f"python-env: error: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    if args.plot:
        refuse_overwrite(args, args.plot)
    print(side_by_side(reports, args.reports))
    if args.plot:
        print(f"plot: {plot_scores(reports, args.plot, paths=args.reports)}")
    return 0
