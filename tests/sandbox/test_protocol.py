"""The sandbox protocol: the result channel is untrusted input; one reply check, one exit."""

from __future__ import annotations

import json
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from python_env.sandbox import ForkServerExecutor, Job, protocol
from python_env.sandbox.base import parse_results
from python_env.types import ExitReason, TestStyle
from tests.sandbox.helpers import run

GOOD = [
    protocol.start_record("test_a"),
    protocol.test_record("test_a", protocol.RETURNED, [1, 2], "", 0.25),
    protocol.start_record("test_b"),
    protocol.test_record("test_b", protocol.RAISED, "ValueError", "ValueError: no", 3),
    protocol.cost_record(1234, False),
    protocol.DONE_RECORD,
]


def _channel(*records: object) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_a_well_formed_channel_is_read() -> None:
    results = protocol.parse_records(_channel(*GOOD))
    assert results.violation == "" and results.done and results.cost == 1234
    assert [t[0] for t in results.tests] == ["test_a", "test_b"] and results.unfinished == ""
    assert results.cpu_ms == {"test_a": 0.25, "test_b": 3.0}


def test_a_job_that_ends_inside_a_test_names_it() -> None:
    results = protocol.parse_records(_channel(*GOOD[:2], GOOD[2]))
    assert results.violation == "" and results.unfinished == "test_b" and not results.done


FORGERIES = {
    "not json": b"PASSED\n",
    "unknown kind": _channel({"t": "verdict", "name": "x"}),
    "bogus status": _channel(GOOD[0], {**GOOD[1], "status": "bogus"}),
    "missing field": _channel(GOOD[0], {"t": "test", "name": "test_a", "status": "returned"}),
    "extra field": _channel(GOOD[0], {**GOOD[1], "passed": True}),
    "not an object": _channel(["t", "test"]),
    "name not a string": _channel({"t": "start", "name": 7}),
    "endless name": _channel({"t": "start", "name": "x" * 10_000}),
    "duplicate test": _channel(*GOOD[:2], *GOOD[:2]),
    "test without its start": _channel(GOOD[1]),
    "test under another's start": _channel(GOOD[0], GOOD[3]),
    "start while a test runs": _channel(GOOD[0], GOOD[2]),
    "cost while a test runs": _channel(GOOD[0], GOOD[4]),
    "start never finished before done": _channel(GOOD[0], protocol.DONE_RECORD),
    "second cost": _channel(GOOD[4], protocol.cost_record(1, False)),
    "cost not a count": _channel(protocol.cost_record(-5, False)),
    "cost a float": _channel({**GOOD[4], "value": 1.5}),
    "tampered not a bool": _channel({**GOOD[4], "tampered": "no"}),
    "record after done": _channel(protocol.DONE_RECORD, GOOD[0]),
    "message not a string": _channel({"t": "error", "message": {"x": 1}}),
    "test without its cpu_ms": _channel(
        GOOD[0], {k: v for k, v in GOOD[1].items() if k != "cpu_ms"}
    ),
    "cpu_ms negative": _channel(GOOD[0], {**GOOD[1], "cpu_ms": -1.0}),
    "cpu_ms not a number": _channel(GOOD[0], {**GOOD[1], "cpu_ms": "fast"}),
    "cpu_ms a bool": _channel(GOOD[0], {**GOOD[1], "cpu_ms": True}),
    "cpu_ms NaN": _channel(GOOD[0], {**GOOD[1], "cpu_ms": float("nan")}),
    "cpu_ms infinite": _channel(GOOD[0], {**GOOD[1], "cpu_ms": float("inf")}),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_every_malformed_channel_is_a_protocol_error_verdict(forgery: str) -> None:
    """Red-team grading finding: a forged record raised a 500 instead of scoring the job 0."""
    results = protocol.parse_records(FORGERIES[forgery])
    assert results.violation and results.tests == [] and results.cost is None
    report = parse_results(FORGERIES[forgery], ExitReason.OK)
    assert report.exit_reason is ExitReason.PROTOCOL_ERROR and report.outcomes == ()


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=400) | st.lists(st.dictionaries(
    st.sampled_from(["t", "name", "status", "value", "message", "tampered", "x"]),
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["test", "cost", "done", "error", "returned", "raised"]),
    max_size=6,
), max_size=5).map(lambda rs: _channel(*rs)))  # fmt: skip
def test_no_channel_content_makes_the_parser_raise(raw: bytes) -> None:
    report = parse_results(raw, ExitReason.OK)
    assert report.exit_reason in (ExitReason.OK, ExitReason.CRASHED, ExitReason.PROTOCOL_ERROR)


def test_the_job_round_trips_and_travels_without_task_source() -> None:
    data = json.loads(protocol.encode_job("x = 1", "def test_a():\n    return 2\n"))
    assert data["tests"] == "" and "def test_a" not in json.dumps(data)
    code = protocol.job_unit(data, "tests")
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert namespace["test_a"]() == 2  # type: ignore[operator]


REPLY = {"id": 3, "status": 0, "ready": True, "setup_error": "", "timed_out": False,
         "cpu_ms": 1.5, "maxrss_kb": 9000, "wall_ms": 2.0, "oom": False}  # fmt: skip
NOTICE = {"id": 3, "leaked": 0, "tainted": False, "why": ""}


def test_worker_replies_are_checked() -> None:
    assert protocol.check_reply(REPLY, 3) == ""
    assert "job 3, not 4" in protocol.check_reply(REPLY, 4)
    assert "cpu_ms" in protocol.check_reply({**REPLY, "cpu_ms": "fast"}, 3)
    assert "'oom'" in protocol.check_reply({k: v for k, v in REPLY.items() if k != "oom"}, 3)
    assert protocol.check_reply(NOTICE, 3, protocol.NOTICE_FIELDS) == ""
    assert "tainted" in protocol.check_reply({**NOTICE, "tainted": 1}, 3, protocol.NOTICE_FIELDS)
    assert "not 4" in protocol.check_reply(NOTICE, 4, protocol.NOTICE_FIELDS)
    assert "refused" in protocol.check_reply({"id": 3, "error": "no fds"}, 3)
    assert protocol.check_reply([REPLY], 3) == "not an object"


@pytest.mark.parametrize(
    ("status", "timed_out", "oom", "cpu_ms", "expected"),
    [(0, False, False, 1, "ok"), (1 << 8, False, False, 1, "crashed"),
     (1 << 8, False, True, 1, "memory"), (signal.SIGXCPU, False, False, 5000, "timeout"),
     (signal.SIGKILL, False, False, 4990, "timeout"), (signal.SIGKILL, False, False, 10, "crashed"),
     (signal.SIGKILL, False, True, 10, "memory"), (signal.SIGXFSZ, False, False, 1, "output_limit"),
     (signal.SIGSEGV, False, False, 1, "crashed"), (0, True, False, 1, "timeout")],
)  # fmt: skip
def test_one_exit_classifier(
    status: int, timed_out: bool, oom: bool, cpu_ms: float, expected: str
) -> None:
    assert protocol.classify_exit(status, timed_out, oom, cpu_ms, cpu_limit_s=5) == expected


SPIN = """import time


def test_spin():
    start = time.thread_time()
    while time.thread_time() - start < 0.03:
        pass


def test_trivial():
    assert 1 + 1 == 2
"""


@pytest.mark.parametrize("style", [TestStyle.RETURN, TestStyle.PYTEST])
def test_each_tests_cpu_time_reaches_the_report_and_nothing_else(
    executor: ForkServerExecutor, style: TestStyle
) -> None:
    """Through the real sandbox: a test that spins 30 ms of CPU costs that, a trivial one next
    to nothing; the cost is a measurement, in no dump of the report and no part of equality."""
    report = executor.run(Job(solution="", tests=SPIN, style=style))
    assert report.exit_reason is ExitReason.OK and len(report.outcomes) == 2
    spin, trivial = (report.test_cpu_ms[o.name] for o in report.outcomes)
    assert 30 <= spin < 1_000 and 0 <= trivial < 5
    assert "test_cpu_ms" not in report.model_dump() and "test_cpu_ms" not in repr(report)
    assert report == report.model_copy(update={"test_cpu_ms": {}})


def test_a_candidate_writing_bogus_records_gets_a_verdict(executor: ForkServerExecutor) -> None:
    """Through the real sandbox: the job ends as a protocol error, the executor does not raise."""
    forged = '{"t": "test", "name": "x", "status": "bogus"}\\n'
    report = run(
        executor, "import os\nos.write(3, b'" + forged + "')\ndef test_a():\n    return 1\n"
    )
    assert report.exit_reason is ExitReason.PROTOCOL_ERROR
    honest = executor.run(Job(solution="", tests="def test_a():\n    return 1\n"))
    assert honest.exit_reason is ExitReason.OK
