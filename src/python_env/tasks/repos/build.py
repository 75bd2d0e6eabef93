"""One project's repository tasks: baseline its suite, inject bugs, keep those its tests catch.

Per project (``ProjectBuilder.build``):

1. the baseline (``suite.run_baseline``): the tests that pass, steadily, on the snapshot;
2. mutants (``mutants.sample_mutants``): one bug-family injection each, sampled per module;
3. the kill check: the test modules that name the mutated function (``candidate_files``) run
   on the mutant; the tests whose outcome differs from the baseline's fail. A mutant is kept
   when at least ``MIN_FAIL_TO_PASS`` fail, its run finished and its modules still import;
4. the task: hidden tests are the failing ones (at most ``MAX_FAIL_TO_PASS``, sampled, cheap
   ones first) and a sample of at most ``MAX_PASS_TO_PASS`` cheap passing ones (``hidden``); visible
   tests some of the failing and a few cheap passing ones;
5. the cross-check: the task as the environment grades it (``Job.of_repo``, default limits),
   with the hidden tests run together: the reference tree must match the baseline and the
   start tree must fail exactly the fail-to-pass tests.

Everything random derives from ``(seed, project, module path)`` (and the site, for one task's
tests); mutants are judged in batches, in a fixed order, so the tasks do not depend on which
sandbox job finishes first.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from python_env.sandbox import Executor, Job
from python_env.tasks.generate.build import source_seed
from python_env.tasks.patches import unified_diff
from python_env.tasks.repo_task import RepoIssue, RepoTask
from python_env.tasks.repos.hidden import cheap_first, cheap_sample
from python_env.tasks.repos.mutants import Mutant, candidate_tests, sample_mutants
from python_env.tasks.repos.pr_tasks import (
    CLEAN_PER_PLANTED,
    PR_SHARE,
    REVIEW_ONLY,
    clean,
    planted,
    pr_task,
    visible_tests,
)
from python_env.tasks.repos.projects import Project
from python_env.tasks.repos.suite import Baseline, Layout, failing_tests, run_baseline
from python_env.tasks.repos.texts import MAX_STEPS, difficulty, instructions, title
from python_env.tasks.workspace import Workspace
from python_env.types import ExecReport, ExitReason, Limits, TaskInfo, TaskKind, TaskSetting

MIN_FAIL_TO_PASS = 2
MAX_FAIL_TO_PASS = 30  # hidden failing tests at most: a graded run stays fast
MAX_PASS_TO_PASS = 10
MAX_MUTANTS = 1000  # mutants tried per project at most
KINDS = (TaskKind.REVIEW, TaskKind.REPAIR)
GRADING_LIMITS = Limits()  # what the environment grades a run under

MAX_CLEAN_HIDDEN = 20  # tests a clean pull request's hidden suite samples
MIN_CLEAN_TRIES = 12  # a small project may need more tries to get its one clean pull request
Progress = Callable[[str, int, int, int], None]  # (stage, done, total, tasks kept)
Made = tuple[RepoTask, float] | str  # a task and its graded hidden run's wall ms, or why not


@dataclass
class ProjectBuild:
    """What building one project gave: tasks, what happened to every mutant, timings."""

    project: Project
    tasks: list[RepoTask] = field(default_factory=list)
    mutants: Counter[str] = field(default_factory=Counter)  # outcome -> count
    injectors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    coverage: Counter[str] = field(default_factory=Counter)  # how test modules were chosen
    pull_requests: Counter[str] = field(default_factory=Counter)  # made, or why not
    baseline: dict[str, object] = field(default_factory=dict)
    hidden_ms: list[float] = field(default_factory=list)  # graded hidden runs (start tree)
    seconds: float = 0.0
    error: str = ""

    @property
    def tried(self) -> int:
        """Mutants judged (kill-checked)."""
        return sum(sum(counts.values()) for counts in self.injectors.values())


@dataclass(frozen=True)
class Judged:
    """A mutant after its kill check."""

    mutant: Mutant
    outcome: str  # killed, survived, killed_once, timeout, import_error, ...
    ids: tuple[str, ...] = ()  # the tests that ran
    failing: frozenset[str] = frozenset()
    coverage: str = ""


class ProjectBuilder:
    """Builds the tasks of one project at a time over two executors (the second, with another
    string-hash seed, only repeats the baseline)."""

    def __init__(
        self,
        executors: tuple[Executor, Executor],
        seed: int,
        threads: int = 4,
        max_tasks: int | None = None,
        max_mutants: int = MAX_MUTANTS,
    ) -> None:
        self.executors = executors
        self.seed = seed
        self.threads = max(1, threads)
        self.max_tasks = max_tasks
        self.max_mutants = max_mutants

    def build(
        self, project: Project, snapshot: Workspace, progress: Progress | None = None
    ) -> ProjectBuild:
        """Every task of ``project`` (raises ``SandboxError`` only if the sandbox breaks)."""
        started = time.perf_counter()
        out = ProjectBuild(project)
        layout = Layout.of(project)

        def tick(stage: str) -> Callable[[int, int], None]:
            def report(done: int, total: int) -> None:
                if progress:
                    progress(stage, done, total, len(out.tasks))

            return report

        baseline = run_baseline(layout, snapshot, self.executors, self.threads, tick("baseline"))
        out.baseline = {
            "test_modules": len(layout.test_modules(snapshot)),
            "tests_kept": len(baseline.outcomes),
            "tests_dropped": dict(sorted(baseline.dropped.items())),
            "modules_without_tests": dict(sorted(baseline.problems.items())),
        }
        if not baseline.outcomes:
            out.error = "no test of its suite passes steadily in the sandbox"
            return out
        mutants = sample_mutants(layout, snapshot, project.name, self.seed, out.mutants)
        out.mutants["sampled"] = len(mutants)
        mutants = mutants[: self.max_mutants]
        batch = self.threads * 2
        with ThreadPoolExecutor(self.threads) as pool:
            for start in range(0, len(mutants), batch):
                if self.max_tasks is not None and len(out.tasks) >= self.max_tasks:
                    out.mutants["not_tried"] += len(mutants) - start
                    break
                chunk = mutants[start : start + batch]
                judged = list(pool.map(lambda m: self.judge(m, layout, snapshot, baseline), chunk))
                tasks = list(
                    pool.map(lambda j: self._task(j, project, layout, snapshot, baseline), judged)
                )
                for verdict, (made, note) in zip(judged, tasks, strict=True):
                    self._record(out, verdict, made)
                    if note:
                        out.pull_requests[note] += 1
                tick("mutants")(min(start + batch, len(mutants)), len(mutants))
            planted_prs = out.pull_requests["planted"]
            wanted = max(1, round(planted_prs * CLEAN_PER_PLANTED)) if planted_prs else 0
            most = max(3 * wanted, MIN_CLEAN_TRIES)  # a draft may fail: three tries each
            for k in range(0, most, batch):
                if out.pull_requests["clean"] >= wanted:
                    break
                tries = range(k, min(k + batch, most))
                made_clean = pool.map(
                    lambda n: self._clean_pr(n, project, layout, snapshot, baseline), tries
                )
                for result in made_clean:
                    full = out.pull_requests["clean"] >= wanted
                    note = "clean_over" if full else result if isinstance(result, str) else "clean"
                    out.pull_requests[note] += 1
                    if note == "clean" and not isinstance(result, str):
                        out.tasks.append(result[0])
                        out.hidden_ms.append(result[1])
                tick("clean pull requests")(out.pull_requests["clean"], wanted)
        out.seconds = time.perf_counter() - started
        return out

    def _seed(self, mutant: Mutant, purpose: str) -> int:
        """A seed for one use of one mutant: from the seed, the project, the module, the site."""
        return source_seed(self.seed, f"{mutant.project}:{mutant.module}:{mutant.key}:{purpose}")

    def _record(self, out: ProjectBuild, judged: Judged, made: Made) -> None:
        outcome = judged.outcome
        if outcome == "killed":
            outcome = made if isinstance(made, str) else "kept"
            full = self.max_tasks is not None and len(out.tasks) >= self.max_tasks
            if outcome == "kept" and full:
                outcome = "over_cap"
        out.mutants[outcome] += 1
        out.injectors[judged.mutant.injector][outcome] += 1
        if judged.coverage:
            out.coverage[judged.coverage] += 1
        if outcome == "kept" and not isinstance(made, str):
            out.tasks.append(made[0])
            out.hidden_ms.append(made[1])

    def judge(
        self, mutant: Mutant, layout: Layout, snapshot: Workspace, baseline: Baseline
    ) -> Judged:
        """The kill check: the mutant under the tests of the modules that name its code."""
        rng = random.Random(self._seed(mutant, "kill"))
        tests, tier = candidate_tests(mutant.module, mutant.names, baseline, snapshot, rng)
        ids = tuple(tests)
        tree = snapshot.updated({mutant.module: mutant.candidate.code})
        report = self._run(layout, snapshot, baseline, tree, ids)
        failing = frozenset(failing_tests(report, baseline, ids))
        if report.exit_reason is not ExitReason.OK:
            outcome = report.exit_reason.value
        elif report.error:
            outcome = "import_error"  # the bug breaks collection: every test, not behaviour
        elif len(failing) >= MIN_FAIL_TO_PASS:
            outcome = "killed"
        else:
            outcome = "killed_once" if failing else "survived"
        return Judged(mutant, outcome, ids, failing, tier)

    def _run(
        self,
        layout: Layout,
        snapshot: Workspace,
        baseline: Baseline,
        tree: Workspace,
        ids: Sequence[str],
    ) -> ExecReport:
        """The tests ``ids`` on ``tree``, with room for a change that loops where the original
        returns: a few times the baseline's CPU, then give up."""
        cpu = sum(baseline.cpu_ms[f] for f in {i.split("::", 1)[0] for i in ids}) / 1000
        limits = Limits(cpu_seconds=3 * cpu + 5, wall_seconds=6 * cpu + 20, memory_mb=1024)
        return self.executors[0].run(layout.job(tree, layout.trusted(snapshot), ids, limits))

    def _task(
        self,
        judged: Judged,
        project: Project,
        layout: Layout,
        snapshot: Workspace,
        baseline: Baseline,
    ) -> tuple[Made, str]:
        """The task of a killed mutant (a bug report, or a pull request to review) and the wall
        time of its graded hidden run, or why the cross-check dropped it; and what became of
        the pull request, if the mutant was drawn for one."""
        if judged.outcome != "killed":
            return judged.outcome, ""
        mutant = judged.mutant
        rng = random.Random(self._seed(mutant, "tests"))
        order = {test: k for k, test in enumerate(judged.ids)}

        def ordered(tests: Sequence[str]) -> tuple[str, ...]:
            return tuple(sorted(tests, key=order.__getitem__))

        failing = ordered(list(judged.failing))
        cost = baseline.test_cpu_ms
        passed = [t for t in judged.ids if t not in judged.failing]
        f2p = ordered(cheap_first(failing, cost, rng, MAX_FAIL_TO_PASS))
        hidden = ordered([*f2p, *cheap_sample(passed, cost, rng, MAX_PASS_TO_PASS)])
        note = ""
        pr_rng = random.Random(self._seed(mutant, "pull request"))
        if pr_rng.random() < PR_SHARE:
            drafted = planted(layout, snapshot, mutant, pr_rng)
            shown = visible_tests(drafted.kinds, f2p, passed, cost, pr_rng) if drafted else []
            if drafted is None or not shown:
                note = "planted_not_drafted"
            else:
                issue = self._issue(mutant, drafted.draft.issue_path, drafted.draft.issue_lines)
                task = pr_task(project, layout, snapshot, drafted.draft,
                               drafted.kinds, (ordered(shown), hidden, f2p), issue,
                               (mutant.module, mutant.key, self.seed))  # fmt: skip
                made = self._cross_check(task, snapshot, baseline)
                if not isinstance(made, str):
                    return made, "planted"
                note = f"planted_{made}"  # the mutant stays a bug report
        shown = visible_tests(KINDS, f2p, passed, cost, rng)
        task = self._assemble(project, layout, snapshot, mutant, f2p, ordered(shown), hidden)
        return self._cross_check(task, snapshot, baseline), note

    def _clean_pr(
        self, n: int, project: Project, layout: Layout, snapshot: Workspace, baseline: Baseline
    ) -> Made:
        """Clean pull request number ``n`` of the project: benign changes whose tests all still
        do what they did, or why it was dropped."""
        rng = random.Random(source_seed(self.seed, f"{project.name}:clean pull request:{n}"))
        made = clean(layout, snapshot, rng)
        if made is None:
            return "clean_not_drafted"
        ids: set[str] = set()
        for path in sorted(p for p in made.head if made.head[p] != snapshot.get(p)):
            ids.update(candidate_tests(path, (), baseline, snapshot, rng)[0])
        tests = [t for t in baseline.outcomes if t in ids]  # baseline order
        report = self._run(layout, snapshot, baseline, made.head, tests)
        if len(tests) < 2 or not _clean(report, tests) or failing_tests(report, baseline, tests):
            return "clean_changed_outcome"
        hidden = cheap_sample(tests, baseline.test_cpu_ms, rng, MAX_CLEAN_HIDDEN)
        if len(hidden) < 2:
            return "clean_tests_too_slow"
        shown = visible_tests(REVIEW_ONLY, (), hidden, baseline.test_cpu_ms, rng)
        order = {test: k for k, test in enumerate(tests)}
        task = pr_task(project, layout, snapshot, made, REVIEW_ONLY,
                       (tuple(sorted(shown, key=order.__getitem__)),
                        tuple(sorted(hidden, key=order.__getitem__)), ()),
                       None, ("clean", n, self.seed))  # fmt: skip
        return self._cross_check(task, snapshot, baseline)

    def _assemble(
        self,
        project: Project,
        layout: Layout,
        snapshot: Workspace,
        mutant: Mutant,
        f2p: tuple[str, ...],
        visible: tuple[str, ...],
        hidden: tuple[str, ...],
    ) -> RepoTask:
        tree = snapshot.updated({mutant.module: mutant.candidate.code})
        comp = mutant.component
        spec = comp.spec
        start_line, end_line = mutant.candidate.spans[0]
        key = json.dumps([project.name, project.version, mutant.module, mutant.key, self.seed])
        info = TaskInfo(
            id=f"repo-{project.name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}",
            title=title(project, next(t for t in visible if t in f2p)),
            kinds=KINDS,
            difficulty=difficulty(spec.subtlety, len(f2p)),
            split=project.split,
            source=f"repo:{project.name}",
            categories=(spec.category,),
            num_issues=1,
            max_steps=MAX_STEPS,
            setting=TaskSetting.REPOSITORY,
        )
        issue = self._issue(mutant, mutant.module, (start_line, end_line))
        return RepoTask(
            info=info,
            instructions=instructions(project, KINDS, visible),
            project=project.ref,
            snapshot=snapshot.digest(),
            start=unified_diff(snapshot, tree),
            fix=unified_diff(tree, snapshot),
            roots=layout.roots,
            test_paths=layout.test_paths,
            visible_tests=visible,
            hidden_tests=hidden,
            fail_to_pass=f2p,
            issues=(issue,),
        )

    @staticmethod
    def _issue(mutant: Mutant, path: str, lines: tuple[int, int]) -> RepoIssue:
        """The answer key of a mutant whose injected lines are ``lines`` of ``path``."""
        comp = mutant.component
        spec = comp.spec
        return RepoIssue(
            id=f"{comp.injector.replace('_', '-')}-1",
            path=path,
            start_line=lines[0],
            end_line=lines[1],
            category=spec.category,
            severity=spec.severity,
            rule_id=spec.rule_id,
            alt_categories=spec.alt_categories,
            explanation=comp.explanation,
        )

    def _cross_check(self, task: RepoTask, snapshot: Workspace, baseline: Baseline) -> Made:
        """Grade the task's suites as the environment will: on the reference tree both must
        match the baseline; on the start tree the hidden one must fail exactly the fail-to-pass
        tests."""
        runner = self.executors[0]
        hidden = task.hidden_tests
        tree = task.reference_tree(snapshot)
        for ids in (task.visible_tests, hidden):
            reference = runner.run(Job.of_repo(task, snapshot, tree, ids, GRADING_LIMITS))
            if not _clean(reference, ids) or failing_tests(reference, baseline, ids):
                return "reference_differs"
        start = runner.run(
            Job.of_repo(task, snapshot, task.start_tree(snapshot), hidden, GRADING_LIMITS)
        )
        if not _clean(start, hidden):
            return "start_unclean"
        if set(failing_tests(start, baseline, hidden)) != set(task.fail_to_pass):
            return "start_differs"
        return task, start.wall_ms


def _clean(report: ExecReport, hidden: Sequence[str]) -> bool:
    """The run finished, collected, and ran every hidden test."""
    names = {o.name for o in report.outcomes}
    return report.exit_reason is ExitReason.OK and not report.error and names >= set(hidden)
