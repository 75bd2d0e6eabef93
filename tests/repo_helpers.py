"""A small project to build repository tasks from, shared by the tests of repository episodes,
agents and the eval CLI: ``calc`` (two modules and their tests), tasks planted in it (``add``
subtracts; ``mean`` of nothing is 0), two pull requests to review (one clean, one with a bug
among benign changes), and a store of tasks under a directory."""

from __future__ import annotations

from pathlib import Path

from python_env.tasks.patches import unified_diff
from python_env.tasks.repo_store import RepoStore
from python_env.tasks.repo_task import ProjectRef, PullRequest, RepoIssue, RepoTask
from python_env.tasks.workspace import Workspace
from python_env.types import Category, Difficulty, Severity, TaskInfo, TaskKind, TaskSetting

OPS = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
STATS = (
    "from calc.ops import add\n\n\ndef mean(xs):\n    total = 0\n    for x in xs:\n"
    "        total = add(total, x)\n    return total / len(xs)\n"
)
BASE = {
    "README.md": "# calc\n",
    "src/calc/__init__.py": "from calc.ops import add, mul\nfrom calc.stats import mean\n",
    "src/calc/ops.py": OPS,
    "src/calc/stats.py": STATS,
    "tests/__init__.py": "",
    "tests/test_ops.py": (
        "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_mul():\n    assert mul(2, 3) == 6\n"
    ),
    "tests/test_stats.py": (
        "import pytest\nfrom calc import mean\n\n\ndef test_mean():\n"
        "    assert mean([1, 2, 3]) == 2\n\n\ndef test_mean_empty():\n"
        "    with pytest.raises(ZeroDivisionError):\n        mean([])\n"
    ),
}
ADD, MUL = "tests/test_ops.py::test_add", "tests/test_ops.py::test_mul"
MEAN, EMPTY = "tests/test_stats.py::test_mean", "tests/test_stats.py::test_mean_empty"
PROJECT = ProjectRef(name="calc", version="1.0", licence="MIT", attribution="(c) calc",
                     url="https://example.invalid/calc-1.0.tar.gz")  # fmt: skip
ISSUE = RepoIssue(id="add-sign", path="src/calc/ops.py", start_line=2, end_line=2,
                  category=Category.BUG, severity=Severity.HIGH,
                  explanation="add subtracts: a - b instead of a + b")  # fmt: skip
OPS_PY = "src/calc/ops.py"
ESCAPE = "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n"
GOOD = {"path": OPS_PY, "start_line": 2, "end_line": 2, "category": "bug",
        "severity": "high", "message": "add subtracts its arguments"}  # fmt: skip


def repo_task(
    task_id: str, split: str, mutant: dict[str, str], kinds: tuple[TaskKind, ...], **extra: object
) -> RepoTask:
    """A task on calc whose start tree is calc with ``mutant``'s files, fixed by undoing them;
    ``extra`` sets other fields (``issues``, ``max_steps``, ``visible_tests``, ...)."""
    base = Workspace(BASE)
    start = base.updated(mutant)
    fields: dict[str, object] = {
        "visible_tests": (ADD, MUL), "hidden_tests": (ADD, MUL, MEAN, EMPTY), "issues": (),
        "max_steps": 30, **extra,
    }  # fmt: skip
    issues = fields.pop("issues")
    assert isinstance(issues, tuple)
    info = TaskInfo(
        id=task_id, title=f"calc: {task_id}", kinds=kinds, difficulty=Difficulty.EASY,
        split=split, source="repos", categories=tuple({i.category for i in issues}),
        num_issues=len(issues), max_steps=fields.pop("max_steps"),
        setting=TaskSetting.PULL_REQUEST if "pull_request" in fields else TaskSetting.REPOSITORY,
    )  # fmt: skip
    return RepoTask.model_validate({
        "info": info, "instructions": "Find and fix the bug of calc.", "project": PROJECT,
        "snapshot": base.digest(), "start": unified_diff(base, start),
        "fix": unified_diff(start, base), "roots": ("src",), "test_paths": ("tests",),
        "issues": issues, **fields,
    })  # fmt: skip


SIGN = repo_task(
    "calc-add-sign", "train", {"src/calc/ops.py": OPS.replace("a + b", "a - b")},
    (TaskKind.REVIEW, TaskKind.REPAIR), issues=(ISSUE,),
    pull_request=PullRequest(title="Simpler add", description="Tidies add.", diff="(see tree)"),
)  # fmt: skip
EMPTY_MEAN = repo_task(
    "calc-mean-empty", "test", {"src/calc/stats.py": STATS.replace("len(xs)", "max(len(xs), 1)")},
    (TaskKind.REPAIR,), visible_tests=(MEAN,), max_steps=3,
)  # fmt: skip
CLEAN = repo_task("calc-nothing-broken", "train", {}, (TaskKind.REPAIR,))


def build_store(root: Path, tasks: tuple[RepoTask, ...] = (SIGN, EMPTY_MEAN)) -> RepoStore:
    """A store under ``root`` holding calc's snapshot and ``tasks`` in their splits."""
    store = RepoStore(root)
    assert store.write_snapshot(PROJECT, Workspace(BASE)) == SIGN.snapshot
    for split in sorted({t.info.split for t in tasks}):
        store.write_tasks(split, [t for t in tasks if t.info.split == split])
    return store


EVAL_OPS = OPS.replace("return a + b", 'return eval(f"{a} + {b}")')
EVAL_ISSUE = RepoIssue(id="add-eval", path=OPS_PY, start_line=2, end_line=2,
                       category=Category.SECURITY, severity=Severity.HIGH, rule_id="S307",
                       explanation="add evaluates text built from its arguments")  # fmt: skip
EVAL_PR = repo_task(
    "calc-add-eval", "train", {OPS_PY: EVAL_OPS}, (TaskKind.REVIEW,), issues=(EVAL_ISSUE,),
    pull_request=PullRequest(
        title="add: accept numbers given as text", description="add goes through eval.",
        diff=unified_diff(Workspace(BASE), Workspace(BASE).updated({OPS_PY: EVAL_OPS})),
    ),
)  # fmt: skip

# Pull-request review tasks, as the generator emits them (split "review": seeded picks of the
# train and test splits stay what they were). Both PRs add docstrings to ops.py and rename a
# variable of stats.py; the planted one also turns add's + into - (line 3 of the head's ops.py).
DOCUMENTED_OPS = (
    'def add(a, b):\n    """The sum of a and b."""\n    return a + b\n\n\n'
    'def mul(a, b):\n    """The product of a and b."""\n    return a * b\n'
)
RENAMED_STATS = STATS.replace("total", "acc")
STATS_PY = "src/calc/stats.py"
PLANTED_HEAD = {OPS_PY: DOCUMENTED_OPS.replace("a + b", "a - b"), STATS_PY: RENAMED_STATS}
CLEAN_HEAD = {OPS_PY: DOCUMENTED_OPS, STATS_PY: RENAMED_STATS}
PR_ISSUE = RepoIssue(id="add-sign", path=OPS_PY, start_line=3, end_line=3,
                     category=Category.BUG, severity=Severity.HIGH,
                     explanation="the pull request turns add's + into -")  # fmt: skip
PR_FINDING = {**GOOD, "start_line": 3, "end_line": 3}  # the planted line of the head


def _pull_request(title: str, head: dict[str, str]) -> PullRequest:
    diff = unified_diff(Workspace(BASE), Workspace(BASE).updated(head))
    return PullRequest(title=title, description="Docstrings for ops; clearer names in stats.",
                       diff=diff)  # fmt: skip


PR_INSTRUCTIONS = "Review the pull request to calc: approve it, or report and fix its problem."
PLANTED_PR = repo_task(
    "calc-pr-planted", "review", PLANTED_HEAD, (TaskKind.REVIEW, TaskKind.REPAIR),
    instructions=PR_INSTRUCTIONS,
    issues=(PR_ISSUE,), fail_to_pass=(ADD, MEAN),
    fix=unified_diff(Workspace(BASE).updated(PLANTED_HEAD), Workspace(BASE).updated(CLEAN_HEAD)),
    pull_request=_pull_request("Document ops, rename in stats", PLANTED_HEAD),
)  # fmt: skip
CLEAN_PR = repo_task(
    "calc-pr-clean", "review", CLEAN_HEAD, (TaskKind.REVIEW,), fix="", instructions=PR_INSTRUCTIONS,
    pull_request=_pull_request("Document ops, rename in stats (clean)", CLEAN_HEAD),
)  # fmt: skip
