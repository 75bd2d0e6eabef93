"""The job payload: task sources arrive compiled; the candidate's solution never is."""

from __future__ import annotations

import base64
import io
import json
import marshal

from python_env.sandbox import Job, harness
from python_env.sandbox.handle import payload


def _run(job: dict[str, object]) -> list[dict[str, object]]:
    out = io.StringIO()
    harness.run_job(job, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_task_sources_are_compiled_but_never_the_solution() -> None:
    job = Job(solution="def f():\n    return 1\n", tests="def test_a():\n    return 2\n",
              benchmark="def benchmark():\n    pass\n")  # fmt: skip
    data = json.loads(payload(job))
    assert data["solution"] == job.solution and data["tests"] == job.tests
    assert set(data["compiled"]) == {"magic", "tests", "benchmark"}


def test_precompiled_code_is_what_runs() -> None:
    job = json.loads(payload(Job(solution="", tests="def test_a():\n    return 'source'\n")))
    other = marshal.dumps(harness.compile_source("tests", "def test_a():\n    return 'compiled'\n"))
    job["compiled"]["tests"] = base64.b64encode(other).decode()
    assert _run(job)[0]["value"] == "compiled"


def test_another_interpreter_falls_back_to_the_source() -> None:
    job = json.loads(payload(Job(solution="", tests="def test_a():\n    return 'source'\n")))
    job["compiled"]["tests"] = base64.b64encode(marshal.dumps(compile("1", "x", "eval"))).decode()
    job["compiled"]["magic"] = "00000000"
    assert _run(job)[0]["value"] == "source"


def test_tests_that_do_not_compile_still_report_the_error() -> None:
    data = json.loads(payload(Job(solution="", tests="def broken(:\n")))
    assert "compiled" not in data
    assert str(_run(data)[0]["message"]).startswith("SyntaxError")
