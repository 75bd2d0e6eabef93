"""Asserts become checks on the server (``checks.compile_tests``); the harness records them.

Run in process through the real harness (``run_job``): what a test's outcome carries for each
kind of assert, and what never enters the job.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from typing import Any

from python_env.sandbox import checks, harness, protocol

SOLUTION = """
class Money:
    def __init__(self, cents):
        self.cents = cents
    def __eq__(self, other):
        return isinstance(other, Money) and other.cents == self.cents
CACHE = []
def total():
    return Money(999)
def fresh():
    return []
"""


def records(tests: str, solution: str = SOLUTION) -> list[dict[str, Any]]:
    """The harness's records, run in this process (its trace guard and modules undone after)."""
    hooks = (sys.settrace, sys.setprofile, threading.settrace, threading.setprofile)
    out = io.StringIO()
    try:
        harness.run_job(json.loads(protocol.encode_job(solution, tests)), out)
    finally:
        sys.settrace, sys.setprofile, threading.settrace, threading.setprofile = hooks
        for name in ("solution", "tests"):
            sys.modules.pop(name, None)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def outcome(tests: str, solution: str = SOLUTION) -> Any:
    (test,) = [r for r in records(tests, solution) if r["t"] == "test"]
    assert test["status"] == "returned", test
    return test["value"]


def test_an_equality_with_a_literal_hands_over_the_computed_side_only() -> None:
    value = outcome("from solution import total\ndef test_a():\n    assert total().cents == 1234\n")
    assert value == {"checks": [[3, [999]]], "returned": None}
    code = checks.compile_tests("def test_a():\n    assert f() == 1234\n")
    assert 1234 not in code.co_consts[0].co_consts


def test_an_equality_of_computed_values_keeps_eq_deciding() -> None:
    """A class without a useful repr normalises alike: the comparison's truth still decides."""
    tests = "from solution import Money, total\ndef test_a():\n    assert total() == Money(5)\n"
    [[line, values, truth]] = outcome(tests)["checks"]
    assert (line, truth) == (3, False) and values[0] == values[1]


def test_identity_of_two_computed_values_is_a_truth_check() -> None:
    tests = "from solution import CACHE, fresh\ndef test_a():\n    assert fresh() is CACHE\n"
    assert outcome(tests)["checks"] == [[3, False]]
    assert outcome("def test_a():\n    x = None\n    assert x is None\n")["checks"] == [[3, [None]]]


def test_other_asserts_hand_over_their_truth_and_the_test_goes_on() -> None:
    tests = "def test_a():\n    assert 1 > 2\n    assert [1]\n    return 'went on'\n"
    assert outcome(tests) == {"checks": [[2, False], [3, True]], "returned": "went on"}


def test_module_level_asserts_stay_asserts() -> None:
    (error, done) = records("assert 1 == 2, 'at import'\ndef test_a():\n    return 1\n")
    assert error == {"t": "error", "message": "AssertionError: at import"} and done["t"] == "done"


def test_the_literal_a_values_check_drops_is_kept_for_the_server() -> None:
    source = (
        "def test_a():\n    assert f(1) == [1, 'x']\n    assert g() is None\n"
        "    assert 2 < h()\n    assert a() == b()\n"
    )
    assert checks.expected_values(source) == {2: [1, "x"], 3: None}
    assert checks.expected_values("def broken(:\n") == {}
