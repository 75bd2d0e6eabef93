"""``python-env generate``: rebuild the generated task dataset (same seed, same bytes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from python_env.cli.help import plain


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "generate", help=plain(__doc__).split(":", 1)[-1].strip(), description=plain(__doc__)
    )
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    add = parser.add_argument
    add("--count", type=int, default=None, help="tasks to keep (default: every validated task)")
    add("--out", type=Path, default=None, help="output directory (default: the package data)")
    add("--workers", type=int, default=None, help="worker processes (default: CPU count + 1)")
    add("--corpora", default="codeio,codeio-hq,humaneval", help="comma-separated corpora")
    add("--max-sources", type=int, default=None, help="only the first N sources (quick runs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from python_env.config import Settings
    from python_env.tasks.generate.dataset import default_dir
    from python_env.tasks.generate.runner import generate

    out = args.out or default_dir()
    bar = tqdm(total=args.count, unit="task", disable=args.no_progress, file=sys.stderr,
               dynamic_ncols=True)  # fmt: skip

    def progress(sources: int, tasks: int) -> None:
        bar.set_postfix(sources=sources, refresh=False)
        bar.update(tasks - bar.n)

    try:
        result = generate(
            out, seed=args.seed, count=args.count, workers=args.workers,
            corpora=[c for c in args.corpora.split(",") if c],
            max_sources=args.max_sources, progress=progress, sandbox=Settings.from_env().sandbox,
        )  # fmt: skip
    finally:
        bar.close()
    splits = result.manifest["splits"]
    print(f"wrote {result.tasks} tasks to {out} "
          f"(train {splits['train']['tasks']}, test {splits['test']['tasks']})")  # fmt: skip
    print(f"{result.sources_done} sources in {result.seconds:.1f} s: "
          f"{result.rate:.1f} validated tasks/s")  # fmt: skip
    return 0
