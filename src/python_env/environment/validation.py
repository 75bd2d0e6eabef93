"""Task validation: the rules a task must satisfy to be graded fairly, each broken rule reported
with its evidence (the engine of ``python-env tasks validate``).

The reference fix runs every suite three times: twice on ``executor`` (its outcomes must not
change) and once on ``reseeded``, whose workers hash strings with another seed (they must not
change either: a test whose outcome follows set or dict order fails a correct candidate at
random). The original code runs once, to show the bug; optimize tasks' benchmarks run on both.
Last, ``Baselines.build`` runs as the server would, and what it refuses for a reason no other
rule named is reported as ``servable``. The rules that only read files are in
``validation_static``. A fault of the sandbox or of ruff raises; it is never a task's problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from python_env.analysis.linters import known_rules
from python_env.environment.baselines import (
    MIN_SPEEDUP,
    Baselines,
    reference_failures,
    rule_counts_of,
    run_benchmark,
    run_suite,
)
from python_env.environment.validation_static import (
    clock_problems,
    more,
    problem,
    rule_problems,
    span_problems,
)
from python_env.errors import InvalidTask
from python_env.grading.tests import grade_suite
from python_env.sandbox import Executor, Job
from python_env.types import (
    Category,
    ExecReport,
    ExitReason,
    Limits,
    Suite,
    Task,
    TaskKind,
    TaskProblem,
    TestStatus,
)

RULES: dict[str, str] = {
    "reference-passes": "fix.py runs every visible and hidden test to an outcome: no import "
    "error, crash or timeout, no test that raises or assert that fails",
    "reference-stable": "two runs of fix.py give every test the same outcome (status and value)",
    "deterministic": "fix.py gives every test the same outcome under another PYTHONHASHSEED "
    "(no outcome follows set or dict order)",
    "original-fails": "repair tasks and tasks with a bug issue: code.py fails a hidden test or "
    "fires an answer-key rule more often than fix.py; repair tasks: it also fails a visible test",
    "span-in-file": "every issue span and alternative span lies inside code.py",
    "span-not-blank": "the lines every span points at are not all blank",
    "rule-fires": "an issue's rule_id that ruff knows fires on code.py inside one of the issue's "
    "spans (bandit-only ids are not checked)",
    "no-wall-clock": "tests, conftest and benchmark never read the clock (time.time, "
    "perf_counter, monotonic, datetime.now, date.today, ...)",
    "speed-up": f"optimize tasks: benchmark() finishes on code.py and fix.py and costs at "
    f"least {MIN_SPEEDUP:g}x fewer counted operations on fix.py",
    "servable": "the server accepts the task (Baselines.build raises no InvalidTask for a "
    "reason no other rule reports)",
}

# Rules whose problems make Baselines.build refuse the task too: ``servable`` would repeat them.
EXPLAINS_REFUSAL = frozenset({"reference-passes", "original-fails", "speed-up"})
PARALLEL_TASKS = 4  # tasks validated at once: their jobs and ruff runs overlap
Runs = dict[Suite, ExecReport]


def validate_task(
    task: Task, executor: Executor, reseeded: Executor | None = None, limits: Limits | None = None
) -> list[TaskProblem]:
    """Every rule of ``RULES`` that ``task`` breaks, with evidence, in the order of ``RULES``
    (empty: the task is valid). ``deterministic`` is checked only with a ``reseeded`` executor."""
    limits = limits or Limits()
    reference = _run_suites(executor, task, task.fix, limits)
    failing = _reference_problems(task, reference)
    found = list(failing)
    unstable = _changes(reference, _run_suites(executor, task, task.fix, limits))
    if unstable:
        found.append(_change_problem(task, "reference-stable", unstable, "second run"))
    if reseeded is not None:
        changes = _changes(reference, _run_suites(reseeded, task, task.fix, limits))
        reseeded_only = {test: why for test, why in changes.items() if test not in unstable}
        if reseeded_only:
            found.append(_change_problem(task, "deterministic", reseeded_only, "another hash seed"))
    if not failing:  # what the original fails is only known against a reference that passes
        original = _run_suites(executor, task, task.code, limits)
        found += _original_problems(task, reference, original)
    found += span_problems(task) + rule_problems(task) + clock_problems(task)
    found += _speed_problems(task, executor, limits)
    if not any(p.rule in EXPLAINS_REFUSAL for p in found):
        try:
            Baselines.build(executor, task, limits)
        except InvalidTask as exc:
            found.append(problem(task, "servable", str(exc).removeprefix(f"{task.id}: ")))
    order = list(RULES)
    return sorted(found, key=lambda p: order.index(p.rule))


def validate_tasks(
    tasks: Sequence[Task],
    executor: Executor,
    reseeded: Executor | None = None,
    limits: Limits | None = None,
) -> list[TaskProblem]:
    """``validate_task`` of every task, a few at once; problems in the order of ``tasks``."""
    with ThreadPoolExecutor(max_workers=PARALLEL_TASKS) as pool:
        found = pool.map(lambda task: validate_task(task, executor, reseeded, limits), tasks)
        return [p for problems in found for p in problems]


def _run_suites(executor: Executor, task: Task, code: str, limits: Limits) -> Runs:
    return {suite: run_suite(executor, Job.of(task, suite, code, limits)) for suite in Suite}


def _reference_problems(task: Task, reference: Runs) -> list[TaskProblem]:
    """``reference-passes``: one problem per suite the fix does not run cleanly to the end."""
    found = []
    for suite, report in reference.items():
        # A test that ran out of CPU time raised CPUTimeExceeded (run_suite).
        failed = reference_failures(task, suite, report)
        failed += [
            f"test {o.name} did not run" for o in report.outcomes if o.status is TestStatus.NOT_RUN
        ]
        if report.error:
            evidence = f"{suite} tests: {report.error}"
        elif failed:
            evidence = f"{suite} tests: {failed[0]}{more(len(failed))}"
        elif report.exit_reason is not ExitReason.OK:
            where = f" in {report.unfinished}" if report.unfinished else ""
            evidence = f"{suite} tests: the run ended ({report.exit_reason}){where}"
        else:
            continue
        found.append(problem(task, "reference-passes", evidence))
    return found


def _changes(first: Runs, second: Runs) -> dict[tuple[Suite, str], str]:
    """(suite, test) -> how ``second`` differs, for each test ``first`` ran to an outcome that
    ``second`` does not repeat (compared as the grader compares a candidate's)."""
    changed = {}
    for suite in Suite:
        settled = {o.name for o in first[suite].outcomes if o.status is not TestStatus.NOT_RUN}
        for verdict in grade_suite(suite, second[suite], first[suite], first[suite]).verdicts:
            if verdict.name in settled and not verdict.passed:
                changed[suite, verdict.name] = verdict.message
    return changed


def _change_problem(
    task: Task, rule: str, changes: dict[tuple[Suite, str], str], run: str
) -> TaskProblem:
    (suite, name), how = next(iter(changes.items()))
    return problem(task, rule, f"{suite} {name}, {run}: {how}{more(len(changes))}")


def _original_problems(task: Task, reference: Runs, original: Runs) -> list[TaskProblem]:
    """``original-fails``: the bug of a repair task, or of a task with a bug issue, shows."""
    repair = task.has(TaskKind.REPAIR)
    if not (repair or any(i.category is Category.BUG for i in task.issues)):
        return []
    graded = {s: grade_suite(s, original[s], reference[s], original[s]) for s in Suite}
    rules = known_rules(sorted({i.rule_id for i in task.issues if i.rule_id}))
    fix_counts, code_counts = rule_counts_of([task.fix, task.code], rules)
    silenced = [rule for rule in rules if code_counts[rule] > fix_counts[rule]]
    reasons = []
    hidden, visible = graded[Suite.HIDDEN], graded[Suite.VISIBLE]
    if not hidden.failed and not silenced:
        reasons.append(
            f"code.py passes every hidden test ({len(hidden.verdicts)}) and fires no answer-key "
            "rule more often than fix.py"
        )
    if repair and not visible.failed:
        reasons.append(
            f"code.py passes every visible test ({len(visible.verdicts)}): a repair task must "
            "show its bug there"
        )
    return [problem(task, "original-fails", "; ".join(reasons))] if reasons else []


def _speed_problems(task: Task, executor: Executor, limits: Limits) -> list[TaskProblem]:
    """``speed-up``: an optimize task's benchmark finishes on both and shows the speed-up."""
    if not task.has(TaskKind.OPTIMIZE):
        return []
    costs = []
    for name, source in (("fix.py", task.fix), ("code.py", task.code)):
        bench = run_benchmark(executor, source, task, limits)
        if bench.cost is None or bench.exit_reason is not ExitReason.OK:
            why = bench.error or bench.exit_reason
            return [problem(task, "speed-up", f"benchmark() does not finish on {name} ({why})")]
        costs.append(bench.cost)
    fix, code = costs
    if code >= MIN_SPEEDUP * max(1, fix):
        return []
    evidence = (
        f"benchmark() costs {code} counted operations on code.py, {fix} on fix.py: "
        f"{code / max(1, fix):.1f}x, needs {MIN_SPEEDUP:g}x"
    )
    return [problem(task, "speed-up", evidence)]
