"""Running suites with a CPU budget per test, and the baselines every grade compares against.

A suite runs as one sandbox job; when a test runs out of CPU time the job ends in it, and the
suite goes on in a fresh job that skips the tests already settled, so a slow test times out
alone (at most ``MAX_TIMEOUTS`` of them per run, then the rest count as not run). A benchmark
always runs in a job of its own.

``Baselines`` are what the reference fix and the original code do on a task: their outcomes on
both suites, their benchmark costs, how often each answer-key rule fires on them, and how a
suggested fix for each issue can be checked. Building
them also validates the task, so a task that cannot be graded fairly is rejected before it is
served (``InvalidTask``): a reference that does not pass cleanly, a repair task with nothing
that fails before the fix, an optimize task whose speed-up the cost measure cannot see.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

from python_env.analysis.linters import known_rules, run_ruff
from python_env.errors import InvalidTask
from python_env.grading.fixes import Check, apply_fix, check_for, fix_status
from python_env.grading.reference import reference_finding
from python_env.grading.tests import grade_suite
from python_env.sandbox import Executor, Job
from python_env.types import (
    ExecReport,
    ExitReason,
    Finding,
    FixStatus,
    Limits,
    Suite,
    Task,
    TaskKind,
    TestOutcome,
    TestReport,
    TestStatus,
)

MAX_TIMEOUTS = 2  # slow tests per suite run that get a job of their own; the rest are not run
MIN_SPEEDUP = 3.0  # an optimize task's fix must be this much cheaper in the cost measure
TIMEOUT_VALUE = "CPUTimeExceeded"


def run_suite(executor: Executor, job: Job) -> ExecReport:
    """Run ``job``'s tests with a CPU budget each (the job's limit): one slow test times out
    alone and the tests after it still run."""
    report = executor.run(dataclasses.replace(job, benchmark=""))
    outcomes = list(report.outcomes)
    runs = [report]
    while report.exit_reason is ExitReason.TIMEOUT and report.unfinished:
        message = f"ran out of its CPU budget ({job.limits.cpu_seconds:g} s)"
        outcomes.append(
            TestOutcome(
                name=report.unfinished,
                status=TestStatus.RAISED,
                value=TIMEOUT_VALUE,
                message=message,
            )
        )
        if len(runs) > MAX_TIMEOUTS:
            break
        skip = (*job.skip, *(o.name for o in outcomes))
        report = executor.run(dataclasses.replace(job, benchmark="", skip=skip))
        outcomes.extend(report.outcomes)
        runs.append(report)
    if len(runs) == 1:
        return report
    timed_out = any(o.value == TIMEOUT_VALUE for o in outcomes if o.status is TestStatus.RAISED)
    return report.model_copy(
        update={
            "exit_reason": ExitReason.TIMEOUT if timed_out else report.exit_reason,
            "outcomes": tuple(outcomes),
            "stdout": "".join(r.stdout for r in runs)[-job.limits.output_bytes :],
            "stderr": "".join(r.stderr for r in runs)[-job.limits.output_bytes :],
            "error": next((r.error for r in runs if r.error), ""),
            "cpu_ms": sum(r.cpu_ms for r in runs),
            "wall_ms": sum(r.wall_ms for r in runs),
            "peak_memory_kb": max(r.peak_memory_kb for r in runs),
        }
    )


def run_benchmark(executor: Executor, code: str, task: Task, limits: Limits) -> ExecReport:
    """The benchmark of ``task`` against ``code``, alone in its job."""
    return executor.run(Job(solution=code, tests="", benchmark=task.benchmark, limits=limits))


def rule_counts(code: str, rules: frozenset[str]) -> Counter[str]:
    """How often each of ``rules`` fires on ``code`` (code that does not parse counts as -1:
    it can never be shown free of a rule)."""
    if not rules:
        return Counter()
    hits = run_ruff(code, select=sorted(rules))
    if any(h.rule_id == "E999" or not h.rule_id for h in hits):
        return Counter(dict.fromkeys(rules, -1))
    return Counter(h.rule_id for h in hits if h.rule_id in rules)


def try_fix(
    executor: Executor, task: Task, base: Baselines, finding: Finding, limits: Limits
) -> tuple[TestReport, Counter[str]]:
    """Apply one finding's fix alone to the original: its graded hidden run, its rule counts."""
    patched = apply_fix(task.code, finding)
    outcome = run_suite(executor, Job(patched, task.hidden_tests, limits=limits))
    hidden = base.reference[Suite.HIDDEN], base.original[Suite.HIDDEN]
    return grade_suite(Suite.HIDDEN, outcome, *hidden), rule_counts(patched, base.static_rules)


@dataclass(frozen=True)
class Baselines:
    """What the reference fix and the original code do on one task (computed once, validated)."""

    reference: dict[Suite, ExecReport]
    original: dict[Suite, ExecReport]
    reference_cost: int | None
    original_cost: int | None
    fix_rule_counts: Counter[str]
    code_rule_counts: Counter[str]
    checks: dict[str, Check] = dataclasses.field(default_factory=dict)

    @property
    def static_rules(self) -> frozenset[str]:
        """Answer-key rules that fire less on the fix than on the original: a repair must
        silence them as the fix does."""
        return frozenset(
            rule
            for rule, count in self.code_rule_counts.items()
            if count > self.fix_rule_counts[rule]
        )

    @classmethod
    def build(cls, executor: Executor, task: Task, limits: Limits) -> Baselines:
        """Run the reference and the original; raise ``InvalidTask`` if the task is unfair."""
        suites = {s: task.hidden_tests if s is Suite.HIDDEN else task.visible_tests for s in Suite}
        reference, original = {}, {}
        for suite, tests in suites.items():
            reference[suite] = run_suite(executor, Job(task.fix, tests, limits=limits))
            original[suite] = run_suite(executor, Job(task.code, tests, limits=limits))
            ref = reference[suite]
            if ref.exit_reason is not ExitReason.OK or ref.error:
                why = ref.error or ref.exit_reason.value
                raise InvalidTask(
                    f"{task.id}: the reference fix does not pass its {suite} tests ({why})",
                    task_id=task.id,
                )
        rules = known_rules(sorted({i.rule_id for i in task.issues if i.rule_id}))
        made = cls(
            reference=reference,
            original=original,
            reference_cost=None,
            original_cost=None,
            fix_rule_counts=rule_counts(task.fix, rules),
            code_rule_counts=rule_counts(task.code, rules),
        )
        if task.has(TaskKind.OPTIMIZE):
            made = made._with_costs(executor, task, limits)
        made = dataclasses.replace(made, checks=made._checks(executor, task, limits))
        if task.has(TaskKind.REPAIR) and not made.fail_to_pass_count():
            raise InvalidTask(
                f"{task.id}: a repair task needs a hidden test that fails before the fix (or an "
                "answer-key rule the fix silences); untouched code would earn the tests component",
                task_id=task.id,
            )
        return made

    def fail_to_pass_count(self) -> int:
        """Hidden tests that fail on the original, plus the rules the fix silences."""
        return self.test_fail_to_pass() + len(self.static_rules)

    def test_fail_to_pass(self) -> int:
        """Hidden tests whose outcome on the original differs from the reference's."""
        original = self.original[Suite.HIDDEN]
        return sum(
            not ((got := original.outcome(o.name)) is not None and got.same_as(o))
            for o in self.reference[Suite.HIDDEN].outcomes
        )

    def _checks(self, executor: Executor, task: Task, limits: Limits) -> dict[str, Check]:
        """How a fix for each issue is checked: the check its kind calls for, if the issue's own
        part of the reference fix passes it (else nothing checks it: ``Check.NONE``)."""
        has_f2p = self.test_fail_to_pass() > 0
        checks = {}
        for issue in task.issues:
            check = check_for(issue, self.static_rules, has_f2p)
            own = reference_finding(task, issue)
            if check is not Check.NONE and own.suggested_fix:
                report, counts = try_fix(executor, task, self, own, limits)
                status = fix_status(check, issue, report, counts, self.code_rule_counts)
                check = check if status is FixStatus.VERIFIED else Check.NONE
            elif not own.suggested_fix:
                check = Check.NONE
            checks[issue.id] = check
        return checks

    def _with_costs(self, executor: Executor, task: Task, limits: Limits) -> Baselines:
        costs = []
        for code, which in ((task.fix, "reference fix"), (task.code, "original code")):
            bench = run_benchmark(executor, code, task, limits)
            if bench.cost is None or bench.exit_reason is not ExitReason.OK:
                raise InvalidTask(
                    f"{task.id}: the benchmark of the {which} did not finish "
                    f"({bench.exit_reason.value}{': ' + bench.error if bench.error else ''})",
                    task_id=task.id,
                )
            costs.append(bench.cost)
        reference_cost, original_cost = costs
        if original_cost < MIN_SPEEDUP * max(1, reference_cost):
            raise InvalidTask(
                f"{task.id}: the cost measure cannot see the speed-up (original {original_cost}, "
                f"fix {reference_cost} line events; needs {MIN_SPEEDUP:g}x): the work is "
                "probably done in C, where the measure does not count",
                task_id=task.id,
            )
        return dataclasses.replace(self, reference_cost=reference_cost, original_cost=original_cost)
