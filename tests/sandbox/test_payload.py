"""The job payload: task sources arrive compiled, without their text; the solution never is."""

from __future__ import annotations

import base64
import io
import json
import marshal
from typing import Any

from python_env.sandbox import Job, harness, protocol


def _run(job: dict[str, Any]) -> list[dict[str, Any]]:
    out = io.StringIO()
    harness.run_job(job, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _payload(tests: str, **fields: str) -> dict[str, Any]:
    return dict(json.loads(Job(solution=fields.get("solution", ""), tests=tests).payload()))


def test_task_sources_are_compiled_but_never_the_solution() -> None:
    job = Job(solution="def f():\n    return 1\n", tests="def test_a():\n    return 2\n",
              benchmark="def benchmark():\n    pass\n")  # fmt: skip
    data = json.loads(job.payload())
    assert data["solution"] == job.solution
    assert data["tests"] == data["benchmark"] == ""  # code only: no source text in the child
    assert set(data["compiled"]) == {"magic", "tests", "benchmark"}


def test_precompiled_code_is_what_runs() -> None:
    job = _payload("def test_a():\n    return 'source'\n")
    other = marshal.dumps(
        protocol.compile_source("tests", "def test_a():\n    return 'compiled'\n")
    )
    job["compiled"]["tests"] = base64.b64encode(other).decode()
    assert [r["value"] for r in _run(job) if r["t"] == "test"] == ["compiled"]


def test_code_for_another_interpreter_is_an_error() -> None:
    job = _payload("def test_a():\n    return 'source'\n")
    job["compiled"]["magic"] = "00000000"
    assert "another Python version" in str(_run(job)[0]["message"])


def test_tests_that_do_not_compile_still_report_the_error() -> None:
    data = _payload("def broken(:\n")
    assert "compiled" not in data and data["tests"] == "def broken(:\n"
    assert str(_run(data)[0]["message"]).startswith("SyntaxError")


def test_the_job_dict_is_empty_before_the_solution_runs() -> None:
    """Finding 7 of the red team: the candidate found the job (hidden tests) in a frame."""
    probe = (
        "import sys\nframe, SEEN = sys._getframe().f_back, []\n"
        "while frame is not None:\n"
        "    SEEN += [v for v in frame.f_locals.values() if isinstance(v, dict)\n"
        "             and ('tests' in v or 'compiled' in v)]\n"
        "    frame = frame.f_back\n"
        "def test_a():\n    return 1\n"
    )
    job = _payload("from solution import SEEN\ndef test_seen():\n    return len(SEEN)\n")
    job["solution"] = probe
    records = _run(job)
    assert job == {}
    assert [r["value"] for r in records if r["t"] == "test" and r["name"] == "test_seen"] == [0]
