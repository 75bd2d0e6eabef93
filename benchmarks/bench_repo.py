"""A graded step on a repository task, next to a single-file task and a container per task.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_repo.py [--store DIR] [--split test]

Prints, in one run: the fork+exit floor; for the median repository task of the split (by hidden
tests, then tree size) and for the median single-file task, the graded hidden run (the candidate's
tests run in the sandbox and compared with the cached reference run), median and p95 ms with one
caller, and graded runs/s with 16 callers; then, when podman and the server image are there, what
SWE-bench-style evaluation pays before a test runs: one container started per task
and pytest imported in it (``podman run --rm IMAGE -c "import pytest"``), median of five.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench_sandbox import fork_floor_ms, latency, throughput, typical_task

from python_env.grading.tests import grade_suite
from python_env.sandbox import ForkServerExecutor, Job
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.types import Limits, Suite

IMAGE = "localhost/python-env:smoke"  # built by scripts/container-smoke.sh (tests/container)
# As scripts/container-smoke.sh runs it: runc (crun fails on cgroup v1 hybrid hosts), explicit
# limits (podman's defaults are refused there), the image's interpreter.
PODMAN_RUN = ["--runtime", "runc", "run", "--rm", "--network", "host", "--no-healthcheck",
              "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
              "--entrypoint", "/opt/venv/bin/python"]  # fmt: skip
DEFAULT_STORE = Path(__file__).parent.parent / "src" / "python_env" / "tasks" / "data" / "repos"


def median_repo_task(store: RepoStore, split: str) -> RepoTask:
    """The split's median task by number of hidden tests, then by the size of its tree."""
    tasks = store.tasks(split)
    if not tasks:
        raise SystemExit(f"no repository tasks in split {split!r} of {store.root}")
    ranked = sorted(tasks, key=lambda t: (len(t.hidden_tests), len(t.start), t.id))
    return ranked[len(ranked) // 2]


def repo_step(
    executor: ForkServerExecutor, store: RepoStore, task: RepoTask
) -> Callable[[], object]:
    """One graded step: the hidden tests on the task's start tree, against the reference run."""
    base = store.snapshot(task.snapshot)
    limits = Limits()
    reference = executor.run(Job.of_repo(task, base, task.reference_tree(base), task.hidden_tests,
                                         limits))  # fmt: skip
    job = Job.of_repo(task, base, task.start_tree(base), task.hidden_tests, limits)
    original = executor.run(job)

    def step() -> object:
        return grade_suite(Suite.HIDDEN, executor.run(job), reference, original)

    return step


def single_step(executor: ForkServerExecutor, split: str) -> Callable[[], object]:
    task = typical_task(None, split)
    job = Job.of(task, Suite.HIDDEN, task.code, Limits())
    reference = executor.run(Job.of(task, Suite.HIDDEN, task.fix, Limits()))
    original = executor.run(job)
    return lambda: grade_suite(Suite.HIDDEN, executor.run(job), reference, original)


def container_start_s(runs: int = 5) -> float | None:
    """Median seconds to start the server image and import pytest in it, what a container per
    task pays before its first test (None: no podman or no image here)."""
    podman = shutil.which("podman")
    if podman is None:
        return None
    if subprocess.run([podman, "image", "exists", IMAGE], capture_output=True).returncode != 0:
        return None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([podman, *PODMAN_RUN, IMAGE, "-c", "import pytest"],
                       capture_output=True, check=True)  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--split", default="test", help="split of the median repository task")
    parser.add_argument("--single-split", default="test", help="split of the single-file task")
    parser.add_argument("--tier", default="auto")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--total", type=int, default=400, help="graded runs for the 16-caller rate")
    args = parser.parse_args()

    store = RepoStore(args.store)
    task = median_repo_task(store, args.split)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"fork+exit of a preloaded interpreter: {fork_floor_ms():.2f} ms median")
    base = store.snapshot(task.snapshot)
    print(f"repository task: {task.id} ({task.project.name} {task.project.version}, "
          f"{len(base)} files, {len(task.hidden_tests)} hidden tests)")  # fmt: skip
    executor = ForkServerExecutor(tier=args.tier)
    try:
        print(f"tier {executor.tier}, {executor.pool_size} workers")
        rows = []
        steps = [("repository task", repo_step(executor, store, task)),
                 ("single-file task", single_step(executor, args.single_split))]  # fmt: skip
        for label, step in steps:
            median, p95 = latency(step, args.runs)
            rows.append((label, median, p95, throughput(step, 16, args.total)))
    finally:
        executor.close()
    print(f"\n{'graded hidden run':24}{'median ms':>11}{'p95 ms':>10}{'runs/s at 16':>14}")
    for label, median, p95, rate in rows:
        print(f"{label:24}{median:11.1f}{p95:10.1f}{rate:14.0f}")
    started = container_start_s()
    if started is None:
        print(f"\ncontainer per task: not measured (podman or {IMAGE} missing)")
    else:
        print(
            f"\ncontainer per task (podman run --rm {IMAGE} python -c pass): {started:.2f} s median"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    verdict = "met" if rows[0][1] <= 150 else "MISSED"
    print(f"target: repository graded step <= 150 ms median: {verdict} ({rows[0][1]:.1f} ms)")


if __name__ == "__main__":
    main()
