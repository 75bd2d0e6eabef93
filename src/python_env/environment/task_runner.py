"""The task runner: runs a task's test suites in the sandbox and grades what comes back.

The orchestration between the sandbox (which runs code) and ``python_env.grading`` (pure scoring).

What the reference fix and the original code do (``Baselines``) is computed once per task content
and process, and cached (the most recent ``MAX_TASKS_CACHED`` tasks): it is deterministic, and
caching it keeps a graded step to one sandbox job per suite run (more only after a test that ran
out of CPU time). The key is a digest of the task's code, fix and tests (two tasks sharing an id
never share a report); one session builds a task's baselines while others wait for it. Building
them validates the task, so an unfair task is rejected when an episode starts on it, never
scored (a rejection is remembered for a minute, then checked again: ``baseline_cache``). Every
job starts in a slot its worker verified as pristine after the previous job, so no candidate can
poison the outcomes computed after it.

What the agent sees of a hidden run is a pass/fail per test name and the exit reason: the
candidate's stdout, stderr, messages and CPU time on hidden inputs never leave the server.
At submit, each matched finding's ``suggested_fix`` (at most ``MAX_FIX_CHECKS`` of them, one job
each; after a fix whose run times out the rest are skipped) is put in the program it should
complete (the reference fix with its issue's part undone) and checked on the hidden tests
(``grading.fixes``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from python_env.environment.baseline_cache import BaselineCache
from python_env.environment.baselines import (
    Baselines,
    rule_counts,
    suite_plan,
    try_fix,
)
from python_env.environment.repo_runner import RepoRunner
from python_env.grading.findings import candidate_pairs, score_findings
from python_env.grading.fixes import Check, fits, fix_status
from python_env.grading.performance import perf_score
from python_env.grading.score import combine, component_weights
from python_env.grading.tests import public_report, repair_score, static_verdicts
from python_env.sandbox import Executor, Job
from python_env.sandbox.plans import Plan, drive
from python_env.types import (
    Component,
    Evaluation,
    ExitReason,
    Finding,
    FixStatus,
    Issue,
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
MAX_TASKS_CACHED = 4096  # tasks whose baselines are kept


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
        self.repos = RepoRunner(executor, self.limits)  # repository tasks, on the same sandbox
        self._baselines: BaselineCache[Baselines] = BaselineCache(MAX_TASKS_CACHED)

    def prepare(self, task: Task) -> Baselines:
        """The task's baselines (cached by content); raise ``InvalidTask`` if it is unfair."""
        return self._baselines.get(
            task.digest, task.id, lambda: Baselines.build(self.executor, task, self.limits)
        )

    def ready(self, task: Task) -> bool:
        """Whether the task's baselines are built: then ``tests_plan`` needs no job for them."""
        return self._baselines.ready(task.digest) is not None

    def run_tests(self, task: Task, code: str, suite: Suite = Suite.VISIBLE) -> TestRun:
        """``tests_plan`` run with the executor."""
        return drive(self.tests_plan(task, code, suite), self.executor)

    def tests_plan(self, task: Task, code: str, suite: Suite = Suite.VISIBLE) -> Plan[TestRun]:
        """Run a suite against ``code`` and grade it against the reference fix (the
        baselines built first if they are not, in ``prepare``)."""
        base = self.prepare(task)
        candidate = yield from suite_plan(self.job(task, code, suite))
        report = base.grade(suite, candidate)
        if suite is Suite.HIDDEN and task.has(TaskKind.REPAIR) and base.static_rules:
            counts = rule_counts(code, base.static_rules)
            extra = static_verdicts(report, base.static_rules, counts, base.fix_rule_counts)
            report = report.model_copy(update={"verdicts": report.verdicts + extra})
        score = repair_score(report)
        performance = None
        if task.has(TaskKind.OPTIMIZE):
            passing = report.failed == 0 and candidate.exit_reason is ExitReason.OK
            bench = (yield Job.of(task, None, code, self.limits)) if passing else None
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
            hidden_tests=public_report(run.report) if run else None,
            issues=task.issues,
        )

    def job(self, task: Task, code: str, suite: Suite) -> Job:
        """The sandbox job that runs ``suite`` against ``code``."""
        return Job.of(task, suite, code, self.limits)

    def uncheckable(self, task: Task) -> frozenset[str]:
        """The ids of the task's issues no check can verify a fix for (from its baselines)."""
        checks = self.prepare(task).checks
        return frozenset(i for i, check in checks.items() if check is Check.NONE)

    def _final_review(self, task: Task, findings: Sequence[Finding]) -> ReviewScore:
        base = self.prepare(task)
        pairs = [
            (i, task.issues[j])
            for i, j in candidate_pairs(findings, task.issues)
            if findings[i].suggested_fix and base.checks[task.issues[j].id] is not Check.NONE
        ]
        budget = pairs[:MAX_FIX_CHECKS]
        trials = self._try_fixes(task, findings, budget)
        fixes: dict[tuple[int, str], FixStatus] = {}
        for i, issue in pairs:
            trial = trials.get((i, issue.id))
            if trial is not None:
                check = base.checks[issue.id]
                status = fix_status(check, issue, *trial, base.fix_rule_counts)
            elif (i, issue) in budget and (i, issue.id) in trials:
                status = FixStatus.FAILED  # too large, or on another issue's lines
            else:
                status = FixStatus.SKIPPED
            fixes[(i, issue.id)] = status
        return score_findings(findings, task.issues, fixes, self.uncheckable(task))

    def _try_fixes(
        self, task: Task, findings: Sequence[Finding], pairs: Sequence[tuple[int, Issue]]
    ) -> dict[tuple[int, str], tuple[TestReport, Counter[str]] | None]:
        """Try each (finding, issue) fix, one job each (None: it does not fit or touches another
        issue's lines); a fix whose run times out spends what is left of the budget."""
        base = self.prepare(task)
        trials: dict[tuple[int, str], tuple[TestReport, Counter[str]] | None] = {}
        for i, issue in pairs:
            trial = None
            if fits(findings[i]):
                trial = try_fix(
                    self.executor, task, base, findings[i], issue, self.limits, max_jobs=1
                )
            trials[(i, issue.id)] = trial
            if trial is not None and trial[0].exit_reason is ExitReason.TIMEOUT:
                break
        return trials
