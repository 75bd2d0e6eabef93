"""Sandbox benchmark: the warm fork-server executor against a fresh interpreter per job.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_sandbox.py [--tier auto] [--workers N]

Prints, in one run, for both executors: median/p95 ms per isolated job for a trivial snippet and
for a typical task's graded hidden test suite (run + comparison with the reference), and graded
runs per second with 1, 2 and 16 concurrent callers. Targets (2 cores, every layer on): a typical
graded run ≤ 5 ms median, and ≥ 300 graded runs/s with 16 concurrent sessions.

Then the warm executor's trivial job after a pause (``--pauses``, ms), as an agent's steps come,
against fork+exit after the same pause: back to back, a job also pays for the clean-up, the next
fork and the warm-up of the jobs before it, and after a long pause this host wakes slowly, the
floor too.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from python_env.grading.tests import grade_suite
from python_env.sandbox import Executor, ForkServerExecutor, Job, SubprocessExecutor
from python_env.sandbox.preload import PRELOAD
from python_env.sandbox.worker import probes
from python_env.tasks.catalog import default_catalog
from python_env.types import Limits, Suite, Task

TRIVIAL = Job(solution="x = 1\n", tests="from solution import x\ndef test_x():\n    return x\n")
CALLERS = (1, 2, 16)


def graded(executor: Executor, task: Task) -> Callable[[], object]:
    """One graded step: run the hidden tests on the candidate and compare with the reference."""
    job = Job.of(task, Suite.HIDDEN, task.code, Limits())
    reference = executor.run(Job.of(task, Suite.HIDDEN, task.fix, Limits()))
    original = executor.run(job)

    def step() -> object:
        return grade_suite("hidden", executor.run(job), reference, original)

    return step


def latency(step: Callable[[], object], runs: int, pause_s: float = 0.0) -> tuple[float, float]:
    """Median and p95 ms of ``step``, each sample taken ``pause_s`` after the one before."""
    for _ in range(min(20, runs)):  # warm-up
        step()
    samples = []
    for _ in range(runs):
        if pause_s:  # back to back otherwise: not even a sleep(0) between the samples
            time.sleep(pause_s)
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def throughput(step: Callable[[], object], callers: int, total: int) -> float:
    """Graded runs per second with ``callers`` threads sharing ``total`` runs."""
    remaining = [total]
    lock = threading.Lock()

    def caller() -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            step()

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started)


def cpu_used(executor: Executor) -> float:
    """CPU seconds used so far by this process, its reaped children and the live worker trees.

    A worker's tree is read from /proc: each process's own time plus that of the children it
    reaped (the jobs). bwrap does not pass its children's time on, so reaping is not enough.
    """
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    roots = executor.worker_pids() if isinstance(executor, ForkServerExecutor) else []
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in [p for root in roots for p in (root, *probes.descendants(root))]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
    return total


def cpu_per_run(factory: Callable[[], Executor], task: Task, total: int) -> float:
    """CPU ms per graded run over all processes involved: caller, workers, job children.

    Unlike wall-clock figures this barely moves when other programs load the machine. The cost
    of preparing the two reference runs is measured separately and taken out.
    """

    def lifetime(runs: int) -> float:
        executor = factory()
        try:
            started = cpu_used(executor)
            throughput(graded(executor, task), 16, runs)
            return cpu_used(executor) - started
        finally:
            executor.close()

    return (lifetime(total) - lifetime(0)) / total * 1000


@dataclass(frozen=True)
class Figures:
    trivial: tuple[float, float]  # median, p95 ms
    graded: tuple[float, float]
    rate: dict[int, float]  # concurrent callers -> graded runs/s
    cpu_ms: float  # CPU per graded run, all processes
    paced: dict[int, float]  # pause ms -> the trivial job's median ms after it


def measure(
    factory: Callable[[], Executor], task: Task, runs: int, total: int, pauses: list[int]
) -> Figures:
    executor = factory()
    try:
        step = graded(executor, task)

        def trivial_job() -> object:
            return executor.run(TRIVIAL)

        trivial = latency(trivial_job, runs)
        graded_ms = latency(step, runs)
        rate = {n: throughput(step, n, total) for n in CALLERS}
        paced = {ms: latency(trivial_job, paced_runs(ms, runs), ms / 1000)[0] for ms in pauses}
    finally:
        executor.close()
    return Figures(trivial, graded_ms, rate, cpu_per_run(factory, task, total), paced)


def paced_runs(pause_ms: int, runs: int) -> int:
    """Samples after a pause: ``runs``, but about 5 s of pausing at most (20 at least)."""
    return max(20, min(runs, 5000 // max(pause_ms, 1)))


FLOOR = """
import os, statistics, time
for name in {preload!r}:
    try:
        __import__(name)
    except ImportError:
        pass
times = []
for _ in range({runs}):
    if {pause_s}:
        time.sleep({pause_s})
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    times.append((time.perf_counter() - started) * 1000)
print(statistics.median(times))
"""


def fork_floor_ms(pause_s: float = 0.0, runs: int = 300) -> float:
    """Median fork + exit + wait of an interpreter preloaded like a worker, each ``pause_s``
    after the one before: the host's floor for any fork-based design (about 0.9-1.0 ms back to
    back on a quiet 2-core host of this kind)."""
    code = FLOOR.format(preload=PRELOAD, pause_s=pause_s, runs=runs)
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)
    return float(out.stdout.strip() or "nan")


def typical_task(task_id: str | None, split: str) -> Task:
    """The split's median task without a benchmark: by number of hidden tests, then by size."""
    catalog = default_catalog()
    if task_id:
        return catalog.get(task_id)
    tasks = [catalog.at(split, i) for i in range(catalog.size(split))]
    ranked = sorted(
        (t for t in tasks if not t.benchmark),
        key=lambda t: (t.hidden_tests.count("\ndef test"), len(t.code) + len(t.hidden_tests), t.id),
    )
    return ranked[len(ranked) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="auto", help="auto, bwrap, native or fallback")
    parser.add_argument("--workers", type=int, default=0, help="pool size (0: 2 x cores)")
    parser.add_argument("--task", default=None, help="task id (default: the split's median task)")
    parser.add_argument("--split", default="curated", help="the typical task's split")
    parser.add_argument("--runs", type=int, default=300, help="samples per latency figure")
    parser.add_argument("--total", type=int, default=1500, help="graded runs per rate figure")
    parser.add_argument("--baseline-runs", type=int, default=60)
    parser.add_argument("--pauses", default="5,100", help="ms between trivial jobs, e.g. 5,100")
    args = parser.parse_args()
    pauses = [int(ms) for ms in args.pauses.split(",") if ms.strip()]
    if any(ms <= 0 for ms in pauses):
        parser.error("--pauses: milliseconds above 0 (back to back is always measured)")

    task = typical_task(args.task, args.split)
    tests = task.hidden_tests.count("\ndef test")
    print(f"host: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"host speed: fork+exit of a preloaded interpreter {fork_floor_ms():.2f} ms median")
    print(f"typical task: {task.id} ({tests} hidden tests; the median {args.split} suite)")
    probe = ForkServerExecutor(tier=args.tier, pool_size=args.workers)
    info = probe.describe()
    probe.close()
    print(f"forkserver: tier {info['tier']}, {info['pool_size']} workers")
    print(f"  layers:  {', '.join(info['layers'])}")
    print(f"  missing: {', '.join(info['missing']) or 'none'}")
    fast = measure(
        lambda: ForkServerExecutor(tier=info["tier"], pool_size=args.workers),
        task,
        args.runs,
        args.total,
        pauses,
    )
    floors = {0: fork_floor_ms()}
    floors.update((ms, fork_floor_ms(ms / 1000, paced_runs(ms, args.runs))) for ms in pauses)
    baseline_total = max(args.baseline_runs, 2 * max(CALLERS))
    slow = measure(SubprocessExecutor, task, args.baseline_runs, baseline_total, [])
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    report(fast, slow)
    report_paced(fast, floors)


def report(fast: Figures, slow: Figures) -> None:
    print(f"\n{'':40}{'forkserver':>22}{'subprocess -I -S':>22}")
    for label, fast_ms, slow_ms in [
        ("trivial snippet, median / p95 ms", fast.trivial, slow.trivial),
        ("typical graded run, median / p95 ms", fast.graded, slow.graded),
    ]:
        cells = [f"{ms[0]:.2f} / {ms[1]:.2f}" for ms in (fast_ms, slow_ms)]
        print(f"{label:40}{cells[0]:>22}{cells[1]:>22}")
    for n in CALLERS:
        label = f"graded runs/s, {n} concurrent callers"
        print(f"{label:40}{fast.rate[n]:>22.0f}{slow.rate[n]:>22.0f}")
    cores = os.cpu_count() or 1
    print(f"{'CPU ms per graded run, all processes':40}{fast.cpu_ms:>22.2f}{slow.cpu_ms:>22.2f}")
    label = f"capacity at 100% of {cores} cores, runs/s"
    capacity = [cores * 1000 / f.cpu_ms for f in (fast, slow)]
    print(f"{label:40}{capacity[0]:>22.0f}{capacity[1]:>22.0f}")
    median, rate = fast.graded[0], fast.rate[16]
    print()
    print(f"target: typical graded run <= 5 ms median: {'met' if median <= 5 else 'MISSED'} "
          f"({median:.2f} ms)")  # fmt: skip
    print(f"target: >= 300 graded runs/s with 16 sessions: {'met' if rate >= 300 else 'MISSED'} "
          f"({rate:.0f}/s)")  # fmt: skip


def report_paced(fast: Figures, floors: dict[int, float]) -> None:
    """The trivial job after each pause, against fork+exit after the same pause."""
    print("\nforkserver's trivial job after a pause, against fork+exit after the same pause")
    print(f"{'pause':>8}{'fork+exit ms':>15}{'trivial job ms':>17}{'ratio':>9}")
    for ms, job_ms in [(0, fast.trivial[0]), *fast.paced.items()]:
        label = f"{ms} ms" if ms else "none"
        ratio = job_ms / floors[ms]
        print(f"{label:>8}{floors[ms]:>15.2f}{job_ms:>17.2f}{ratio:>8.2f}x")
    print("target (issue 18): trivial isolated job <= 1.5x fork+exit")


if __name__ == "__main__":
    main()
