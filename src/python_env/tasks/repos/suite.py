"""A project's own test suite in the sandbox: which files are tests, the baseline, graded runs.

The baseline runs each test module of the snapshot in a job of its own (jobs stay small and a
module that cannot be collected costs only its own tests), twice: the second time on an executor
with another string-hash seed, more than a second after the first. A test is kept only when it
passes the first time (it returned, no check of it failed) and does exactly the same the second
time: a test whose outcome depends on timing, on hash order, on an earlier test or on the clock
(pyjwt checks tokens that expire 15 s from now: the checked value moves every second) would make
grading flaky.

The project's ``excluded_tests`` never run: excluded files are left out of the job, and tests
excluded by node id are skipped before their setup by a conftest added to the baseline's jobs
only (``SELECT_CONFTEST``); some are excluded because they are slow.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from python_env import syntax
from python_env.grading.tests import failed_in_reference, grade_suite
from python_env.sandbox import Executor, Job
from python_env.sandbox.checks import expected_values
from python_env.sandbox.harness import normalise
from python_env.tasks.repo_task import is_test_file
from python_env.tasks.repos.projects import Project
from python_env.types import ExecReport, ExitReason, Limits, Suite, TestOutcome, TestStatus

BASELINE_LIMITS = Limits(cpu_seconds=60.0, wall_seconds=180.0, memory_mb=1024)
# Not a path any project uses: the conftest that keeps a baseline job to its selection.
SELECT_CONFTEST = "_python_env_select/conftest.py"
STEADY_GAP_S = 1.05  # between a module's two baseline runs: a clock read to the second moves
# Lines as ast splits them: at \r\n, \r or \n only (not at form feeds and the like).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
# A test whose code reads a clock, as to check that something is fast enough, passes or fails
# with the machine's load: it cannot grade.
_TIMING = re.compile(r"\b(?:perf_counter|process_time|monotonic|timeit)\b|\btime\.time\b")


@dataclass(frozen=True)
class Layout:
    """Where a project's code and tests are in its snapshot, and which tests it leaves out."""

    package_dir: str
    test_paths: tuple[str, ...]
    roots: tuple[str, ...]
    ignored: tuple[str, ...] = ()  # excluded files and directories
    deselected: tuple[str, ...] = ()  # excluded node-id prefixes

    @classmethod
    def of(cls, project: Project) -> Layout:
        """The layout of a pinned project: a ``src/`` package imports from ``src``."""
        excluded = project.excluded_tests
        return cls(
            package_dir=project.package_dir.rstrip("/"),
            test_paths=project.test_paths,
            roots=("src",) if project.package_dir.startswith("src/") else ("",),
            ignored=tuple(e.target.rstrip("/") for e in excluded if not e.is_node_id),
            deselected=tuple(e.target for e in excluded if e.is_node_id),
        )

    def is_test_file(self, path: str) -> bool:
        """Test-side code or data (trusted: always taken from the snapshot)."""
        return is_test_file(path, self.test_paths)

    def is_ignored(self, path: str) -> bool:
        """Whether ``path`` is an excluded test file or under an excluded directory."""
        return any(path == i or path.startswith(i + "/") for i in self.ignored)

    def test_modules(self, tree: Mapping[str, str]) -> list[str]:
        """The test modules pytest would collect (``test_*.py``, ``*_test.py``), sorted."""
        return [
            path
            for path in sorted(tree)
            if self.is_test_file(path)
            and not self.is_ignored(path)
            and _is_test_module(path.rsplit("/", 1)[-1])
        ]

    def modules(self, tree: Mapping[str, str]) -> list[str]:
        """The package's own Python modules (not its tests), sorted."""
        top = self.package_dir
        return [
            path
            for path in sorted(tree)
            if path.endswith(".py")
            and (path == top or path.startswith(top + "/"))
            and not self.is_test_file(path)
        ]

    def job(
        self,
        tree: Mapping[str, str],
        trusted: Mapping[str, str],
        select: Sequence[str],
        limits: Limits,
    ) -> Job:
        """``tree``'s code (its test files left out) under the ``trusted`` test-side files."""
        files = {p: t for p, t in tree.items() if not self.is_test_file(p)}
        return Job(
            solution="",
            tests="",
            limits=limits,
            files=tuple(sorted(files.items())),
            trusted=tuple(sorted(trusted.items())),
            select=tuple(select),
            roots=self.roots,
        )

    def trusted(self, snapshot: Mapping[str, str]) -> dict[str, str]:
        """The snapshot's test-side files."""
        return {p: t for p, t in snapshot.items() if self.is_test_file(p)}


def _is_test_module(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


@dataclass
class Baseline:
    """The tests kept from a project's suite, with their outcomes on the unchanged snapshot."""

    outcomes: dict[str, TestOutcome] = field(default_factory=dict)  # test id -> outcome
    by_file: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> kept ids
    cpu_ms: dict[str, float] = field(default_factory=dict)  # module -> CPU of its whole run
    test_cpu_ms: dict[str, float] = field(default_factory=dict)  # kept test -> its CPU (max)
    dropped: Counter[str] = field(default_factory=Counter)  # why tests were left out
    problems: dict[str, str] = field(default_factory=dict)  # module -> why it has no tests

    def report(self, ids: Sequence[str]) -> ExecReport:
        """The baseline's outcomes of ``ids`` as a sandbox report (the grading reference)."""
        return ExecReport(exit_reason=ExitReason.OK, outcomes=tuple(self.outcomes[i] for i in ids))

    def ids(self, files: Sequence[str]) -> list[str]:
        """The kept test ids of ``files``, in file order."""
        return [test for f in files for test in self.by_file.get(f, ())]


Progress = Callable[[int, int], None]


def run_baseline(
    layout: Layout,
    snapshot: Mapping[str, str],
    executors: tuple[Executor, Executor],
    threads: int = 4,
    progress: Progress | None = None,
) -> Baseline:
    """Run every test module twice (one job each, per executor) and keep the steady passes."""
    modules = layout.test_modules(snapshot)
    runs = len(modules) * len(executors)  # for the progress bar
    done = [0]

    def one(item: tuple[Executor, str]) -> ExecReport:
        executor, path = item
        report = _run_module(layout, snapshot, modules, path, executor)
        done[0] += 1
        if progress:
            progress(done[0], runs)
        return report

    with ThreadPoolExecutor(max(1, threads)) as pool:
        firsts = list(pool.map(one, [(executors[0], path) for path in modules]))
        time.sleep(STEADY_GAP_S)  # every module's second run starts in a later second
        seconds = list(pool.map(one, [(executors[1], path) for path in modules]))
    baseline = Baseline()
    timed = timing_pattern(layout.trusted(snapshot))
    for path, first, second in zip(modules, firsts, seconds, strict=True):
        _keep(baseline, layout, path, snapshot[path], (first, second), timed)
    return baseline


def cannot_grade(test_id: str, source: str, timed: re.Pattern[str]) -> str:
    """Why a passing, steady test of the module ``source`` still cannot grade ("" if it can):
    ``timed``, its code reads a clock (``timed``, from ``timing_pattern``), so it passes or not
    by load; ``unordered``, it is parametrized over a set, so its id changes between processes
    (``set_params``)."""
    if timed.search(definitions(source).get(top_name(test_id, method=True), "")):
        return "timed"
    if {top_name(test_id), top_name(test_id, method=True)} & set_params(source):
        return "unordered"
    return ""


def timing_pattern(files: Mapping[str, str]) -> re.Pattern[str]:
    """What marks code that reads a clock: a clock itself, or a call of a helper of ``files``
    (test-side code) that reads one, however indirectly (as a helper asserting that doubling an
    input at most triples the time)."""
    bodies: dict[str, list[str]] = {}
    for path, source in files.items():
        if path.endswith(".py"):
            for name, body in _functions(source):
                bodies.setdefault(name, []).append(body)
    pattern, timed = _TIMING, set[str]()
    while True:
        found = {n for n, bs in bodies.items() if n not in timed and any(map(pattern.search, bs))}
        if not found:
            return pattern
        timed |= found
        names = "|".join(re.escape(n) for n in sorted(timed))
        pattern = re.compile(rf"{_TIMING.pattern}|\b(?:{names})\b")


def _functions(source: str) -> list[tuple[str, str]]:
    """Every function of ``source``, nested ones and methods too: (name, source)."""
    try:
        tree = syntax.parse(source)
    except (SyntaxError, ValueError):
        return []
    segment = Segments(source)
    return [
        (node.name, segment(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _run_module(
    layout: Layout, snapshot: Mapping[str, str], modules: list[str], path: str, executor: Executor
) -> ExecReport:
    """One test module's tests: alone first; with the other test modules present (their tests
    skipped) when it cannot be collected alone, as when it imports another test module."""
    report = executor.run(_module_job(layout, snapshot, modules, path, alone=True))
    if report.error and not report.outcomes:
        report = executor.run(_module_job(layout, snapshot, modules, path, alone=False))
    return report


def _module_job(
    layout: Layout, snapshot: Mapping[str, str], modules: list[str], path: str, alone: bool
) -> Job:
    others = set(modules) - {path} if alone else set()
    trusted = {
        p: t
        for p, t in layout.trusted(snapshot).items()
        if p not in others and (p == path or not layout.is_ignored(p))
    }
    skipped = [d for d in layout.deselected if d.split("::", 1)[0] == path]
    if skipped or not alone:
        trusted[SELECT_CONFTEST] = select_conftest(path, skipped)
    return layout.job(snapshot, trusted, (), BASELINE_LIMITS)


def select_conftest(path: str, deselected: Sequence[str]) -> str:
    """A conftest that skips, before any fixture is set up, every test outside ``path`` and
    every test whose id starts with one of ``deselected`` (pytest's ``--deselect`` rule)."""
    return (
        '"""Baseline only: skips the tests the project excludes, and other modules\' tests."""\n'
        "import pytest\n\n"
        f"KEEP = {json.dumps(path + '::')}\n"
        f"DROP = {json.dumps(tuple(deselected))}\n\n\n"
        "@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_runtest_setup(item):\n"
        "    if not item.nodeid.startswith(KEEP) or item.nodeid.startswith(tuple(DROP)):\n"
        "        pytest.skip('not part of this baseline run')\n"
    )


def _keep(
    baseline: Baseline,
    layout: Layout,
    path: str,
    source: str,
    runs: tuple[ExecReport, ExecReport],
    timed: re.Pattern[str],
) -> None:
    """Record the tests of one module that pass in the first run and do the same in the second."""
    first, second = runs
    if first.exit_reason is not ExitReason.OK or first.error:
        baseline.problems[path] = first.error[:300] or f"the job ended: {first.exit_reason.value}"
        baseline.dropped["module_error" if first.error else first.exit_reason.value] += 1
    # The literals an assert compares with, as the harness normalises values (as the server's
    # reference check does).
    expected = {line: normalise(value) for line, value in expected_values(source).items()}
    kept = []
    for outcome in first.outcomes:
        if not outcome.name.startswith(path + "::"):
            continue  # another module's test, skipped by the selection conftest
        again = second.outcome(outcome.name)
        if outcome.name.startswith(layout.deselected):
            baseline.dropped["excluded"] += 1
        elif outcome.status is TestStatus.SKIPPED:
            baseline.dropped["skipped"] += 1
        elif outcome.status is not TestStatus.RETURNED or _fails(outcome, expected):
            baseline.dropped["failing"] += 1
        elif again is None or again.status != outcome.status or again.value != outcome.value:
            baseline.dropped["unsteady"] += 1
        elif why := cannot_grade(outcome.name, source, timed):
            baseline.dropped[why] += 1
        else:
            baseline.outcomes[outcome.name] = outcome
            baseline.test_cpu_ms[outcome.name] = max(
                run.test_cpu_ms[outcome.name] for run in (first, second)
            )
            kept.append(outcome.name)
    if kept:
        baseline.by_file[path] = tuple(kept)
        baseline.cpu_ms[path] = max(first.cpu_ms, second.cpu_ms)
    elif path not in baseline.problems:
        baseline.problems[path] = "no test passes"


def _fails(outcome: TestOutcome, expected: Mapping[int, object]) -> bool:
    """Whether pytest would call the test failed (a check of it came out false)."""
    single = ExecReport(exit_reason=ExitReason.OK, outcomes=(outcome,))
    return bool(failed_in_reference(single, expected))


def failing_tests(report: ExecReport, baseline: Baseline, ids: Sequence[str]) -> list[str]:
    """The tests of ``ids`` whose outcome in ``report`` differs from the baseline's (a test that
    did not run fails), as the grader decides."""
    reference = baseline.report(ids)
    verdicts = grade_suite(Suite.HIDDEN, report, reference, reference).verdicts
    return [v.name for v in verdicts if not v.passed]


def module_of(test_id: str) -> str:
    """The test module of a test id."""
    return test_id.split("::", 1)[0]


def top_name(test_id: str, method: bool = False) -> str:
    """The top-level name of a test id: its class (with ``method``: ``Class.method``), or its
    function, without parameters."""
    parts = test_id.split("::", 1)[-1].split("[", 1)[0].split("::")
    return ".".join(parts[:2] if method else parts[:1])


@functools.lru_cache(maxsize=64)
def definitions(source: str) -> dict[str, str]:
    """The source of each top-level function and class of a test module, and of each method of
    a class as ``Class.method`` ({} if it does not parse)."""
    try:
        tree = syntax.parse(source)
    except (SyntaxError, ValueError):
        return {}
    segment = Segments(source)
    return {name: segment(node) for name, node in _named_definitions(tree)}


@functools.lru_cache(maxsize=64)
def set_params(source: str) -> frozenset[str]:
    """The tests of a module (``name``, ``Class`` or ``Class.method``) parametrized over a set.

    pytest numbers parameters it cannot name (``expected25``) in iteration order, and a set's
    order follows its items' hashes, which for ``None`` and most objects are their addresses:
    they differ from one process to the next, so the same test gets another id in another
    sandbox worker (isodate's ``TEST_CASES``)."""
    try:
        tree = syntax.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    sets = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_set(node.value, set())
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    named = _named_definitions(tree)
    found = {name for name, n in named if any(_over_set(d, sets) for d in n.decorator_list)}
    return frozenset(found)


def _named_definitions(tree: ast.Module) -> list[tuple[str, Definition]]:
    """The module's top-level functions and classes, each followed by its methods as
    ``Class.method``: the names ``top_name`` gives a test id."""
    found: list[tuple[str, Definition]] = []
    for node in tree.body:
        if isinstance(node, Definition):
            found.append((node.name, node))
        if isinstance(node, ast.ClassDef):
            found += [
                (f"{node.name}.{item.name}", item)
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return found


def _over_set(decorator: ast.expr, sets: set[str]) -> bool:
    """Whether a decorator is ``parametrize(names, values)`` with ``values`` a set."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return False
    if decorator.func.attr != "parametrize":
        return False
    values = [*decorator.args[1:2], *(k.value for k in decorator.keywords if k.arg == "argvalues")]
    return any(_is_set(v, sets) for v in values)


def _is_set(node: ast.expr, sets: set[str]) -> bool:
    if isinstance(node, ast.Set | ast.SetComp):
        return True
    if isinstance(node, ast.Name):
        return node.id in sets
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("set", "frozenset")
    )


class Segments:
    """``ast.get_source_segment`` over one source, its lines split once (the standard function
    splits the whole source again at every call, which is quadratic over a large test module)."""

    def __init__(self, source: str) -> None:
        self._lines: list[bytes] = [line.encode() for line in _LINE.findall(source)]

    def __call__(self, node: ast.stmt) -> str:
        """The text of ``node`` ("" without a position)."""
        if node.end_lineno is None or node.end_col_offset is None:
            return ""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self._lines[first][node.col_offset : node.end_col_offset].decode()
        middle = b"".join(self._lines[first + 1 : last])
        head = self._lines[first][node.col_offset :]
        return (head + middle + self._lines[last][: node.end_col_offset]).decode()
