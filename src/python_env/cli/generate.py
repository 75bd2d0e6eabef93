"""``python-env generate``: build a generated task dataset (same seed, same bytes).

``--out DIR`` writes it to DIR, which ``python-env serve --tasks DIR`` serves as the splits
DIR-train and DIR-test; only ``--into-package`` rebuilds the dataset shipped in the package.

``--repos`` builds repository tasks instead: bugs injected into pinned open-source projects and
kept when the project's own tests catch them (``generate_repos``); ``--into-package`` then
rebuilds the package's ``tasks/data/repos``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from python_env.cli import generate_repos
from python_env.cli.help import at_least, plain


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "generate",
        help=plain(__doc__).split(":", 1)[-1].split("\n", 1)[0].strip(),
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    add = parser.add_argument
    count = at_least(1)
    add("--count", type=count, default=None, help="tasks to keep (default: every validated task)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None, help="output directory")
    where.add_argument(
        "--into-package", action="store_true", help="replace the dataset shipped in the package"
    )
    add("--workers", type=count, default=None, help="worker processes (default: CPU count + 1)")
    add("--corpora", default="codeio,codeio-hq,humaneval", help="comma-separated corpora")
    add("--max-sources", type=count, default=None, help="only the first N sources (quick runs)")
    add("--force", action="store_true", help="replace a dataset already in the output directory")
    add("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
        help="validate the sources on Ray actors, same bytes (extra: ray): alone, on a local Ray "
        "instance of --workers CPUs; auto or HOST:PORT: on that cluster, an actor per CPU (at "
        "most --workers); ray://HOST:PORT through Ray Client (needs ray[client])",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    generate_repos.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    problem = generate_repos.misused(args)
    if problem:
        print(f"python-env: error: {problem}", file=sys.stderr)
        return 2
    if args.repos:
        return generate_repos.run(args)
    from tqdm import tqdm

    from python_env.config import Settings
    from python_env.tasks.generate.dataset import MANIFEST, default_dir
    from python_env.tasks.generate.runner import generate

    if args.out is None and not args.into_package:
        print(
            "python-env: error: say where to write: --out DIR (python-env serve --tasks DIR "
            "serves it), or --into-package to rebuild the shipped dataset",
            file=sys.stderr,
        )
        return 2
    out = args.out or default_dir()
    if (out / MANIFEST).exists() and not args.force:
        print(f"python-env: error: {out} already holds a dataset; pass --force to replace it, "
              "or --out elsewhere", file=sys.stderr)  # fmt: skip
        return 2
    bars: list[Any] = []  # drawn with the first result, not before the corpora have loaded

    def progress(sources: int, tasks: int) -> None:
        if not bars:
            bars.append(tqdm(total=args.count, unit="task", disable=args.no_progress,
                             file=sys.stderr, dynamic_ncols=True))  # fmt: skip
        bars[0].set_postfix(sources=sources, refresh=False)
        bars[0].update(tasks - bars[0].n)

    if args.ray is not None:
        from functools import partial

        from python_env.tasks.generate.ray_runner import generate_ray

        generate = partial(generate_ray, address=args.ray)
    try:
        result = generate(
            out, seed=args.seed, count=args.count, workers=args.workers,
            corpora=[c for c in args.corpora.split(",") if c],
            max_sources=args.max_sources, progress=progress, sandbox=Settings.from_env().sandbox,
        )  # fmt: skip
    finally:
        for bar in bars:
            bar.close()
    splits = result.manifest["splits"]
    print(f"wrote {result.tasks} tasks to {out} "
          f"(train {splits['train']['tasks']}, test {splits['test']['tasks']})")  # fmt: skip
    print(f"{result.sources_done} sources in {result.seconds:.1f} s: "
          f"{result.rate:.1f} validated tasks/s")  # fmt: skip
    return 0
