"""``python-env generate --repos``: build repository tasks from the pinned open-source projects.

Each project's sdist is fetched from PyPI (build time only; cached under ``--cache`` and checked
against its pinned sha256), its suite is run in the sandbox, bugs are injected into its modules
and kept when at least two of its tests catch them. The same seed gives the same bytes. The
exit status is 1 when a project could not be built or gave no task (the others are written).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from python_env.cli.help import at_least, did_you_mean

_SINGLE_FILE_ONLY = ("count", "max_sources", "ray", "workers")
_REPOS_ONLY = ("projects", "max_per_project", "cache", "index", "update", "merge")
_BUILD_ONLY = ("projects", "max_per_project", "cache", "index")  # not with --merge
_CORPORA = "codeio,codeio-hq,humaneval"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``generate --repos``."""
    group = parser.add_argument_group("repository tasks")
    add = group.add_argument
    add(
        "--repos",
        action="store_true",
        help="build repository tasks from the pinned projects instead of single-file tasks",
    )
    add("--projects", default=None, metavar="NAME,...", help="only these projects (default: all)")
    add(
        "--max-per-project",
        type=at_least(1),
        default=None,
        metavar="N",
        help="stop a project after N tasks (default: judge every sampled mutant)",
    )
    add(
        "--update",
        action="store_true",
        default=None,
        help="replace only the --projects' tasks in the store already there, keeping the other "
        "projects' (it must have been built with the same seed and --max-per-project)",
    )
    add(
        "--merge",
        default=None,
        metavar="DIR,...",
        help="build nothing: write the projects of these stores (built apart, e.g. in parallel "
        "with --out each) into --out, as one build of them all would",
    )
    add(
        "--cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="sdist cache (default: python_env-sdist-cache in the temporary directory)",
    )
    add(
        "--index",
        default=None,
        metavar="URL",
        help="PyPI-compatible index to fetch sdists from (default: https://pypi.org)",
    )


def misused(args: argparse.Namespace) -> str:
    """Why the options do not go together ("" when they do)."""
    if args.repos:
        given = [name for name in _SINGLE_FILE_ONLY if getattr(args, name) is not None]
        if args.corpora != _CORPORA:
            given.append("corpora")
        if given:
            names = ", ".join("--" + n.replace("_", "-") for n in given)
            return f"{names}: single-file generation only, not with --repos"
        building = [n for n in _BUILD_ONLY if getattr(args, n) is not None] if args.merge else []
        if building:
            return f"--{building[0].replace('_', '-')}: builds, but --merge builds nothing"
        return ""
    given = [name for name in _REPOS_ONLY if getattr(args, name) is not None]
    if given:
        return f"{', '.join('--' + n.replace('_', '-') for n in given)}: only with --repos"
    return ""


def _merge(out: Path, sources: list[Path]) -> int:
    from python_env.tasks.repos.dataset import MANIFEST, merge_stores

    missing = [str(s) for s in sources if not (s / MANIFEST).exists()]
    if missing:
        print(f"python-env: error: not a repository-task store: {missing[0]}", file=sys.stderr)
        return 2
    try:
        manifest = merge_stores(out, sources)
    except ValueError as error:
        print(f"python-env: error: cannot merge: {error}", file=sys.stderr)
        return 2
    print(f"wrote {manifest['total_tasks']} tasks of {len(manifest['projects'])} projects to {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Build the store, print what each project gave; 1 if any project failed."""
    from tqdm import tqdm

    from python_env.config import Settings
    from python_env.tasks.repos.dataset import (
        build_repos,
        default_dir,
        holds_store,
        percentile,
        update_conflict,
    )
    from python_env.tasks.repos.fetch import DEFAULT_INDEX
    from python_env.tasks.repos.projects import PROJECTS, Project

    if args.out is None and not args.into_package:
        print("python-env: error: say where to write: --out DIR, or --into-package to rebuild "
              "the package's repository tasks (tasks/data/repos)", file=sys.stderr)  # fmt: skip
        return 2
    names = [p.name for p in PROJECTS]
    wanted = [n for n in (args.projects or "").split(",") if n] or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        hints = "".join(did_you_mean(n, names) for n in unknown[:1])
        print(f"python-env: error: unknown project {unknown[0]!r}{hints}; choose from "
              f"{', '.join(names)}", file=sys.stderr)  # fmt: skip
        return 2
    out: Path = args.out or default_dir()
    if holds_store(out) and not (args.force or args.update):
        print(f"python-env: error: {out} already holds repository tasks; pass --force to "
              "replace them, --update to replace only the --projects' ones, or --out "
              "elsewhere", file=sys.stderr)  # fmt: skip
        return 2
    conflict = update_conflict(out, args.seed, args.max_per_project) if args.update else ""
    if conflict:
        print(f"python-env: error: cannot --update: {conflict}; rebuild it whole with --force",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.merge:
        return _merge(out, [Path(d) for d in args.merge.split(",") if d])
    chosen = [p for p in PROJECTS if p.name in wanted]
    bar: Any = tqdm(total=0, unit="job", disable=args.no_progress, file=sys.stderr,
                    dynamic_ncols=True)  # fmt: skip

    def progress(project: Project) -> Any:
        def update(stage: str, done: int, total: int, tasks: int) -> None:
            bar.set_description(f"{project.name}: {stage}", refresh=False)
            if bar.total != total:
                bar.reset(total=total)
            bar.set_postfix(tasks=tasks, refresh=False)
            bar.update(done - bar.n)

        return update

    try:
        result = build_repos(
            out, chosen, args.seed,
            args.cache or Path(tempfile.gettempdir()) / "python_env-sdist-cache",
            index_url=args.index or DEFAULT_INDEX, max_per_project=args.max_per_project,
            sandbox=Settings.from_env().sandbox, progress=progress, update=bool(args.update),
        )  # fmt: skip
    finally:
        bar.close()
    print(f"{'project':<16} {'split':<5} {'tasks':>5} {'mutants':>7} {'seconds':>7}  note")
    for build in result.builds:
        tried = build.tried
        note = build.error or ("no mutant was caught by two tests" if not build.tasks else "")
        print(f"{build.project.name:<16} {build.project.split:<5} {len(build.tasks):>5} "
              f"{tried:>7} {build.seconds:>7.1f}  {note}")  # fmt: skip
    minutes = result.seconds / 60
    print(f"wrote {result.tasks} tasks to {out} in {minutes:.1f} min "
          f"({result.tasks / minutes if minutes else 0.0:.1f} tasks/min); graded hidden run: "
          f"median {percentile(result.hidden_ms, 0.5):.0f} ms, "
          f"p95 {percentile(result.hidden_ms, 0.95):.0f} ms")  # fmt: skip
    if result.failed:
        failed = ", ".join(b.project.name for b in result.failed)
        print(f"python-env generate: failed: {failed}", file=sys.stderr)
        return 1
    return 0
