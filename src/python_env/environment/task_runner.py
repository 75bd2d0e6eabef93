"""The task runner: runs a task's test suites in the sandbox and grades what comes back.

The orchestration between the sandbox (which runs code) and ``python_env.grading`` (pure scoring).

The reference fix's and the original code's outcomes are computed once per task content and
process, and cached: they are deterministic, and caching them keeps a graded step to one sandbox
job. The key is a digest of the task's code, fix and tests (two tasks sharing an id never share a
report); a reference run that did not finish cleanly raises and is never cached. Every job starts
in a slot its worker verified as pristine after the previous job (a worker that cannot restore
its slot is retired), so no candidate can poison the outcomes computed after it.

What the agent sees of a hidden run is a pass/fail per test name and the exit reason: the
candidate's stdout, stderr, messages and CPU time on hidden inputs never leave the server.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from python_env.errors import SandboxError
from python_env.grading.findings import score_findings
from python_env.grading.performance import perf_score
from python_env.grading.score import combine, component_weights
from python_env.grading.tests import grade_suite, repair_score
from python_env.sandbox import Executor, Job
from python_env.types import (
    Component,
    Evaluation,
    ExecReport,
    ExitReason,
    Finding,
    Limits,
    PerfScore,
    ReviewScore,
    Suite,
    Task,
    TaskKind,
    TestReport,
    TestScore,
)


class Baseline(StrEnum):
    """The code whose outcomes a candidate's are compared with."""

    REFERENCE = "reference"  # the fix: the outcomes a passing test must reproduce
    ORIGINAL = "original"  # the code as given: splits fail-to-pass from pass-to-pass


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
        self._cache: dict[tuple[str, Suite, Baseline], ExecReport] = {}

    def review(self, task: Task, findings: Sequence[Finding]) -> ReviewScore:
        """Findings against the task's answer key."""
        return score_findings(findings, task.issues)

    def run_tests(self, task: Task, code: str, suite: Suite = Suite.VISIBLE) -> TestRun:
        """Run a suite against ``code`` and grade it against the reference fix."""
        reference = self.known_report(task, suite, Baseline.REFERENCE)
        original = self.known_report(task, suite, Baseline.ORIGINAL)
        candidate = self.executor.run(self.job(task, code, suite))
        report = grade_suite(suite, candidate, reference, original)
        score = repair_score(report)
        performance = None
        if task.has(TaskKind.OPTIMIZE):
            performance = perf_score(
                baseline_cost=_cost(original, task),
                reference_cost=_cost(reference, task),
                candidate_cost=candidate.cost,
                tests_pass=report.failed == 0 and candidate.exit_reason is ExitReason.OK,
                tampered=candidate.cost_tampered,
            )
        return TestRun(report=report, score=score, performance=performance)

    def evaluate(self, task: Task, code: str, findings: Sequence[Finding]) -> Evaluation:
        """The final evaluation: hidden tests, findings against the answer key, speed-up."""
        weights = component_weights(task)
        components: dict[str, float] = {}
        review = self.review(task, findings) if Component.REVIEW in weights else None
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
        """The sandbox job that runs ``suite`` (and the benchmark, if any) against ``code``."""
        tests = task.hidden_tests if suite is Suite.HIDDEN else task.visible_tests
        return Job(solution=code, tests=tests, benchmark=task.benchmark, limits=self.limits)

    def known_report(self, task: Task, suite: Suite, which: Baseline) -> ExecReport:
        """Outcomes of the reference fix or the original code on a suite (cached)."""
        key = (task.digest, suite, which)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        code = task.fix if which is Baseline.REFERENCE else task.code
        report = self.executor.run(self.job(task, code, suite))
        if which is Baseline.REFERENCE and (
            report.exit_reason is not ExitReason.OK or report.error
        ):
            raise SandboxError(
                f"reference fix of {task.id} did not run cleanly ({report.exit_reason.value})"
            )
        with self._lock:
            self._cache[key] = report
        return report


def _public(hidden: TestReport) -> TestReport:
    """A hidden run as the agent may see it: verdicts by name, nothing the candidate printed."""
    verdicts = tuple(v.model_copy(update={"message": ""}) for v in hidden.verdicts)
    return TestReport(suite=hidden.suite, exit_reason=hidden.exit_reason, verdicts=verdicts)


def _cost(report: ExecReport, task: Task) -> int:
    if report.cost is None:
        raise SandboxError(f"benchmark of {task.id} produced no cost")
    return report.cost
