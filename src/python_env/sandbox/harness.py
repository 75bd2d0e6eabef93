"""What the sandboxed job child runs: the warm-up, then the job. Standard library only.

``run_harness`` puts the job's output streams in place, ``run_job`` imports the solution and the
tests, runs every ``test_*`` function and the benchmark, and writes one result record per outcome
to the result channel (fd 3); the job and record formats are ``protocol``'s. ``run_job`` empties
the job dict before the candidate's code runs, so no frame or global holds it; with the tests
compiled, their source is not in the child at all.

Outcomes carry values, not verdicts: a test's outcome is its return value, plus the values its
asserts compared (``checks.compile_tests`` turned them into checks). The parent compares them
with the reference's outcomes, so a candidate that forges this channel still has to produce the
reference's values, which never enter this process.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import random
import re
import sys
import threading
import traceback
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING or __package__:
    from python_env.sandbox import checks, protocol
elif "pyenv_sandbox_protocol" in sys.modules:  # loaded by file path in the sandbox worker
    checks, protocol = sys.modules["pyenv_sandbox_checks"], sys.modules["pyenv_sandbox_protocol"]
else:  # run as a script by the subprocess executor: -P leaves this directory off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import checks
    import protocol

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_ITEMS = 10_000
_MAX_DEPTH = 32


def normalise(value: Any, depth: int = 0) -> Any:
    """Turn a test's return value into canonical JSON data (order- and address-independent)."""
    if depth > _MAX_DEPTH:
        return {"__truncated__": type(value).__name__}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"__float__": repr(value)}
        return float(f"{value:.12g}")
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": bytes(value[:_MAX_ITEMS]).hex()}
    if isinstance(value, list | tuple):
        return [normalise(v, depth + 1) for v in list(value)[:_MAX_ITEMS]]
    if isinstance(value, set | frozenset):
        items = [normalise(v, depth + 1) for v in list(value)[:_MAX_ITEMS]]
        return {"__set__": sorted(items, key=_sort_key)}
    if isinstance(value, dict):
        pairs = [(normalise(k, depth + 1), normalise(v, depth + 1)) for k, v in value.items()]
        return {"__dict__": sorted(([k, v] for k, v in pairs[:_MAX_ITEMS]), key=_sort_key)}
    if hasattr(value, "__dataclass_fields__"):
        fields = {name: getattr(value, name) for name in value.__dataclass_fields__}
        return {"__obj__": type(value).__name__, "fields": normalise(fields, depth + 1)}
    return {"__repr__": _ADDRESS.sub("", repr(value))[:2_000]}


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _load_module(
    name: str, unit: types.CodeType | str, names: dict[str, Any] | None = None
) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"{name}.py"
    module.__dict__.update(names or {})
    sys.modules[name] = module
    code = unit if isinstance(unit, types.CodeType) else protocol.compile_source(name, unit)
    exec(code, module.__dict__)
    return module


class _Counter:
    """Counts 'line' trace events; C code (builtins) is free, so only Python-level work counts."""

    def __init__(self) -> None:
        self.lines = 0

    def global_trace(self, frame: Any, event: str, arg: Any) -> Callable[..., Any]:
        return self.local_trace

    def local_trace(self, frame: Any, event: str, arg: Any) -> Callable[..., Any]:
        if event == "line":
            self.lines += 1
        return self.local_trace


class _TraceGuard:
    """Keeps the real sys.settrace/setprofile away from candidate code and notes any attempt."""

    def __init__(self) -> None:
        self.settrace = sys.settrace
        self.gettrace = sys.gettrace
        self.tampered = False

    def install(self) -> None:
        def refuse(*_args: Any, **_kwargs: Any) -> None:
            self.tampered = True

        sys.settrace = refuse
        sys.setprofile = refuse
        threading.settrace = refuse
        threading.setprofile = refuse


def _emit(out: TextIO, record: dict[str, Any]) -> None:
    out.write(protocol.encode_record(record))
    out.flush()


class _Checks:
    """The checks (rewritten asserts) of the test that is running, as the hook records them."""

    def __init__(self) -> None:
        self.made: list[Any] = []

    def hook(self, line: int, kind: str, *values: Any) -> None:
        if kind == checks.TRUTH:
            self.made.append([line, bool(values[0])])
        elif kind == checks.APPROX:
            tolerance = {"rel": float(values[1]), "abs": float(values[2])}
            self.made.append([line, normalise(values[0]), tolerance])
        elif kind == checks.COMPARE:
            self.made.append([line, [normalise(v) for v in values[:-1]], bool(values[-1])])
        else:
            self.made.append([line, [normalise(v) for v in values]])


def _run_test(name: str, func: Callable[[], Any], recorder: _Checks) -> tuple[str, Any, str]:
    # Forked children inherit their worker's random state: reseed, or code that uses `random`
    # would get different values (and verdicts) on different workers.
    random.seed(name)
    recorder.made = []
    try:
        value = func()
    except BaseException as exc:
        return protocol.RAISED, type(exc).__name__, f"{type(exc).__name__}: {exc}"[:1_000]
    return _returned(recorder, value)


def _returned(recorder: _Checks, value: Any) -> tuple[str, Any, str]:
    """The outcome of a test that ran to its end: its checks and what it returned."""
    if recorder.made:
        return protocol.RETURNED, {"checks": recorder.made, "returned": normalise(value)}, ""
    return protocol.RETURNED, normalise(value), ""


def run_job(job: dict[str, Any], out: TextIO) -> None:
    """Import the solution and tests, run every test, then measure benchmark()."""
    guard = _TraceGuard()
    guard.install()
    random.seed(0)  # module-level code of the solution and tests, as in each test below
    solution = str(job.pop("solution", ""))
    skip = {str(name) for name in job.pop("skip", None) or ()}
    module, file = str(job.pop("module", "solution")), str(job.pop("file", "tests.py"))
    recorder = _Checks()
    runner = items = None
    try:
        try:
            tests_unit, bench_unit, conftest_unit = (protocol.job_unit(job, n) for n in _UNITS)
            pytest_style = job.get("style") == protocol.PYTEST and bool(tests_unit)
            repo = job.pop("repo", None)
        finally:
            job.clear()  # nothing of the job stays reachable from the candidate's code
        if pytest_style or repo is not None:  # configured before any candidate code runs
            runner = _pytest_runner()
        if repo is not None:  # a repository: the candidate's tree, the project's tests
            items = _pytest_runner().collect_repo(repo, recorder.hook, skip)
            repo.clear()
        else:
            _load_module(module, solution)
            if runner is not None:
                items = runner.collect(
                    tests_unit, conftest_unit, _load_module, recorder.hook, skip, file
                )
            elif tests_unit:
                hook = {checks.CHECK_HOOK: recorder.hook}
                tests = vars(_load_module("tests", tests_unit, hook))
    except BaseException as exc:
        _emit(out, protocol.error_record(f"{type(exc).__name__}: {exc}"))
        _emit(out, protocol.DONE_RECORD)
        return
    emit = functools.partial(_emit, out)
    if runner is not None and items is not None:
        runner.run(items, emit, recorder, functools.partial(_returned, recorder))
    elif tests_unit:
        for name, func in list(tests.items()):
            if name.startswith("test") and callable(func) and name not in skip:
                emit(protocol.start_record(name))
                began = protocol.test_clock()
                outcome = _run_test(name, func, recorder)
                emit(protocol.test_record(name, *outcome, protocol.test_clock() - began))
    if bench_unit:
        emit(_measure(bench_unit, guard))
    emit(protocol.DONE_RECORD)


_UNITS = ("tests", "benchmark", "conftest")


def _pytest_runner() -> Any:
    """The worker's prepared pytest session (``pytest_runner``), imported on first use."""
    if "pyenv_sandbox_pytest_runner" in sys.modules:
        return sys.modules["pyenv_sandbox_pytest_runner"].runner()
    if __name__ == "pyenv_sandbox_harness":  # a fork-server worker that could not prepare it
        raise ImportError("pytest is not available in this sandbox worker")
    if __package__:
        from python_env.sandbox import pytest_runner
    else:  # the subprocess executor's script: this directory and pytest's are on sys.path
        import pytest_runner  # type: ignore[import-not-found,no-redef]
    return pytest_runner.runner()


def _measure(unit: types.CodeType | str, guard: _TraceGuard) -> dict[str, Any]:
    """The cost record: line events counted while benchmark() runs."""
    random.seed("benchmark")
    try:
        bench = _load_module("benchmark", unit)
    except BaseException as exc:
        return protocol.cost_record(None, False, f"{type(exc).__name__}: {exc}")
    counter = _Counter()
    guard.settrace(counter.global_trace)
    try:
        bench.benchmark()
    except BaseException as exc:
        guard.settrace(None)
        return protocol.cost_record(None, guard.tampered, type(exc).__name__)
    intact = guard.gettrace() == counter.global_trace  # bound methods compare by ==
    guard.settrace(None)
    return protocol.cost_record(counter.lines, guard.tampered or not intact)


# Small on purpose: the child's first touches of interpreter state (copy-on-write faults) are
# what a warm-up moves off the critical path. The earlier, bigger one (dataclasses, Decimal,
# regexes) took 5.6 ms per standby for 0.2 ms less on the next job; this one takes 1.5-2.5 ms.
WARMUP_SOLUTION = (
    "def total(items):\n    seen = {}\n    for name, n in items:\n"
    "        if n < 0:\n            raise ValueError(f'negative {name!r}')\n"
    "        seen[name] = seen.get(name, 0) + n\n    return sorted(seen.items())\n"
)
WARMUP_TESTS = (
    "from solution import total\n"
    "def test_total():\n    return total([('a', 1), ('b', 2), ('a', 3)])\n"
    "def test_negative():\n    try:\n        total([('x', -1)])\n"
    "    except ValueError as exc:\n        return str(exc)\n"
    "def test_fails():\n    assert total([]) == [1], 'boom'\n"
)


def warmup_payload() -> bytes:
    """The warm-up job, encoded once by the worker: compiling its tests costs ~20 ms, which
    every standby child would otherwise pay again."""
    return protocol.encode_job(WARMUP_SOLUTION, WARMUP_TESTS)


def warm_up(payload: bytes) -> None:
    """Run a small, typical job (``warmup_payload``) in the standby child before any job arrives.

    Its first touches of interpreter state cost copy-on-write page faults; taking them while
    the worker is idle keeps them off the job's critical path. Nothing of it is visible later:
    its modules are dropped and the real job re-imports solution and tests from scratch.
    """
    hooks = (sys.settrace, sys.setprofile, threading.settrace, threading.setprofile)
    run_job(json.loads(payload), io.StringIO())
    # The harness guards the tracer for the job; the real job must find the real functions.
    sys.settrace, sys.setprofile, threading.settrace, threading.setprofile = hooks
    for name in ("solution", "tests", "benchmark", "conftest"):
        sys.modules.pop(name, None)


def run_harness(box: list[bytes], finished: Callable[[int], object] | None = None) -> None:
    """Run the job with the harness, results on fd 3, then exit without running atexit hooks.

    The payload comes in a box that is emptied here, so no frame keeps it while the job runs.
    ``finished`` is called with the exit code once the job's results and streams are flushed:
    the worker's cue that the job is over (its exit, a teardown of the whole address space,
    then happens while the caller already reads the outcome).
    """
    code = 0
    try:
        sys.argv = [""]
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = text_stream(1)
        sys.stderr = text_stream(2)
        out = text_stream(3, line_buffering=False)
        run_job(json.loads(box.pop()), out)
        out.flush()
    except BaseException:  # a broken harness run is reported as a crash
        code = 1
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):  # the candidate may have broken them
            stream.flush()
    if finished is not None:
        with contextlib.suppress(BaseException):
            finished(code)
    os._exit(code)


def text_stream(fd: int, line_buffering: bool = True) -> io.TextIOWrapper:
    """A UTF-8 text stream on ``fd`` that never closes it and never fails on odd characters."""
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        raw, encoding="utf-8", errors="backslashreplace", line_buffering=line_buffering
    )


def main() -> None:
    """Entry point in the child: job on stdin, results on the file descriptor in argv[1];
    argv[2], if given, is a JSON list of directories to import pytest from."""
    if len(sys.argv) > 2:
        sys.path.extend(json.loads(sys.argv[2]))
    job = json.loads(sys.stdin.read())
    sys.stdin = open("/dev/null")  # noqa: SIM115 - candidate code must not read the job
    with open(int(sys.argv[1]), "w", encoding="utf-8") as out:
        run_job(job, out)


if __name__ == "__main__":
    main()
