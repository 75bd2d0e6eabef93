"""The repository task runner: runs a project's own tests on a tree in the sandbox and grades them.

What the reference tree (the start with the reference fix) and the start tree itself do on the
visible and the hidden tests (``RepoBaselines``) is computed once per task content and process,
and cached (the most recent ``MAX_REPO_TASKS_CACHED``), as ``baselines`` does for single-file
tasks: a graded step is then one sandbox job per suite run. Building them validates the task
(it fits its snapshot, the reference passes every test it names, a repair task has a hidden
test that fails before the fix), so an unfair task is rejected when an episode starts on it.

A test passes when its outcome equals the reference tree's, and is fail-to-pass when the start
tree's outcome differs (``grading.tests.grade_suite``). The test files always come from the
snapshot (``Job.of_repo``), whatever the candidate's tree holds there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from python_env.environment.baseline_cache import BaselineCache
from python_env.environment.baselines import run_suite
from python_env.errors import InvalidTask
from python_env.grading.findings import review_pull_request, score_findings
from python_env.grading.score import combine, component_weights, is_pull_request
from python_env.grading.tests import (
    failed_in_reference,
    grade_suite,
    graded_outcomes,
    public_report,
    repair_score,
)
from python_env.sandbox import Executor, Job, checks
from python_env.sandbox.harness import normalise
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.workspace import Workspace
from python_env.types import (
    Component,
    Evaluation,
    ExecReport,
    ExitReason,
    Finding,
    Limits,
    ReviewScore,
    Suite,
    TaskKind,
    TestOutcome,
    TestReport,
)

MAX_REPO_TASKS_CACHED = 512  # tasks whose baselines are kept (outcomes only: a few KB each)


@dataclass(frozen=True)
class RepoBaselines:
    """What the reference tree and the start tree do on one repository task (validated)."""

    base: Workspace
    start: Workspace
    reference: dict[Suite, ExecReport]
    original: dict[Suite, ExecReport]

    def grade(
        self, suite: Suite, candidate: ExecReport, select: Collection[str] | None = None
    ) -> TestReport:
        """A run of ``suite`` (of the tests ``select`` only, if given) graded against these."""
        reference = self.reference[suite]
        if select is not None:
            kept = tuple(o for o in reference.outcomes if o.name in select)
            reference = reference.model_copy(update={"outcomes": kept})
        return grade_suite(suite, candidate, reference, self.original[suite])

    @classmethod
    def build(
        cls, executor: Executor, task: RepoTask, base: Workspace, limits: Limits
    ) -> RepoBaselines:
        """Run the reference tree and the start tree; raise ``InvalidTask`` if it is unfair."""
        if TaskKind.OPTIMIZE in task.info.kinds:
            raise InvalidTask(f"{task.id}: repository tasks cannot be optimize tasks", task.id)
        if not task.hidden_tests:
            raise InvalidTask(f"{task.id}: the hidden suite has no test", task_id=task.id)
        try:
            task.check(base)
            start, fixed = task.start_tree(base), task.reference_tree(base)
        except ValueError as exc:  # WorkspaceActionError too: a diff that does not apply
            raise InvalidTask(f"{task.id}: {exc}", task_id=task.id) from None
        reference, original = {}, {}
        for suite, ids in ((Suite.VISIBLE, task.visible_tests), (Suite.HIDDEN, task.hidden_tests)):
            reference[suite] = _baseline_run(executor, task, base, fixed, ids, limits)
            original[suite] = _baseline_run(executor, task, base, start, ids, limits)
            problem = _reference_problem(base, ids, reference[suite])
            if problem:
                raise InvalidTask(
                    f"{task.id}: the reference fix does not pass its {suite} tests ({problem})",
                    task_id=task.id,
                )
        made = cls(base=base, start=start, reference=reference, original=original)
        broken = made.grade(Suite.HIDDEN, original[Suite.HIDDEN]).failed
        if TaskKind.REPAIR in task.info.kinds and not broken:
            raise InvalidTask(
                f"{task.id}: a repair task needs a hidden test that fails before the fix; the "
                "untouched tree would earn the tests component",
                task_id=task.id,
            )
        return made


def run_tree(
    executor: Executor,
    task: RepoTask,
    base: Workspace,
    tree: Workspace,
    ids: Sequence[str],
    limits: Limits,
) -> ExecReport:
    """The test ids ``ids`` of ``task`` run against ``tree`` (none: nothing runs; an empty
    selection would run every test of the project)."""
    if not ids:
        return ExecReport(exit_reason=ExitReason.OK)
    return run_suite(executor, Job.of_repo(task, base, tree, tuple(ids), limits))


def _baseline_run(
    executor: Executor,
    task: RepoTask,
    base: Workspace,
    tree: Workspace,
    ids: Sequence[str],
    limits: Limits,
) -> ExecReport:
    """A baseline's run, as kept: outcomes, exit and costs (not its output)."""
    report = run_tree(executor, task, base, tree, ids, limits)
    return report.model_copy(update={"stdout": "", "stderr": ""})


def _reference_problem(base: Workspace, ids: Sequence[str], report: ExecReport) -> str:
    """Why the reference run cannot grade: it did not finish, a named test did not run, or a
    test failed (its asserts against literals checked against the snapshot's test files)."""
    if report.exit_reason is not ExitReason.OK or report.error:
        return report.error or report.exit_reason.value
    ran = {o.name for o in report.outcomes}
    missing = [i for i in ids if i not in ran]
    if missing:
        return f"{len(missing)} test id(s) did not run, e.g. {missing[0]!r}"
    by_file: dict[str, list[TestOutcome]] = {}
    for outcome in graded_outcomes(report):
        by_file.setdefault(outcome.name.split("::", 1)[0], []).append(outcome)
    for path, outcomes in sorted(by_file.items()):
        literals = checks.expected_values(base.get(path, ""))  # per line of that test file
        expected = {line: normalise(value) for line, value in literals.items()}
        mine = report.model_copy(update={"outcomes": tuple(outcomes)})
        failures = failed_in_reference(mine, expected)
        if failures:
            return failures[0]
    return ""


class RepoRunner:
    """Runs and grades repository tasks; thread-safe, shared by every session."""

    def __init__(self, executor: Executor, limits: Limits | None = None) -> None:
        self.executor = executor
        self.limits = limits or Limits()
        self._baselines: BaselineCache[RepoBaselines] = BaselineCache(MAX_REPO_TASKS_CACHED)

    def prepare(self, task: RepoTask, base: Workspace) -> RepoBaselines:
        """The task's baselines (cached by content); raise ``InvalidTask`` if it is unfair."""
        return self._baselines.get(
            task.digest,
            task.id,
            lambda: RepoBaselines.build(self.executor, task, base, self.limits),
        )

    def run_tests(
        self, task: RepoTask, baselines: RepoBaselines, tree: Workspace, tests: Sequence[str]
    ) -> TestReport:
        """Run the visible test ids ``tests`` against ``tree``, graded against the reference."""
        candidate = run_tree(self.executor, task, baselines.base, tree, tests, self.limits)
        return baselines.grade(Suite.VISIBLE, candidate, select=frozenset(tests))

    def review(
        self, task: RepoTask, findings: Sequence[Finding], approved: bool = False
    ) -> ReviewScore:
        """Findings against the answer key, an issue matched only by findings in its file; on a
        pull-request task, with its verdict (``approved``: the episode ended with approve).

        Suggested fixes are not run on repository tasks (the hidden tests grade the repair), so
        locating an issue earns its full credit, as for an issue no check can see."""
        every = frozenset(issue.id for issue in task.issues)
        if is_pull_request(task):
            return review_pull_request(findings, task.issues, approved, uncheckable=every)
        return score_findings(findings, task.issues, uncheckable=every)

    def evaluate(
        self,
        task: RepoTask,
        baselines: RepoBaselines,
        tree: Workspace,
        findings: Sequence[Finding],
        approved: bool = False,
    ) -> Evaluation:
        """The final evaluation: the hidden tests on ``tree``, and the findings (with the
        verdict on a pull-request task: ``approved`` when the episode ended with approve)."""
        weights = component_weights(task)
        components: dict[str, float] = {}
        review = self.review(task, findings, approved) if Component.REVIEW in weights else None
        if review is not None:
            components[Component.REVIEW] = review.f1
        report = None
        if Component.TESTS in weights:
            hidden = task.hidden_tests
            candidate = run_tree(self.executor, task, baselines.base, tree, hidden, self.limits)
            report = baselines.grade(Suite.HIDDEN, candidate)
        score = repair_score(report) if report is not None else None
        if score is not None:
            components[Component.TESTS] = score.score
        return combine(
            components,
            weights,
            review=review,
            tests=score,
            hidden_tests=public_report(report) if report is not None else None,
            issues=task.issues,
            issue_paths={issue.id: issue.path for issue in task.issues},
        )
