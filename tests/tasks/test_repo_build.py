"""The repository-task generator on a tiny in-memory project: its baseline keeps only steady
passing tests, a mutant no test catches is dropped, a kept task grades as the environment will
grade it, the build is byte-for-byte reproducible and a test project never lands in train."""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from python_env.cli import main
from python_env.grading.tests import grade_suite
from python_env.sandbox import Executor, Job
from python_env.tasks.patches import changed_lines
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.repos import build, mutants
from python_env.tasks.repos.build import ProjectBuild, ProjectBuilder
from python_env.tasks.repos.dataset import (
    GENERATOR_VERSION,
    build_repos,
    default_dir,
    merge_stores,
)
from python_env.tasks.repos.mutants import sample_mutants
from python_env.tasks.repos.projects import ExcludedTest, Project
from python_env.tasks.repos.suite import (
    Layout,
    cannot_grade,
    definitions,
    run_baseline,
    set_params,
    timing_pattern,
)
from python_env.tasks.workspace import Workspace
from python_env.types import ExecReport, Limits, Suite, TaskKind, TaskSetting, VerdictKind
from tests.tasks.test_repos_fetch import make_sdist

OPS = '''"""Arithmetic helpers."""


def add(a, b):
    return a + b


def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x


def mean(values):
    total = 0
    for value in values:
        total += value
    return total / len(values)
'''
UNUSED = """def shout(text):
    if text.endswith("!"):
        return text.upper()
    return text.upper() + "!"
"""
TEST_OPS = """import pytest

from calc import add, clamp, mean


@pytest.mark.parametrize("a, b", [(1, 2), (0, 0), (-3, 5), (10, -4)])
def test_add(a, b):
    assert add(a, b) == a + b


@pytest.mark.parametrize("x", [-5, 0, 3, 7, 12])
def test_clamp(x):
    assert clamp(x, 0, 7) == min(max(x, 0), 7)


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5
    assert mean([5]) == 5


def test_mean_of_negatives():
    assert mean([-2, -4]) == -3


def test_excluded():
    import os

    os._exit(3)  # if it ran, the whole job would end here
"""
TEST_MISC = """from calc import add


def test_wrong():
    assert add(2, 2) == 5


def test_hash_order():
    return list({"alpha", "beta", "gamma", "delta", "epsilon"})


def test_expiry():
    from datetime import datetime, timezone

    return int(datetime.now(tz=timezone.utc).timestamp()) + 15  # a token's expiry, to the second


class TestSpeed:
    def test_fast_enough(self):
        import time

        start = time.perf_counter()
        assert add(1, 1) == 2
        assert time.perf_counter() - start < 60
"""
FILES = {
    "src/calc/__init__.py": "from calc.ops import add, clamp, mean\n",
    "src/calc/ops.py": OPS,
    "src/calc/unused.py": UNUSED,
    "tests/test_ops.py": TEST_OPS,
    "tests/test_misc.py": TEST_MISC,
}


def sdist(name: str) -> bytes:
    return make_sdist({f"{name}-1.0/{path}": text.encode() for path, text in FILES.items()})


def project(name: str = "calc", split: str = "train") -> Project:
    return Project(
        name=name,
        version="1.0",
        licence="MIT",
        sdist_url=f"https://files.example.invalid/{name}-1.0.tar.gz",
        sha256=hashlib.sha256(sdist(name)).hexdigest(),
        package_dir="src/calc",
        test_paths=("tests",),
        excluded_tests=(ExcludedTest("tests/test_ops.py::test_excluded", "ends the process"),),
        split=split,  # type: ignore[arg-type]
        attribution="Copyright (c) 2026 Calc",
        homepage="https://example.invalid/calc",
    )


@pytest.fixture(scope="module")
def built(executors: tuple[Executor, Executor]) -> ProjectBuild:
    return ProjectBuilder(executors, seed=7, threads=2).build(project(), Workspace(FILES))


def test_the_baseline_keeps_steady_passing_tests_and_never_runs_excluded_ones(
    executors: tuple[Executor, Executor],
) -> None:
    baseline = run_baseline(Layout.of(project()), FILES, executors, threads=2)
    assert baseline.by_file == {
        "tests/test_ops.py": (
            *(f"tests/test_ops.py::test_add[{p}]" for p in ("1-2", "0-0", "-3-5", "10--4")),
            *(f"tests/test_ops.py::test_clamp[{x}]" for x in (-5, 0, 3, 7, 12)),
            "tests/test_ops.py::test_mean",
            "tests/test_ops.py::test_mean_of_negatives",
        )
    }
    # test_wrong fails; the set's order changes with the hash seed, the expiry with the second
    # (the two runs are over a second apart); test_excluded is skipped; test_fast_enough reads
    # a timer
    assert baseline.dropped == {"failing": 1, "unsteady": 2, "excluded": 1, "timed": 1}
    assert baseline.problems == {"tests/test_misc.py": "no test passes"}


def test_a_mutant_that_no_test_catches_is_dropped(
    executors: tuple[Executor, Executor], built: ProjectBuild
) -> None:
    layout = Layout.of(project())
    snapshot = Workspace(FILES)
    baseline = run_baseline(layout, FILES, executors, threads=2)
    unused = [
        m for m in sample_mutants(layout, FILES, "calc", 7) if m.module == "src/calc/unused.py"
    ]
    assert unused
    builder = ProjectBuilder(executors, seed=7)
    for mutant in unused:
        assert builder.judge(mutant, layout, snapshot, baseline).outcome == "survived"
    assert built.tasks
    assert all(t.issues[0].path == "src/calc/ops.py" for t in built.tasks if t.issues)
    assert built.mutants["survived"] >= len(unused)


def test_a_kept_task_grades_as_the_environment_will(
    executors: tuple[Executor, Executor], built: ProjectBuild
) -> None:
    base = Workspace(FILES)
    reports = [t for t in built.tasks if t.info.setting is TaskSetting.REPOSITORY]
    assert reports
    for task in reports:
        task.check(base)
        assert task.info.kinds == (TaskKind.REVIEW, TaskKind.REPAIR)
        assert task.id.startswith("repo-calc-") and task.info.source == "repo:calc"
        assert task.roots == ("src",) and task.test_paths == ("tests",)
        f2p, hidden = set(task.fail_to_pass), set(task.hidden_tests)
        assert len(f2p) >= 2 and f2p <= hidden and len(hidden - f2p) <= 10
        shown_failing = set(task.visible_tests) & f2p
        assert 1 <= len(shown_failing) < len(f2p)
        assert "tests/test_ops.py::test_excluded" not in hidden | set(task.visible_tests)
        issue = task.issues[0]
        changed = changed_lines(task.start)[issue.path]
        assert changed and all(issue.start_line <= n <= issue.end_line for n in changed)
        assert task.reference_tree(base) == base

        start, fixed = task.start_tree(base), task.reference_tree(base)
        reference = run(executors[0], task, fixed, task.hidden_tests)
        original = run(executors[0], task, start, task.hidden_tests)
        verdicts = grade_suite(Suite.HIDDEN, original, reference, original).verdicts
        assert {v.name for v in verdicts if v.kind is VerdictKind.FAIL_TO_PASS} == f2p
        assert {v.name for v in verdicts if not v.passed} == f2p  # the start tree fails them
        graded = grade_suite(Suite.HIDDEN, reference, reference, original)
        assert all(v.passed for v in graded.verdicts)
        visible = run(executors[0], task, start, task.visible_tests)
        assert {o.name for o in visible.outcomes} == set(task.visible_tests)


def run(executor: Executor, task: RepoTask, tree: Workspace, ids: tuple[str, ...]) -> ExecReport:
    """``ids`` of ``task`` run on ``tree`` as the environment runs them."""
    return executor.run(Job.of_repo(task, Workspace(FILES), tree, ids, Limits()))


def test_the_build_is_reproducible_and_a_test_project_stays_out_of_train(
    executors: tuple[Executor, Executor], tmp_path: Path
) -> None:
    projects = [project("calc"), project("calc-held", split="test")]
    cache = tmp_path / "cache"
    for p in projects:  # the sdist cache is filled: nothing is fetched
        (cache / p.sha256).mkdir(parents=True)
        (cache / p.sha256 / p.sdist_filename).write_bytes(sdist(p.name))
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        result = build_repos(out, projects, 3, cache, max_per_project=2, executors=executors,
                             threads=2, index_url="http://127.0.0.1:9/")  # fmt: skip
        assert not result.failed and result.tasks >= 4  # 2 a project, and clean pull requests
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert [str(f) for f in files] == [
        "manifest.json",
        "snapshots/calc-1.0.json.gz",
        "snapshots/calc-held-1.0.json.gz",
        "test.jsonl.gz",
        "train.jsonl.gz",
    ]
    for name in files:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    # one project at a time, each an update of the store: the same bytes as one build
    apart = tmp_path / "apart"
    for p in (projects[1], projects[0], projects[1]):  # the last rebuilds one already there
        build_repos(apart, [p], 3, cache, max_per_project=2, executors=executors, threads=2,
                    index_url="http://127.0.0.1:9/", update=True)  # fmt: skip
    assert sorted(p.relative_to(apart) for p in apart.rglob("*") if p.is_file()) == files
    for name in files:
        assert (apart / name).read_bytes() == (outs[0] / name).read_bytes(), name
    # each project built into its own store (as parallel builds would), then merged: same bytes
    parts = [tmp_path / p.name for p in projects]
    for part, p in zip(parts, projects, strict=True):
        build_repos(part, [p], 3, cache, max_per_project=2, executors=executors, threads=2,
                    index_url="http://127.0.0.1:9/")  # fmt: skip
    merged = tmp_path / "merged"
    assert main(["generate", "--repos", "--merge", ",".join(map(str, parts)), "--out",
                 str(merged)]) == 0  # fmt: skip
    for name in files:
        assert (merged / name).read_bytes() == (outs[0] / name).read_bytes(), name
    with pytest.raises(ValueError, match="is in both"):
        merge_stores(tmp_path / "twice", [parts[0], apart])
    # a project built by an older generator stays, and says so, when another is rebuilt
    manifest = json.loads((apart / "manifest.json").read_text())
    manifest["projects"]["calc-held"]["generator_version"] = "0.0.1"
    (apart / "manifest.json").write_text(json.dumps(manifest))
    build_repos(apart, [projects[0]], 3, cache, max_per_project=2, executors=executors,
                threads=2, index_url="http://127.0.0.1:9/", update=True)  # fmt: skip
    entries = json.loads((apart / "manifest.json").read_text())["projects"]
    assert [entries[p.name]["generator_version"] for p in projects] == [GENERATOR_VERSION, "0.0.1"]
    with pytest.raises(ValueError, match="seed 3 \\(this build: 4\\)"):
        build_repos(apart, [projects[0]], 4, cache, max_per_project=2, executors=executors,
                    update=True)  # fmt: skip
    store = RepoStore(outs[0])
    assert {t.project.name for t in store.tasks("train")} == {"calc"}
    assert {t.project.name for t in store.tasks("test")} == {"calc-held"}
    for task in store.tasks("train") + store.tasks("test"):
        task.check(store.snapshot(task.snapshot))
        assert task.info.split == ("test" if task.project.name == "calc-held" else "train")


def test_another_seed_gives_other_mutants() -> None:
    layout = Layout.of(project())
    keys = [[m.key for m in sample_mutants(layout, FILES, "calc", seed)] for seed in (1, 1, 2)]
    assert keys[0] == keys[1] != keys[2]
    moved = replace(project(), name="other")
    assert [m.key for m in sample_mutants(Layout.of(moved), FILES, "other", 1)] != keys[0]


def test_a_big_kill_check_runs_the_tests_that_name_the_function_first(
    executors: tuple[Executor, Executor], monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Layout.of(project())
    baseline = run_baseline(layout, FILES, executors, threads=2)
    mean = next(m for m in sample_mutants(layout, FILES, "calc", 7) if m.function == "mean")
    monkeypatch.setattr(mutants, "MAX_KILL_TESTS", 3)  # fewer than the module's 11 tests
    tests, tier = mutants.candidate_tests(
        mean.module, mean.names, baseline, FILES, random.Random(0)
    )
    assert tier == "function" and len(tests) == 3
    named = {"tests/test_ops.py::test_mean", "tests/test_ops.py::test_mean_of_negatives"}
    assert named < set(tests)


@pytest.fixture(scope="module")
def pull_requests(executors: tuple[Executor, Executor]) -> ProjectBuild:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "PR_SHARE", 1.0)  # every killed mutant is drawn for a pull request
        return ProjectBuilder(executors, seed=7, threads=2).build(project(), Workspace(FILES))


def test_pull_requests_hide_whether_they_are_clean_and_grade_as_the_environment_will(
    executors: tuple[Executor, Executor], pull_requests: ProjectBuild
) -> None:
    base = Workspace(FILES)
    tasks = [t for t in pull_requests.tasks if t.info.setting is TaskSetting.PULL_REQUEST]
    planted = [t for t in tasks if t.issues]
    clean = [t for t in tasks if not t.issues]
    assert planted and clean and pull_requests.pull_requests["planted"] == len(planted)
    assert len(clean) == max(1, round(len(planted) * build.CLEAN_PER_PLANTED))
    for task in tasks:
        task.check(base)
        assert task.id.startswith("pr-calc-") and task.pull_request is not None
        start = task.start_tree(base)
        assert start != base and task.pull_request.diff == task.start
        # nothing public tells a clean pull request from a planted one
        assert task.info.num_issues == 0 and task.info.categories == ()
        assert task.info.kinds in ((TaskKind.REVIEW,), (TaskKind.REVIEW, TaskKind.REPAIR))
        words = task.instructions.split("You can run")[0]
        assert words == tasks[0].instructions.split("You can run")[0]
        reference = run(executors[0], task, task.reference_tree(base), task.hidden_tests)
        assert reference.outcomes and all(o.status == "returned" for o in reference.outcomes)
        visible = run(executors[0], task, start, task.visible_tests)
        if TaskKind.REPAIR not in task.info.kinds:  # a review's runnable tests pass on the head
            assert not set(task.fail_to_pass) & set(task.visible_tests)
            assert {o.name for o in visible.outcomes} == set(task.visible_tests)
    for task in clean:
        assert task.fix == "" and task.info.kinds == (TaskKind.REVIEW,) and not task.fail_to_pass
    for task in planted:
        issue = task.issues[0]
        head = changed_lines(task.start)[issue.path]
        assert all(n in head for n in range(issue.start_line, issue.end_line + 1))
        fixed = task.reference_tree(base)
        assert fixed != base  # the fix reverts the planted lines, not the benign changes
        assert set(changed_lines(task.fix)) == {issue.path}
        original = run(executors[0], task, task.start_tree(base), task.hidden_tests)
        reference = run(executors[0], task, fixed, task.hidden_tests)
        verdicts = grade_suite(Suite.HIDDEN, original, reference, original).verdicts
        assert {v.name for v in verdicts if not v.passed} == set(task.fail_to_pass)


def test_a_test_that_times_through_helpers_is_marked_however_indirect() -> None:
    files = {
        "tests/perf.py": (
            "import time\n\n\ndef _measure(op):\n    start = time.perf_counter()\n    op()\n"
            "    return time.perf_counter() - start\n\n\n"
            "def near_linear(op):\n    assert _measure(op) < 1.0\n"
        ),
        "tests/test_x.py": (
            "from tests.perf import near_linear\n\n\n"
            "def test_fast():\n    near_linear(lambda: None)\n\n\n"
            "def test_plain():\n    assert linear_search([1], 1) == 0\n"
        ),
        "tests/data.txt": "def not_code(): time.time()",
    }
    timed = timing_pattern(files)
    code = definitions(files["tests/test_x.py"])
    assert timed.search(code["test_fast"])
    assert not timed.search(code["test_plain"])  # "linear_search" is not "near_linear"
    assert timing_pattern({"tests/test_y.py": "def test_y():\n    pass\n"}).search("x") is None


def test_tests_parametrized_over_a_set_are_found() -> None:
    source = (
        "import pytest\n\nCASES = {(1, None), (2, 'b')}\nLIST = [1, 2]\n\n\n"
        "@pytest.mark.parametrize('n, x', CASES)\ndef test_cases(n, x):\n    pass\n\n\n"
        "@pytest.mark.parametrize('n', LIST)\ndef test_list(n):\n    pass\n\n\n"
        "class TestIt:\n    @pytest.mark.parametrize(argnames='x', argvalues=set('ab'))\n"
        "    def test_letters(self, x):\n        pass\n\n\n"
        "@pytest.mark.parametrize('x', {y for y in 'ab'})\nclass TestAll:\n"
        "    def test_one(self, x):\n        pass\n"
    )
    assert set_params(source) == {"test_cases", "TestIt.test_letters", "TestAll"}


def test_no_shipped_repository_task_grades_with_a_flaky_kind_of_test() -> None:
    """None reads a clock (it passes or not with the load) or is parametrized over a set (its
    id changes from one process to the next): the rule the baseline applies, suite.cannot_grade."""
    store = RepoStore(default_dir())
    timed: dict[str, tuple[re.Pattern[str], Workspace]] = {}
    offenders = []
    for split in store.splits():
        for task in store.tasks(split):
            if task.snapshot not in timed:
                tree = store.snapshot(task.snapshot)
                files = {p: text for p, text in tree.items() if task.is_test_file(p)}
                timed[task.snapshot] = (timing_pattern(files), tree)
            pattern, tree = timed[task.snapshot]
            for test in {*task.visible_tests, *task.hidden_tests}:
                if cannot_grade(test, tree[test.split("::", 1)[0]], pattern):
                    offenders.append(f"{task.id}: {test}")
    assert len(timed) >= 8
    assert not offenders, offenders[:5]
