"""Quality sample of the generated dataset, through the real task runner and sandbox.

For N random tasks (seeded): the reference fix passes every visible and hidden test; behavioural
tasks (a ``bug`` issue) fail at least one hidden test, and repair tasks at least one visible test;
other tasks pass every test; optimize tasks cost >= 3x more than their fix; every answer-key span
lies on lines that differ between code and fix (or borders a deleted line); static answer keys are
confirmed by the analyzer. Usage: python benchmarks/generated_quality.py [N] [SEED] [DATASET_DIR]
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from python_env.analysis import run_ruff
from python_env.config import Settings
from python_env.environment.task_runner import TaskRunner
from python_env.sandbox import make_executor
from python_env.tasks.generate.dataset import SPLITS, default_dir, read_records, split_file, to_task
from python_env.tasks.generate.injectors.base import hunks
from python_env.types import Category, Suite, Task, TaskKind


def changed_lines(task: Task) -> set[int]:
    """Lines of ``task.code`` that differ from the fix, plus the lines around deletions."""
    lines: set[int] = set()
    n = len(task.code.splitlines())
    for _, _, j1, j2 in hunks(task.fix, task.code):
        lines.update(range(j1 + 1, j2 + 1) if j2 > j1 else {max(1, j1), min(n, j1 + 1)})
    return lines


def check(grader: TaskRunner, task: Task, meta: dict[str, object]) -> list[str]:
    problems: list[str] = []
    changed = changed_lines(task)
    for issue in task.issues:
        if not changed & set(range(issue.start_line, issue.end_line + 1)):
            problems.append(f"span {issue.id} {issue.start_line}-{issue.end_line} not on a change")
    ref_h = grader.run_tests(task, task.fix, Suite.HIDDEN)
    ref_v = grader.run_tests(task, task.fix, Suite.VISIBLE)
    if ref_h.report.failed or ref_v.report.failed:
        problems.append("reference fails its own tests")
    code_h = grader.run_tests(task, task.code, Suite.HIDDEN)
    code_v = grader.run_tests(task, task.code, Suite.VISIBLE)
    behavioural = any(i.category is Category.BUG for i in task.issues)
    if behavioural and code_h.report.failed == 0:
        problems.append("bug task: code passes every hidden test")
    if task.has(TaskKind.REPAIR) and code_v.report.failed == 0:
        problems.append("repair task: code passes every visible test")
    if not behavioural and (code_h.report.failed or code_v.report.failed):
        problems.append("non-bug task: code fails a test")
    if task.has(TaskKind.OPTIMIZE):
        perf = code_h.performance
        if perf is None or perf.baseline_cost < 3 * perf.reference_cost:
            problems.append("optimize task: cost ratio below 3")
    families = {inj["injector"]: inj["family"] for inj in meta["injections"]}  # type: ignore[union-attr]
    static = [i for i in task.issues if i.rule_id and i.category is not Category.PERFORMANCE]
    if static:
        hits = run_ruff(task.code, select=sorted({i.rule_id for i in static}))
        fix_hits = run_ruff(task.fix, select=sorted({i.rule_id for i in static}))
        for issue in static:
            on = [h for h in hits if h.rule_id == issue.rule_id
                  and issue.start_line <= h.start_line <= issue.end_line]  # fmt: skip
            if not on or sum(h.rule_id == issue.rule_id for h in fix_hits) >= sum(
                h.rule_id == issue.rule_id for h in hits
            ):
                problems.append(f"analyzer does not confirm {issue.id} ({issue.rule_id})")
    del families
    return problems


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    root = Path(sys.argv[3]) if len(sys.argv) > 3 else default_dir()
    records = [r for s in SPLITS for r in read_records(split_file(root, s))]
    sample = random.Random(seed).sample(records, min(n, len(records)))
    grader = TaskRunner(make_executor(Settings.from_env().sandbox))
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda r: (r, check(grader, to_task(r), r["meta"])), sample))
    failures = [(r["info"]["id"], p) for r, p in results if p]
    kinds = Counter("+".join(r["info"]["kinds"]) for r, _ in results)
    summary = {
        "sampled": len(results),
        "passed": len(results) - len(failures),
        "failed": len(failures),
        "kinds": dict(kinds),
        "bug_tasks": sum("bug" in r["info"]["categories"] for r, _ in results),
        "seconds": round(time.perf_counter() - started, 1),
        "failures": failures[:20],
    }
    print(json.dumps(summary, indent=2))
    grader.executor.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
