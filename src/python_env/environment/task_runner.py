"""The task runner: runs a task's test suites in the sandbox and grades what comes back.

The orchestration between the sandbox (which runs code) and ``python_env.grading`` (pure scoring).

What the reference fix and the original code do (``Baselines``) is computed once per task content
and process, and cached: it is deterministic, and caching it keeps a graded step to one sandbox
job. The key is a digest of the task's code, fix and tests (two tasks sharing an id never share a
report). Building the baselines validates the task, so an unfair task is rejected when an episode
starts on it, never scored. Every job starts in a slot its worker verified as pristine after the
previous job, so no candidate can poison the outcomes computed after it.

What the agent sees of a hidden run is a pass/fail per test name and the exit reason: the
candidate's stdout, stderr, messages and CPU time on hidden inputs never leave the server.
At submit, each matched finding's ``suggested_fix`` (at most ``MAX_FIX_CHECKS`` findings) is
applied alone to the original code and checked on the hidden tests (``grading.fixes``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from python_env.environment.baselines import (
    Baselines,
    rule_counts,
    run_benchmark,
    run_suite,
    try_fix,
)
from python_env.errors import InvalidTask
from python_env.grading.findings import candidate_pairs, score_findings
from python_env.grading.fixes import Check, fix_status
from python_env.grading.performance import perf_score
from python_env.grading.score import combine, component_weights
from python_env.grading.tests import grade_suite, repair_score, static_verdicts
from python_env.sandbox import Executor, Job
from python_env.types import (
    Component,
    Evaluation,
    ExitReason,
    Finding,
    FixStatus,
    Limits,
    PerfScore,
    ReviewScore,
    Suite,
    Task,
    TaskKind,
    TestReport,
    TestScore,
)

MAX_FIX_CHECKS = 10  # suggested fixes checked per episode (one sandbox job each)


@dataclass(frozen=True)
class TestRun:
    """A graded run of one test suite (plus the benchmark for optimize tasks)."""

    __test__ = False

    report: TestReport
    score: TestScore
    performance: PerfScore | None


class TaskRunner:
    """Runs and grades tasks' code and findings; thread-safe, shared by every session."""

    def __init__(self, executor: Executor, limits: Limits | None = None) -> None:
        self.executor = executor
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._baselines: dict[str, Baselines | InvalidTask] = {}

    def prepare(self, task: Task) -> Baselines:
        """The task's baselines (cached by content); raise ``InvalidTask`` if it is unfair."""
        with self._lock:
            known = self._baselines.get(task.digest)
        if known is None:
            try:
                known = Baselines.build(self.executor, task, self.limits)
            except InvalidTask as exc:
                known = exc
            with self._lock:
                self._baselines[task.digest] = known
        if isinstance(known, InvalidTask):
            raise known
        return known

    def review(self, task: Task, findings: Sequence[Finding]) -> ReviewScore:
        """Findings against the task's answer key, fixes not yet checked (as after a review)."""
        return score_findings(findings, task.issues, uncheckable=self._uncheckable(task))

    def run_tests(self, task: Task, code: str, suite: Suite = Suite.VISIBLE) -> TestRun:
        """Run a suite against ``code`` and grade it against the reference fix."""
        base = self.prepare(task)
        candidate = run_suite(self.executor, self.job(task, code, suite))
        report = grade_suite(suite, candidate, base.reference[suite], base.original[suite])
        if suite is Suite.HIDDEN and task.has(TaskKind.REPAIR) and base.static_rules:
            counts = rule_counts(code, base.static_rules)
            extra = static_verdicts(report, base.static_rules, counts, base.fix_rule_counts)
            report = report.model_copy(update={"verdicts": report.verdicts + extra})
        score = repair_score(report)
        performance = None
        if task.has(TaskKind.OPTIMIZE):
            passing = report.failed == 0 and candidate.exit_reason is ExitReason.OK
            bench = run_benchmark(self.executor, code, task, self.limits) if passing else None
            performance = perf_score(
                baseline_cost=base.original_cost or 0,
                reference_cost=base.reference_cost or 0,
                candidate_cost=bench.cost if bench else None,
                tests_pass=passing,
                tampered=bench.cost_tampered if bench else False,
            )
        return TestRun(report=report, score=score, performance=performance)

    def evaluate(self, task: Task, code: str, findings: Sequence[Finding]) -> Evaluation:
        """The final evaluation: hidden tests, findings (fixes checked) and speed-up."""
        weights = component_weights(task)
        components: dict[str, float] = {}
        review = self._final_review(task, findings) if Component.REVIEW in weights else None
        if review is not None:
            components[Component.REVIEW] = review.f1
        run = None
        if Component.TESTS in weights or Component.PERFORMANCE in weights:
            run = self.run_tests(task, code, Suite.HIDDEN)
            if Component.TESTS in weights:
                components[Component.TESTS] = run.score.score
            if run.performance is not None:
                components[Component.PERFORMANCE] = run.performance.score
        return combine(
            components,
            weights,
            review=review,
            tests=run.score if run else None,
            performance=run.performance if run else None,
            hidden_tests=_public(run.report) if run else None,
            issues=task.issues,
        )

    def job(self, task: Task, code: str, suite: Suite) -> Job:
        """The sandbox job that runs ``suite`` against ``code``."""
        tests = task.hidden_tests if suite is Suite.HIDDEN else task.visible_tests
        return Job(solution=code, tests=tests, limits=self.limits)

    def _uncheckable(self, task: Task) -> frozenset[str]:
        checks = self.prepare(task).checks
        return frozenset(i for i, check in checks.items() if check is Check.NONE)

    def _final_review(self, task: Task, findings: Sequence[Finding]) -> ReviewScore:
        base = self.prepare(task)
        checks = base.checks
        pairs = [
            (i, task.issues[j])
            for i, j in candidate_pairs(findings, task.issues)
            if findings[i].suggested_fix and checks[task.issues[j].id] is not Check.NONE
        ]
        checked = set(sorted({i for i, _ in pairs})[:MAX_FIX_CHECKS])
        fixes: dict[tuple[int, str], FixStatus] = {}
        trials: dict[int, tuple[TestReport, Counter[str]]] = {}
        for i, issue in pairs:
            if i not in checked:
                fixes[(i, issue.id)] = FixStatus.SKIPPED
                continue
            if i not in trials:
                trials[i] = try_fix(self.executor, task, base, findings[i], self.limits)
            report, counts = trials[i]
            fixes[(i, issue.id)] = fix_status(
                checks[issue.id], issue, report, counts, base.code_rule_counts
            )
        return score_findings(findings, task.issues, fixes, self._uncheckable(task))


def _public(hidden: TestReport) -> TestReport:
    """A hidden run as the agent may see it: verdicts by name, nothing the candidate printed."""
    verdicts = tuple(v.model_copy(update={"message": ""}) for v in hidden.verdicts)
    return TestReport(suite=hidden.suite, exit_reason=hidden.exit_reason, verdicts=verdicts)
