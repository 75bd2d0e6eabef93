"""Repository jobs: a project tree written for the candidate, the project's tests run by pytest
from the server's trusted copies. Then the attacks a many-file candidate can try: planting test
files, conftests or modules, shadowing the tests at import time, links and paths that leave the
job directory. Each attack pairs a wrong fix with a trick and must still score 0."""

from __future__ import annotations

from python_env.grading.tests import grade_suite, repair_score
from python_env.sandbox import ForkServerExecutor, Job
from python_env.types import ExecReport, ExitReason, Suite

GOOD = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
BAD = GOOD.replace("a + b", "a - b")
PROJECT = {"src/calc/__init__.py": "from calc.ops import add, mul\n", "README.md": "# calc\n"}
TESTS = {
    "tests/__init__.py": "",
    "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef two():\n    return 2\n",
    "tests/helpers.py": "from calc import mul\n\ndef square(x):\n    return mul(x, x)\n",
    "tests/test_ops.py": (
        "import pytest\nfrom calc import add\nfrom tests.helpers import square\n\n"
        "def test_add(two):\n    assert add(two, 3) == 5\n\n"
        "@pytest.mark.parametrize('x', [1, 3])\n"
        "def test_square(x):\n    assert square(x) == x * x\n"
    ),
    "tests/unit/test_more.py": "from calc import add\n\ndef test_zero():\n    assert add(0, 4)\n",
    "tests/unit/conftest.py": "import pytest\n\n@pytest.fixture\ndef two():\n    return 'two'\n",
    "tests/data/expected.txt": "5\n",
}
IDS = [
    "tests/test_ops.py::test_add",
    "tests/test_ops.py::test_square[1]",
    "tests/test_ops.py::test_square[3]",
    "tests/unit/test_more.py::test_zero",
]


def run(executor: ForkServerExecutor, ops: str, extra: dict[str, str] | None = None,
        select: tuple[str, ...] = ()) -> ExecReport:  # fmt: skip
    files = {**PROJECT, "src/calc/ops.py": ops, **(extra or {})}
    job = Job(solution="", tests="", files=tuple(files.items()), trusted=tuple(TESTS.items()),
              roots=("src",), select=select)  # fmt: skip
    return executor.run(job)


def score(executor: ForkServerExecutor, candidate: ExecReport) -> float:
    reference, original = run(executor, GOOD), run(executor, BAD)
    return repair_score(grade_suite(Suite.HIDDEN, candidate, reference, original)).score


def test_a_project_runs_under_pytest_with_its_conftests_and_helpers(
    executor: ForkServerExecutor,
) -> None:
    report = run(executor, GOOD)
    assert report.exit_reason is ExitReason.OK, report.error or report.stderr
    assert [o.name for o in report.outcomes] == IDS
    assert all(o.status.value == "returned" for o in report.outcomes), report.outcomes
    # tests/conftest.py's fixture, not the one of tests/unit/conftest.py (scoped to unit/)
    assert report.outcomes[0].value == {"checks": [[6, [5]]], "returned": None}
    assert score(executor, report) == 1.0
    assert score(executor, run(executor, BAD)) == 0.0


def test_a_raised_test_says_where_in_the_project_and_its_tests(
    executor: ForkServerExecutor,
) -> None:
    report = run(executor, GOOD.replace("return a + b", "return {}[a]"), select=(IDS[0],))
    (outcome,) = report.outcomes
    assert outcome.status.value == "raised" and outcome.value == "KeyError"
    # innermost first; pytest's and the harness's own frames are left out
    assert outcome.message == (
        "KeyError: 2 (raised at src/calc/ops.py:2 in add, from tests/test_ops.py:6 in test_add)"
    )
    deep = "def add(a, b):\n    return add(a, b)\n\n\ndef mul(a, b):\n    return a * b\n"
    (outcome,) = run(executor, deep, select=(IDS[0],)).outcomes
    assert outcome.value == "RecursionError" and outcome.message.endswith(
        " (raised at src/calc/ops.py:2 in add, from src/calc/ops.py:2 in add,"
        " from src/calc/ops.py:2 in add)"
    )  # the innermost frames, however deep
    gone = (  # the code under test removes the directory it runs in, then raises
        "import os, tempfile\n\ndef add(a, b):\n    d = tempfile.mkdtemp()\n    os.chdir(d)\n"
        "    os.rmdir(d)\n    raise ValueError(a)\n\n\ndef mul(a, b):\n    return a * b\n"
    )
    (outcome,) = run(executor, gone, select=(IDS[0],)).outcomes
    assert outcome.value == "ValueError" and outcome.message.startswith("ValueError: 2 (raised at")


def test_a_selection_runs_only_those_tests(executor: ForkServerExecutor) -> None:
    report = run(executor, GOOD, select=(IDS[2], IDS[3]))
    assert [o.name for o in report.outcomes] == [IDS[2], IDS[3]]


def test_the_candidates_own_test_files_and_conftests_are_never_run(
    executor: ForkServerExecutor,
) -> None:
    planted = {
        "tests/test_ops.py": "def test_add():\n    pass\n",
        "tests/conftest.py": "import pytest\n@pytest.fixture\ndef two():\n    return 8\n",
        "conftest.py": "raise SystemExit('a conftest of the candidate ran')\n",
        "tests/test_extra.py": "def test_extra():\n    pass\n",
        "pytest.ini": "[pytest]\naddopts = -p no:python\n",
    }
    report = run(executor, BAD, planted)
    assert [o.name for o in report.outcomes] == IDS
    assert score(executor, report) == 0.0


def test_shadowing_the_tests_at_import_time(executor: ForkServerExecutor) -> None:
    """The package's import runs before the tests' modules load: it rewrites them on disk,
    drops the trusted finder and plants a fake test module; the trusted copies still run."""
    trick = (
        "import os, sys, types\n"
        "root = os.getcwd()\n"
        "os.makedirs(os.path.join(root, 'tests', 'unit'), exist_ok=True)\n"
        "for p in ('tests/test_ops.py', 'tests/unit/test_more.py', 'tests/helpers.py'):\n"
        "    with open(os.path.join(root, p), 'w') as f:\n"
        "        f.write('def test_add():\\n    pass\\ndef square(x):\\n    return x * x\\n')\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'Trusted' not in type(f).__name__]\n"
        "fake = types.ModuleType('tests.unit.test_more')\n"
        "fake.test_zero = lambda: None\n"
        "sys.modules['tests.unit.test_more'] = fake\n"
    )
    report = run(executor, BAD, {"src/calc/__init__.py": trick + PROJECT["src/calc/__init__.py"]})
    assert [o.name for o in report.outcomes] == IDS
    assert score(executor, report) == 0.0


def test_paths_that_leave_the_job_directory_are_refused(executor: ForkServerExecutor) -> None:
    for path in ("../escape.py", "/tmp/escape.py", "src/../../escape.py", "a//b.py", "a\\b.py"):
        report = run(executor, GOOD, {path: "x = 1\n"})
        assert report.exit_reason is ExitReason.OK
        assert not report.outcomes
        assert "UnsafePath" in report.error, (path, report.error)


def test_a_link_planted_by_module_code_is_not_followed_by_the_next_job(
    executor: ForkServerExecutor,
) -> None:
    """A job that leaves a symlink where the next job writes its tree: the next job's tree is
    written into a fresh directory, never through the link."""
    trick = (
        "import os\n"
        "try:\n    os.symlink('/etc', os.path.join(os.getcwd(), 'src', 'etc-link'))\n"
        "except OSError:\n    pass\n"
    )
    run(executor, GOOD, {"src/calc/ops.py": GOOD + trick})
    report = run(executor, GOOD, {"src/etc-link/passwd": "owned\n"})
    assert report.exit_reason is ExitReason.OK
    assert [o.name for o in report.outcomes] == IDS
