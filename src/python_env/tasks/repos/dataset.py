"""Build the repository-task store of many projects: fetch, build each, write, time the grading.

``build_repos`` fetches each pinned project's sdist (build time only), builds its tasks
(``build.ProjectBuilder``) and writes a ``RepoStore``: the snapshot of every project that gave
tasks, one ``<split>.jsonl.gz`` per split, and ``manifest.json`` with what happened (counts only,
so that the same seed gives the same bytes). A project's split is its own (``Project.split``):
the tasks of a ``test`` project never land in ``train``. Finally every task's hidden suite is
graded once more, one run at a time, to time it as the environment will run it.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from python_env.config import SandboxSettings
from python_env.errors import PythonEnvError
from python_env.sandbox import Executor, Job, make_executor
from python_env.tasks.repo_store import SNAPSHOTS, RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.repos.build import (
    GRADING_LIMITS,
    MAX_MUTANTS,
    Progress,
    ProjectBuild,
    ProjectBuilder,
)
from python_env.tasks.repos.fetch import DEFAULT_INDEX, extract_snapshot, fetch_sdist
from python_env.tasks.repos.projects import Project
from python_env.tasks.workspace import Workspace

GENERATOR_VERSION = "0.4.1"
SPLITS = ("train", "test")
MANIFEST = "manifest.json"
TIME_EVERY = 4  # tasks timed once more after the build, one in this many of each project
_PATH = re.compile(r"/[^\s'\"]+")  # absolute paths in error messages: they name job dirs


def default_dir() -> Path:
    """The package's own store (``tasks/data/repos``), which the environment serves."""
    return Path(str(resources.files("python_env.tasks").joinpath("data", "repos")))


def holds_store(out: Path) -> bool:
    """Whether ``out`` already holds a store's files (a manifest, splits or snapshots)."""
    return (out / MANIFEST).exists() or any(out.glob("*.jsonl.gz")) or (out / SNAPSHOTS).exists()


@dataclass
class RepoBuildResult:
    """A finished build: per project what it gave, the manifest written, how long it took."""

    builds: list[ProjectBuild]
    manifest: dict[str, Any]
    seconds: float
    hidden_ms: list[float] = field(default_factory=list)  # one timed graded run per task

    @property
    def failed(self) -> list[ProjectBuild]:
        """Projects that could not be built, or gave no task."""
        return [b for b in self.builds if b.error or not b.tasks]

    @property
    def tasks(self) -> int:
        """Tasks written, all splits."""
        return sum(len(b.tasks) for b in self.builds)


def build_repos(
    out: Path,
    projects: Sequence[Project],
    seed: int,
    cache: Path,
    *,
    index_url: str = DEFAULT_INDEX,
    max_per_project: int | None = None,
    max_mutants: int = MAX_MUTANTS,
    sandbox: SandboxSettings | None = None,
    executors: tuple[Executor, Executor] | None = None,
    threads: int = 4,
    progress: Callable[[Project], Progress] | None = None,
    update: bool = False,
) -> RepoBuildResult:
    """Build and write the tasks of ``projects``; ``executors`` (the second with another
    string-hash seed) default to two made from ``sandbox``. A project that fails is reported
    in the result (``failed``), never raised; the others are still written. ``update`` keeps
    the other projects of the store already in ``out`` (built with the same settings: see
    ``update_conflict``), so building projects one at a time gives the bytes of one build."""
    conflict = update_conflict(out, seed, max_per_project) if update else ""
    if conflict:
        raise ValueError(conflict)
    started = time.perf_counter()
    with ExitStack() as stack:
        if executors is None:
            settings = sandbox or SandboxSettings()
            other = settings.model_copy(update={"hash_seed": (settings.hash_seed + 1) % 2**32})
            executors = (make_executor(settings), make_executor(other))
            for made in executors:
                stack.callback(made.close)
        builder = ProjectBuilder(executors, seed, threads, max_per_project, max_mutants)
        builds: list[ProjectBuild] = []
        snapshots: dict[str, Workspace] = {}
        for project in projects:
            build, snapshot = _build_one(builder, project, cache, index_url, progress)
            builds.append(build)
            if snapshot is not None and build.tasks:
                snapshots[project.name] = snapshot
        carried = carried_over(out, {p.name for p in projects}) if update else None
        manifest = write_store(out, builds, snapshots, seed, max_per_project, carried)
        hidden_ms = time_hidden_runs(executors[0], builds, snapshots)
    return RepoBuildResult(builds, manifest, time.perf_counter() - started, hidden_ms)


def _build_one(
    builder: ProjectBuilder,
    project: Project,
    cache: Path,
    index_url: str,
    progress: Callable[[Project], Progress] | None,
) -> tuple[ProjectBuild, Workspace | None]:
    try:
        sdist = fetch_sdist(project, cache, index_url=index_url)
        snapshot = Workspace(extract_snapshot(project, sdist))
        build = builder.build(project, snapshot, progress(project) if progress else None)
    except (PythonEnvError, ValueError) as error:  # a bad sdist, a broken sandbox, a big file
        return ProjectBuild(project, error=f"{type(error).__name__}: {error}"), None
    build.baseline["snapshot_files"] = len(snapshot)
    return build, snapshot


@dataclass
class Carried:
    """What an update keeps of the store it writes into: the other projects' tasks, their
    manifest entries (their snapshots stay where they are)."""

    tasks: list[RepoTask] = field(default_factory=list)
    projects: dict[str, Any] = field(default_factory=dict)


def update_conflict(out: Path, seed: int, max_per_project: int | None) -> str:
    """Why the store in ``out`` cannot be updated by a build with these settings ("" if it
    can, or holds no store): its tasks must come from the same seed and cap. An older
    generator's projects may stay (each manifest entry names the generator that built it), so
    a corpus moves to a new generator one project at a time."""
    path = out / MANIFEST
    if not path.exists():
        return ""
    old = json.loads(path.read_text(encoding="utf-8"))
    mine = {"seed": seed, "max_per_project": max_per_project}
    differ = [f"{k} {old.get(k)!r} (this build: {v!r})" for k, v in mine.items() if old.get(k) != v]
    return f"{out} was built with {', '.join(differ)}" if differ else ""


def carried_over(out: Path, names: Collection[str]) -> Carried:
    """The store in ``out`` without the projects ``names`` (whose snapshots are removed)."""
    path = out / MANIFEST
    if not path.exists():
        return Carried()
    manifest = json.loads(path.read_text(encoding="utf-8"))
    old = manifest["projects"]
    for entry in old.values():  # stores written before entries named their generator
        entry.setdefault("generator_version", manifest["generator_version"])
    for name in set(names) & set(old):
        (out / SNAPSHOTS / f"{name}-{old[name]['version']}.json.gz").unlink(missing_ok=True)
    store = RepoStore(out)
    tasks = [t for split in store.splits() for t in store.tasks(split)]
    return Carried(
        [t for t in tasks if t.project.name not in names],
        {n: entry for n, entry in old.items() if n not in names},
    )


def merge_stores(out: Path, sources: Sequence[Path]) -> dict[str, Any]:
    """Write into ``out`` the projects of the stores ``sources`` (built apart: in parallel
    processes, on other machines), keeping its other projects; the bytes are those of one build
    of them all. Every store must have the seed and cap of the first; a project may come from
    one source only. Returns the manifest written (ValueError on a conflict)."""
    if any(s.resolve() == out.resolve() for s in sources):
        raise ValueError(f"{out} is one of the stores to merge into it")
    manifests = [json.loads((s / MANIFEST).read_text(encoding="utf-8")) for s in sources]
    seed, cap = manifests[0]["seed"], manifests[0]["max_per_project"]
    owner: dict[str, Path] = {}
    for source, manifest in zip(sources, manifests, strict=True):
        conflict = update_conflict(source, seed, cap) or update_conflict(out, seed, cap)
        if conflict:
            raise ValueError(conflict)
        for name in manifest["projects"]:
            if name in owner:
                raise ValueError(f"project {name} is in both {owner[name]} and {source}")
            owner[name] = source
    carried = carried_over(out, set(owner))
    (out / SNAPSHOTS).mkdir(parents=True, exist_ok=True)
    for source in sources:
        other = carried_over(source, ())  # its projects, with their generator versions
        carried.projects.update(other.projects)
        carried.tasks += other.tasks
        for name, entry in other.projects.items():
            snapshot = f"{name}-{entry['version']}.json.gz"
            shutil.copyfile(source / SNAPSHOTS / snapshot, out / SNAPSHOTS / snapshot)
    return write_store(out, [], {}, seed, cap, carried)


def write_store(
    out: Path,
    builds: Sequence[ProjectBuild],
    snapshots: dict[str, Workspace],
    seed: int,
    max_per_project: int | None,
    carried: Carried | None = None,
) -> dict[str, Any]:
    """Write the snapshots, the splits and the manifest, replacing any earlier store's files,
    or with ``carried`` (an update) only those of the projects built."""
    old_snapshots = [] if carried else list((out / SNAPSHOTS).glob("*.json.gz"))
    for old in [*out.glob("*.jsonl.gz"), *old_snapshots]:
        old.unlink()  # a project that gives no task now must not keep its old snapshot
    store = RepoStore(out)
    for build in builds:
        if build.project.name in snapshots:
            store.write_snapshot(build.project.ref, snapshots[build.project.name])
    by_split: dict[str, list[RepoTask]] = {split: [] for split in SPLITS}
    for task in [*(carried.tasks if carried else ()), *(t for b in builds for t in b.tasks)]:
        by_split[task.info.split].append(task)
    for split, tasks in by_split.items():
        store.write_tasks(split, tasks)
    manifest = _manifest(builds, by_split, seed, max_per_project, carried)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def _manifest(
    builds: Sequence[ProjectBuild],
    by_split: dict[str, list[RepoTask]],
    seed: int,
    max_per_project: int | None,
    carried: Carried | None,
) -> dict[str, Any]:
    names = {split: {t.project.name for t in tasks} for split, tasks in by_split.items()}
    if names["train"] & names["test"]:  # a project's split is its own: never both
        raise AssertionError(f"projects in both splits: {sorted(names['train'] & names['test'])}")
    projects = dict(carried.projects) if carried else {}
    for build in builds:
        p = build.project
        baseline = dict(build.baseline)
        problems = baseline.pop("modules_without_tests", {})
        assert isinstance(problems, dict)
        baseline["modules_without_tests"] = {
            path: _PATH.sub("<path>", str(why)) for path, why in problems.items()
        }
        projects[p.name] = {
            "generator_version": GENERATOR_VERSION,
            "version": p.version,
            "licence": p.licence,
            "split": p.split,
            "baseline": baseline,
            "mutants": dict(sorted(build.mutants.items())),
            "coverage": dict(sorted(build.coverage.items())),
            "pull_requests": dict(sorted(build.pull_requests.items())),
            "injectors": {n: dict(sorted(c.items())) for n, c in sorted(build.injectors.items())},
            "tasks": len(build.tasks),
            "error": _PATH.sub("<path>", build.error),
        }
    command = f"python-env generate --repos --seed {seed}"
    if max_per_project is not None:
        command += f" --max-per-project {max_per_project}"
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "max_per_project": max_per_project,
        "command": command,
        "projects": projects,
        "splits": {split: summarise(tasks) for split, tasks in by_split.items()},
        "injectors": {
            name: dict(sorted(counts.items()))
            for name, counts in sorted(_injectors(projects.values()).items())
        },
        "total_tasks": sum(len(t) for t in by_split.values()),
    }


def _injectors(projects: Iterable[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Outcomes per injector over the projects' manifest entries."""
    total: dict[str, Counter[str]] = {}
    for entry in projects:
        for name, counts in entry.get("injectors", {}).items():
            total.setdefault(name, Counter()).update(counts)
    return total


def summarise(tasks: Sequence[RepoTask]) -> dict[str, Any]:
    """Counts of one split: by project, setting (repository, pull_request, and clean pull
    requests apart), kinds, category of the planted issues (pull-request tasks do not disclose
    theirs), difficulty, injector (issue id)."""
    keys = ("project", "setting", "kinds", "category", "difficulty", "injector")
    counts: dict[str, Counter[str]] = {k: Counter() for k in keys}
    for task in tasks:
        counts["project"][task.project.name] += 1
        clean = task.pull_request is not None and not task.issues
        counts["setting"][f"{task.info.setting}{' (clean)' if clean else ''}"] += 1
        counts["kinds"]["+".join(task.info.kinds)] += 1
        counts["category"].update(str(i.category) for i in task.issues)
        counts["difficulty"][str(task.info.difficulty)] += 1
        counts["injector"].update(i.id.rsplit("-", 1)[0].replace("-", "_") for i in task.issues)
    summary: dict[str, Any] = {k: dict(sorted(v.items())) for k, v in counts.items()}
    summary["tasks"] = len(tasks)
    return summary


def time_hidden_runs(
    executor: Executor, builds: Sequence[ProjectBuild], snapshots: dict[str, Workspace]
) -> list[float]:
    """Grade the reference tree of every ``TIME_EVERY``-th task of each project on its hidden
    tests, one run at a time, and return the wall times (ms) as the caller sees them; each
    build's ``hidden_ms`` is set to its own."""
    times: list[float] = []
    for build in builds:
        build.hidden_ms = []
        snapshot = snapshots.get(build.project.name)
        if snapshot is None:
            continue
        for task in build.tasks[::TIME_EVERY]:
            job = Job.of_repo(task, snapshot, task.reference_tree(snapshot), task.hidden_tests,
                              GRADING_LIMITS)  # fmt: skip
            started = time.perf_counter()
            executor.run(job)
            build.hidden_ms.append((time.perf_counter() - started) * 1000)
        times += build.hidden_ms
    return times


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (0.0 for none)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1])
