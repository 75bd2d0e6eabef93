"""Runs tasks' tests through the sandbox and feeds the outcomes to the pure grading functions.

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

from python_env.errors import SandboxError
from python_env.grading.findings import score_findings
from python_env.grading.performance import perf_score
from python_env.grading.score import combine
from python_env.grading.tests import grade_suite, repair_score
from python_env.sandbox import Executor, Job
from python_env.types import (
    Evaluation,
    ExecReport,
    ExitReason,
    Finding,
    PerfScore,
    ReviewScore,
    Task,
    TaskKind,
    TestReport,
    TestScore,
)

VISIBLE = "visible"
HIDDEN = "hidden"


@dataclass(frozen=True)
class TestRun:
    """A graded run of one test suite (plus the benchmark for optimize tasks)."""

    __test__ = False

    report: TestReport
    score: TestScore
    performance: PerfScore | None


def score_weights(task: Task) -> dict[str, float]:
    """Equal weight for each kind the task asks for (review needs an answer key to count)."""
    weights: dict[str, float] = {}
    if task.has(TaskKind.REVIEW) and task.issues:
        weights["review"] = 1.0
    if task.has(TaskKind.REPAIR):
        weights["tests"] = 1.0
    if task.has(TaskKind.OPTIMIZE):
        weights["performance"] = 1.0
    return weights


class Grader:
    """Grades code and findings for tasks; thread-safe, shared by every session of a process."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], ExecReport] = {}  # (task digest, suite, which)

    def review(self, task: Task, findings: Sequence[Finding]) -> ReviewScore:
        return score_findings(findings, task.issues)

    def run_tests(self, task: Task, code: str, suite: str = VISIBLE) -> TestRun:
        """Run a suite against ``code`` and grade it against the reference fix."""
        reference = self.known_report(task, suite, "reference")
        original = self.known_report(task, suite, "original")
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
        weights = score_weights(task)
        components: dict[str, float] = {}
        review = self.review(task, findings) if "review" in weights else None
        if review is not None:
            components["review"] = review.f1
        run = None
        if "tests" in weights or "performance" in weights:
            run = self.run_tests(task, code, HIDDEN)
            if "tests" in weights:
                components["tests"] = run.score.score
            if run.performance is not None:
                components["performance"] = run.performance.score
        return combine(
            components,
            weights,
            review=review,
            tests=run.score if run else None,
            performance=run.performance if run else None,
            hidden_tests=_public(run.report) if run else None,
            issues=task.issues,
        )

    def job(self, task: Task, code: str, suite: str) -> Job:
        """The sandbox job that runs ``suite`` (and the benchmark, if any) against ``code``."""
        tests = task.hidden_tests if suite == HIDDEN else task.visible_tests
        return Job(solution=code, tests=tests, benchmark=task.benchmark)

    def known_report(self, task: Task, suite: str, which: str) -> ExecReport:
        """Outcomes of the ``reference`` fix or the ``original`` code on a suite (cached)."""
        key = (task.digest(), suite, which)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        code = task.fix if which == "reference" else task.code
        report = self.executor.run(self.job(task, code, suite))
        if which == "reference" and (report.exit_reason is not ExitReason.OK or report.error):
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
