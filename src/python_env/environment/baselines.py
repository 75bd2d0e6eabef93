"""Running suites with a CPU budget per test, and the baselines every grade compares against.

A suite runs as one sandbox job; when a test runs out of CPU time the job ends in it, and the
suite goes on in a fresh job that skips the tests already settled, so a slow test times out
alone (at most ``MAX_SUITE_JOBS`` jobs per run, then the rest count as not run). A benchmark
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
from collections.abc import Sequence
from dataclasses import dataclass

from python_env.analysis.linters import known_rules, ruff_batch
from python_env.errors import InvalidTask
from python_env.grading.fixes import Check, check_for, fits, fix_status
from python_env.grading.reference import Counterfactual, counterfactual, reference_finding
from python_env.grading.tests import failed_in_reference, grade_suite, graded_outcomes
from python_env.sandbox import Executor, Job, checks
from python_env.sandbox.harness import normalise
from python_env.sandbox.plans import Plan, drive
from python_env.types import (
    ExecReport,
    ExitReason,
    Finding,
    FixStatus,
    Issue,
    Limits,
    Suite,
    Task,
    TaskKind,
    TestOutcome,
    TestReport,
    TestStatus,
    TestStyle,
)

MAX_SUITE_JOBS = 3  # jobs per suite run: the first, then one after each of 2 slow tests
MIN_SPEEDUP = 3.0  # an optimize task's fix must be this much cheaper in the cost measure
TIMEOUT_VALUE = "CPUTimeExceeded"


def run_suite(executor: Executor, job: Job, max_jobs: int = MAX_SUITE_JOBS) -> ExecReport:
    """``suite_plan`` run with ``executor``."""
    return drive(suite_plan(job, max_jobs), executor)


def suite_plan(job: Job, max_jobs: int = MAX_SUITE_JOBS) -> Plan[ExecReport]:
    """Run ``job``'s tests with a CPU budget each (the job's limit): a test that runs out of CPU
    time ends its job, and the next job goes on after it (at most ``max_jobs`` jobs; later tests
    count as not run). A job that breaks the protocol makes the whole run a protocol error."""
    report = yield dataclasses.replace(job, benchmark="")
    runs, outcomes, slow = [report], list(report.outcomes), []
    while _ran_out_of_cpu(report, job) and len(runs) < max_jobs:
        slow.append(report.unfinished)
        skip = (*job.skip, *(o.name for o in outcomes), *slow)
        report = yield dataclasses.replace(job, benchmark="", skip=skip)
        runs.append(report)
        outcomes.extend(report.outcomes)
    if _ran_out_of_cpu(report, job):
        slow.append(report.unfinished)
    if not slow:
        return report
    message = f"ran out of its CPU budget ({job.limits.cpu_seconds:g} s)"
    outcomes += [TestOutcome(name=n, status=TestStatus.RAISED, value=TIMEOUT_VALUE, message=message)
                 for n in slow]  # fmt: skip
    forged = any(r.exit_reason is ExitReason.PROTOCOL_ERROR for r in runs)
    return report.model_copy(
        update={
            "exit_reason": ExitReason.PROTOCOL_ERROR if forged else ExitReason.TIMEOUT,
            "outcomes": tuple(outcomes),
            "unfinished": "",
            "stdout": "".join(r.stdout for r in runs)[-job.limits.output_bytes :],
            "stderr": "".join(r.stderr for r in runs)[-job.limits.output_bytes :],
            "error": next((r.error for r in runs if r.error), ""),
            "cpu_ms": sum(r.cpu_ms for r in runs),
            "wall_ms": sum(r.wall_ms for r in runs),
            "peak_memory_kb": max(r.peak_memory_kb for r in runs),
            "test_cpu_ms": {name: ms for r in runs for name, ms in r.test_cpu_ms.items()},
        }
    )


def reference_failures(task: Task, suite: Suite, report: ExecReport) -> list[str]:
    """Tests of ``suite`` the reference run ``report`` fails as pytest would see them (its
    asserts against literals checked against the literals, which stay on the server)."""
    tests = task.hidden_tests if suite is Suite.HIDDEN else task.visible_tests
    expected = {line: normalise(v) for line, v in checks.expected_values(tests).items()}
    return failed_in_reference(report, expected)


def _ran_out_of_cpu(report: ExecReport, job: Job) -> bool:
    """The job ended inside a test because that test used up the CPU budget (not the wall
    clock: a test that sleeps does not get more jobs)."""
    spent = report.cpu_ms >= 0.9 * job.limits.cpu_seconds * 1000
    return report.exit_reason is ExitReason.TIMEOUT and bool(report.unfinished) and spent


def run_benchmark(executor: Executor, code: str, task: Task, limits: Limits) -> ExecReport:
    """The benchmark of ``task`` against ``code``, alone in its job."""
    return executor.run(Job.of(task, None, code, limits))


def rule_counts(code: str, rules: frozenset[str]) -> Counter[str]:
    """How often each of ``rules`` fires on ``code``, ``# noqa`` comments ignored (code that
    does not parse counts as -1: it can never be shown free of a rule)."""
    return rule_counts_of([code], rules)[0]


def rule_counts_of(codes: Sequence[str], rules: frozenset[str]) -> list[Counter[str]]:
    """``rule_counts`` of many texts, in one ruff process."""
    if not rules:
        return [Counter() for _ in codes]
    counts = []
    for hits in ruff_batch(codes, sorted(rules), ignore_noqa=True):
        if any(rule == "E999" for rule, _, _ in hits):
            counts.append(Counter(dict.fromkeys(rules, -1)))
        else:
            counts.append(Counter(rule for rule, _, _ in hits if rule in rules))
    return counts


def _undone_is_visible(
    executor: Executor,
    task: Task,
    base: Baselines,
    undone: str,
    undone_counts: Counter[str],
    issue: Issue,
    kind: Check,
    limits: Limits,
) -> bool:
    """Whether the check sees the issue in the counterfactual: a hidden test fails there, or
    the issue's rule fires there more often than on the fix."""
    if kind is Check.STATIC:
        rule = issue.rule_id
        return undone_counts[rule] > base.fix_rule_counts[rule]
    if undone == task.code:  # the issue's part is the whole fix: the original's outcomes
        return base.test_fail_to_pass() > 0
    outcome = run_suite(executor, Job.of(task, Suite.HIDDEN, undone, limits))
    return base.grade(Suite.HIDDEN, outcome).failed > 0


def _baseline_run(
    executor: Executor, task: Task, suite: Suite, code: str, limits: Limits
) -> ExecReport:
    """A baseline's run of a suite, as kept: outcomes, exit and costs (not its output)."""
    report = run_suite(executor, Job.of(task, suite, code, limits))
    return report.model_copy(update={"stdout": "", "stderr": ""})


def try_fix(
    executor: Executor,
    task: Task,
    base: Baselines,
    finding: Finding,
    issue: Issue,
    limits: Limits,
    max_jobs: int = MAX_SUITE_JOBS,
) -> tuple[TestReport, Counter[str]] | None:
    """A finding's fix for ``issue``, in the program it should complete (the reference fix with
    the issue's part undone): its graded hidden run and rule counts. None when the fix's lines
    belong to another issue's change."""
    patched = base.counterfactuals[issue.id].apply(finding)
    if patched is None:
        return None
    if patched == task.fix:  # the reference itself: its outcomes are known
        return base.grade(Suite.HIDDEN, base.reference[Suite.HIDDEN]), base.fix_rule_counts
    outcome = run_suite(executor, Job.of(task, Suite.HIDDEN, patched, limits), max_jobs)
    return base.grade(Suite.HIDDEN, outcome), rule_counts(patched, base.static_rules)


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
    counterfactuals: dict[str, Counterfactual] = dataclasses.field(default_factory=dict)

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
        reference, original = {}, {}
        for suite in Suite:
            reference[suite] = _baseline_run(executor, task, suite, task.fix, limits)
            original[suite] = _baseline_run(executor, task, suite, task.code, limits)
            ref = reference[suite]
            failing = (
                reference_failures(task, suite, ref) if task.test_style is TestStyle.PYTEST else []
            )
            if ref.exit_reason is not ExitReason.OK or ref.error or failing:
                why = ref.error or (failing[0] if failing else ref.exit_reason.value)
                raise InvalidTask(
                    f"{task.id}: the reference fix does not pass its {suite} tests ({why})",
                    task_id=task.id,
                )
            if suite is Suite.HIDDEN and not graded_outcomes(ref):
                raise InvalidTask(f"{task.id}: the hidden suite has no test", task_id=task.id)
        rules = known_rules(sorted({i.rule_id for i in task.issues if i.rule_id}))
        fix_counts, code_counts = rule_counts_of([task.fix, task.code], rules)
        made = cls(
            reference=reference,
            original=original,
            reference_cost=None,
            original_cost=None,
            fix_rule_counts=fix_counts,
            code_rule_counts=code_counts,
        )
        if task.has(TaskKind.OPTIMIZE):
            made = made._with_costs(executor, task, limits)
        made = made._with_checks(executor, task, limits)
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
        return self.grade(Suite.HIDDEN, self.original[Suite.HIDDEN]).failed

    def grade(self, suite: Suite, outcome: ExecReport) -> TestReport:
        """A run of ``suite`` graded against these baselines (``grading.tests.grade_suite``)."""
        return grade_suite(suite, outcome, self.reference[suite], self.original[suite])

    def _with_checks(self, executor: Executor, task: Task, limits: Limits) -> Baselines:
        """How a fix for each issue is checked: the check its kind calls for, if undoing the
        issue's part of the reference fix is visible to it and the part itself passes it (else
        nothing checks it: ``Check.NONE``)."""
        has_f2p = self.test_fail_to_pass() > 0
        made = dataclasses.replace(
            self, counterfactuals={i.id: counterfactual(task, i) for i in task.issues}
        )
        undone = [made.counterfactuals[i.id].code for i in task.issues]
        counts = rule_counts_of(undone, self.static_rules)
        checks = {}
        for k, issue in enumerate(task.issues):
            kind = check_for(issue, self.static_rules, has_f2p)
            own = reference_finding(task, issue)
            if kind is not Check.NONE and own.suggested_fix and fits(own):
                seen = _undone_is_visible(
                    executor, task, made, undone[k], counts[k], issue, kind, limits
                )
                trial = try_fix(executor, task, made, own, issue, limits) if seen else None
                verified = trial and fix_status(kind, issue, *trial, self.fix_rule_counts)
                if verified is not FixStatus.VERIFIED:
                    kind = Check.NONE
            else:
                kind = Check.NONE
            checks[issue.id] = kind
        return dataclasses.replace(made, checks=checks)

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
