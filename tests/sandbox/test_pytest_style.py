"""pytest-style jobs: real pytest in the forked child, on every tier this host runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest

from python_env.errors import SandboxError
from python_env.sandbox import ForkServerExecutor, Job, checks
from python_env.types import ExecReport, TestStatus, TestStyle

SHOP = (
    "class Cart:\n    def __init__(self):\n        self.items = []\n"
    "    def add(self, name, price):\n"
    "        if price < 0:\n            raise ValueError(f'negative price for {name}')\n"
    "        self.items.append((name, price))\n"
    "    def total(self):\n        return sum(p for _, p in self.items)\n"
)
CONFTEST = (
    "import pytest\nfrom shop import Cart\n"
    "@pytest.fixture\ndef cart():\n    c = Cart()\n    yield c\n    c.items.clear()\n"
)
TESTS = """\
import pytest
from shop import Cart

@pytest.fixture
def receipt(tmp_path):
    path = tmp_path / "receipt.txt"
    path.write_text("paid")
    yield path
    path.unlink()

@pytest.mark.parametrize(("price", "count"), [(1.5, 2), (0.1, 3)])
def test_total(cart, price, count):
    for _ in range(count):
        cart.add("x", price)
    assert cart.total() == pytest.approx(price * count)

def test_receipt(receipt):
    assert receipt.read_text() == "paid"
    assert receipt.parent.name.startswith("test_receipt")

def test_negative(cart):
    with pytest.raises(ValueError, match="negative price"):
        cart.add("x", -1)

@pytest.mark.skip(reason="not today")
def test_skipped():
    assert False

def test_where(tmp_path):
    import os
    return str(tmp_path).startswith(os.getcwd())

class TestCart:
    def test_empty(self, cart):
        assert cart.total() == 0

    def test_cents(self, cart):
        for _ in range(3):
            cart.add("gum", 0.1)
        assert cart.total() == pytest.approx(0.3)
"""


def _run(executor: ForkServerExecutor, solution: str = SHOP, tests: str = TESTS) -> ExecReport:
    job = Job(
        solution=solution,
        tests=tests,
        style=TestStyle.PYTEST,
        conftest=CONFTEST,
        module="shop",
        file="hidden_tests.py",
    )
    return executor.run(job)


def test_a_pytest_suite_runs_with_fixtures_params_raises_approx_and_skips(
    executor: ForkServerExecutor,
) -> None:
    report = _run(executor)
    assert report.exit_reason.value == "ok", report.error
    status = {o.name: o.status for o in report.outcomes}
    assert status == {
        "hidden_tests.py::test_total[1.5-2]": TestStatus.RETURNED,
        "hidden_tests.py::test_total[0.1-3]": TestStatus.RETURNED,
        "hidden_tests.py::test_receipt": TestStatus.RETURNED,
        "hidden_tests.py::test_negative": TestStatus.RETURNED,
        "hidden_tests.py::test_skipped": TestStatus.SKIPPED,
        "hidden_tests.py::test_where": TestStatus.RETURNED,
        "hidden_tests.py::TestCart::test_empty": TestStatus.RETURNED,
        "hidden_tests.py::TestCart::test_cents": TestStatus.RETURNED,
    }
    values = {o.name: o.value for o in report.outcomes}
    assert values["hidden_tests.py::test_where"] is True  # tmp_path is inside the job's dir
    assert values["hidden_tests.py::test_receipt"]["checks"][0] == [18, ["paid"]]
    approx = values["hidden_tests.py::TestCart::test_cents"]["checks"]
    assert approx == [[40, 0.3, {"rel": 1e-6, "abs": 1e-12}]]  # 0.3 itself never entered


def test_a_wrong_candidate_fails_where_pytest_would(executor: ForkServerExecutor) -> None:
    wrong = SHOP.replace("if price < 0", "if price < -10").replace("sum(p ", "sum(round(p) ")
    report = _run(executor, solution=wrong)
    by_name = {o.name: o for o in report.outcomes}
    assert by_name["hidden_tests.py::test_negative"].status is TestStatus.RAISED
    assert by_name["hidden_tests.py::test_negative"].value == "Failed"  # DID NOT RAISE
    reference = {o.name: o for o in _run(executor).outcomes}
    assert not by_name["hidden_tests.py::test_total[0.1-3]"].same_as(
        reference["hidden_tests.py::test_total[0.1-3]"]
    )
    assert by_name["hidden_tests.py::TestCart::test_empty"].same_as(
        reference["hidden_tests.py::TestCart::test_empty"]
    )


def test_dropped_conftest_ini_and_options_are_never_loaded(executor: ForkServerExecutor) -> None:
    """The candidate writes a conftest, an ini file and PYTEST_ADDOPTS at import: the session
    was configured before its code ran, and nothing of it is read."""
    evil = (
        "import os\n"
        "os.environ['PYTEST_ADDOPTS'] = '-p evil'\n"
        "for name in ('conftest.py', 'pytest.ini', 'evil.py'):\n"
        "    with open(name, 'w') as f:\n"
        "        f.write('[pytest]\\naddopts = -x\\n' if name.endswith('ini') else\n"
        "                'import pytest\\n@pytest.fixture(autouse=True)\\n'\n"
        "                'def boom():\\n    raise RuntimeError(\"loaded\")\\n')\n" + SHOP
    )
    report = _run(executor, solution=evil)
    assert report.exit_reason.value == "ok", report.error
    assert all("loaded" not in o.message for o in report.outcomes)
    assert len([o for o in report.outcomes if o.status is TestStatus.RETURNED]) == 7


def test_an_import_error_is_the_job_error(executor: ForkServerExecutor) -> None:
    report = _run(executor, solution="raise ImportError('no shop today')\n")
    assert report.outcomes == ()
    assert "no shop today" in report.error


def test_return_style_tests_keep_working_under_pytest(executor: ForkServerExecutor) -> None:
    tests = "from shop import Cart\ndef test_total():\n    c = Cart()\n    c.add('a', 2)\n"
    tests += "    return c.total()\n"
    report = _run(executor, tests=tests)
    assert [(o.name, o.value) for o in report.outcomes] == [("hidden_tests.py::test_total", 2)]


UNITTEST = """\
import unittest
import pytest
from shop import Cart

class CartCase(unittest.TestCase):
    def test_assert_equal(self):
        self.assertEqual(Cart().total(), 1)

    def test_raises(self):
        Cart().add("x", -1)

    def test_passes(self):
        self.assertEqual(Cart().total(), 0)

    @unittest.skip("not today")
    def test_skip(self):
        self.fail("ran")

    @unittest.expectedFailure
    def test_expected(self):
        self.fail("as expected")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

def test_many_frames():
    def down(n):
        return down(n - 1) if n else Cart().add("x", -1)
    down(40)
"""


def test_failures_of_every_style_are_the_outcomes_pytest_would_give(
    executor: ForkServerExecutor,
) -> None:
    """The runner makes pytest's phase reports itself, without formatting tracebacks; unittest
    moves a TestCase failure into the call info only in its own hook: it is still the test's
    outcome, as are expected failures, skips and a failure many frames deep."""
    report = _run(executor, tests=UNITTEST)
    assert report.exit_reason.value == "ok", report.error
    by_name = {o.name.rsplit("::", 1)[-1]: o for o in report.outcomes}
    assert {n: o.status for n, o in by_name.items()} == {
        "test_assert_equal": TestStatus.RAISED,
        "test_raises": TestStatus.RAISED,
        "test_passes": TestStatus.RETURNED,
        "test_skip": TestStatus.SKIPPED,
        "test_expected": TestStatus.SKIPPED,  # unittest's expected failure: pytest's xfail
        "test_xfail": TestStatus.RETURNED,  # asserts are checks: the failed one is its value
        "test_many_frames": TestStatus.RAISED,
    }
    assert by_name["test_assert_equal"].value == "AssertionError"
    assert by_name["test_raises"].value == "ValueError"
    assert "negative price" in by_name["test_many_frames"].message


PARAMETRIZED = """\
import pytest
from shop import Cart

@pytest.mark.parametrize(("prices", "total"), [([1, 2], 3), ([0.5, "x\\n"], 9999), ([], 0)])
def test_sum(prices, total):
    cart = Cart()
    for price in prices:
        if isinstance(price, str):
            return
        cart.add("item", price)
    assert cart.total() == total

@pytest.mark.parametrize("word", ["h\\u00e9", "b"])
def test_word(word):
    assert word.upper() == word.upper()
"""


def test_expected_parameters_stay_on_the_server_with_pytests_ids(
    executor: ForkServerExecutor, tmp_path: Path
) -> None:
    """``total`` is only compared against: its values (9999) never enter the child, and the
    test ids are still the ones pytest itself makes from the real values."""
    code = checks.compile_tests(PARAMETRIZED)
    assert 9999 not in _constants(code) and 3 not in _constants(code)
    report = _run(executor, tests=PARAMETRIZED)
    by_name = {o.name.removeprefix("hidden_tests.py::"): o.value for o in report.outcomes}
    (tmp_path / "shop.py").write_text(SHOP)
    (tmp_path / "test_native.py").write_text(PARAMETRIZED)
    native = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    ids = [line.split("::", 1)[1] for line in native.stdout.splitlines() if "::" in line]
    assert sorted(by_name) == sorted(ids)
    assert by_name["test_sum[prices0-3]"] == {"checks": [[11, [3]]], "returned": None}


def _constants(code: types.CodeType) -> list[object]:
    found: list[object] = []
    for const in code.co_consts:
        found += _constants(const) if isinstance(const, types.CodeType) else [const]
    return found


def test_a_scratch_root_deep_below_tmp_is_reachable_by_jobs(
    executor: ForkServerExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR=/tmp/a/b: bwrap makes /tmp a tmpfs and recreates /tmp/a and /tmp/a/b in it, 0700
    unless told otherwise, where a job's spare uid could not read its own test files; a TMPDIR
    that only its owner may pass through is refused at start-up, saying so."""
    top = Path(tempfile.mkdtemp(prefix="deep-", dir="/tmp"))
    deep = top / "below"
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    try:
        top.chmod(0o755)
        ex = ForkServerExecutor(tier=executor.tier, pool_size=1)
        try:
            report = _run(ex)
        finally:
            ex.close()
        assert report.exit_reason.value == "ok", report.error
        assert len(report.outcomes) == 8
        if os.geteuid() == 0:  # only root's jobs change uid
            top.chmod(0o700)
            with pytest.raises(SandboxError, match=f"{top} .* lets only its owner through"):
                ForkServerExecutor(tier=executor.tier, pool_size=1)
    finally:
        shutil.rmtree(top)
