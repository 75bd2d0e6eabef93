"""pytest-style against return-style graded runs of the same tests, in one run.

    .venv/bin/python benchmarks/bench_pytest_style.py [--task ID] [--runs N]

The same task's hidden tests (zero-argument functions, which pytest runs too) are graded once
as a return-style job (the harness calls them) and once as a pytest-style job (the worker's
prepared pytest session collects and runs them), next to the fork+exit floor (an empty job).
Prints median/p95 ms per graded run and graded runs per second with 16 concurrent callers.
Target: pytest-style within 2x of return-style.
"""

from __future__ import annotations

import argparse

from bench_sandbox import graded, latency, throughput

from python_env.sandbox import ForkServerExecutor, Job
from python_env.tasks.catalog import default_catalog
from python_env.types import Suite, TestStyle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="invoice-half-up-rounding")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    task = default_catalog(("curated",)).get(args.task)
    pytest_task = task.model_copy(update={"test_style": TestStyle.PYTEST})
    executor = ForkServerExecutor(pool_size=args.workers)
    try:
        floor = Job(solution="", tests="")
        probe = executor.run(Job.of(pytest_task, Suite.HIDDEN, task.fix, floor.limits))
        assert probe.exit_reason.value == "ok" and probe.outcomes, probe.error
        steps = {
            "fork+exit floor": lambda: executor.run(floor),
            "return-style graded": graded(executor, task),
            "pytest-style graded": graded(executor, pytest_task),
        }
        print(f"task {task.id}, {len(probe.outcomes)} hidden tests, tier {executor.tier}")
        medians = {}
        for name, step in steps.items():
            median, p95 = latency(step, args.runs)
            rate = throughput(step, 16, args.runs * 2)
            medians[name] = median
            print(f"{name:22s} median {median:6.2f} ms  p95 {p95:6.2f} ms  {rate:6.0f} runs/s @16")
        ratio = medians["pytest-style graded"] / medians["return-style graded"]
        print(f"pytest-style / return-style: {ratio:.2f}x (target <= 2x)")
    finally:
        executor.close()


if __name__ == "__main__":
    main()
