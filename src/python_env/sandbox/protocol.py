"""The sandbox protocol, in one place: the job, the result records, the worker's reply, the exit.

Standard library only: the server, the fork-server worker and the job child all use this file
(the worker loads it by path). Three messages cross the process boundaries:

- **the job** (server -> child): ``{"solution", "tests", "benchmark", "conftest", "skip",
  "style", "module", "file", "compiled"}``. The task's own sources travel as marshalled code
  compiled by the server (``encode_job``), so their text is never in the child; the candidate's
  solution is compiled in the child. ``skip`` names tests not to run (those a previous job of the
  same suite already settled). ``style`` is ``return`` (zero-argument functions, run by the
  harness) or ``pytest`` (run by pytest in the child, ``pytest_runner``); ``module`` is the name
  the tests import the solution as; ``file`` is the test file's name in pytest's test ids.
- **checks**: the server rewrites every ``assert`` of the tests into a call that hands the
  harness the values the assert compares (``checks.compile_tests``), recorded as the test's
  outcome; the expected side of ``x == <literal>`` never enters the child.
- **result records** (child -> server, one JSON line each on the result channel, fd 3)::

      {"t": "start", "name": str}            a test is about to run
      {"t": "test", "name": str, "status": "returned" | "raised" | "skipped", "value": any,
       "message": str, "cpu_ms": float}      its outcome, and the CPU time it took (test_clock)
      {"t": "error", "message": str}          the solution or the tests failed to import
      {"t": "cost", "value": int | null, "tampered": bool, "message": str}
      {"t": "done"}

  The candidate runs in that process and can write to fd 3 too: the channel is untrusted input.
  ``parse_records`` validates every record and never raises; a malformed, unknown, duplicated,
  out-of-order (a test without its start, a start while another test runs) or late record
  (anything after ``done``) makes the whole job a protocol error. A start without its test
  names the test that was running when the job ended (it ran out of CPU time, say).
- **the worker's reply** (worker -> server, after the job and its clean-up): exit status,
  resource use and whether the worker may serve again (``REPLY_FIELDS``; ``check_reply``).

``classify_exit`` turns a wait status into the one exit reason both executors report.
"""

from __future__ import annotations

import array
import base64
import functools
import importlib.util
import json
import marshal
import math
import os
import signal
import socket
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from python_env.sandbox import checks
elif "pyenv_sandbox_checks" in sys.modules:  # loaded by file path in the sandbox worker
    checks = sys.modules["pyenv_sandbox_checks"]
else:  # the subprocess executor's harness script: this directory is on sys.path
    import checks

START, TEST, ERROR, COST, DONE = "start", "test", "error", "cost", "done"
RETURNED, RAISED, SKIPPED = "returned", "raised", "skipped"
PYTEST = "pytest"  # the job style run by pytest_runner
MAX_NAME = 200  # an identifier, or a pytest id cut to this length (pytest_runner.test_id)
MAX_MESSAGE = 2_000

# -- the job -------------------------------------------------------------------------------


def compile_source(name: str, source: str) -> types.CodeType:
    """The one compile call for job code (server and child: same flags, same code objects)."""
    return compile(source, f"{name}.py", "exec")


def encode_job(
    solution: str,
    tests: str,
    benchmark: str = "",
    skip: tuple[str, ...] = (),
    *,
    style: str = "return",
    conftest: str = "",
    module: str = "solution",
    file: str = "tests.py",
    repo: str = "",
) -> bytes:
    """The job as the child reads it: task sources as code only, unless they do not compile
    (then their text, so the child reports the error). Asserts of the tests and of a pytest
    task's conftest become checks."""
    data: dict[str, Any] = {
        "solution": solution, "skip": list(skip), "style": style, "module": module, "file": file,
    }  # fmt: skip
    compiled: dict[str, str] = {}
    for name, source in (("tests", tests), ("benchmark", benchmark), ("conftest", conftest)):
        code = _compiled(name, source) if source else ""
        data[name] = "" if code else source
        if code:
            compiled[name] = code
    if compiled:
        data["compiled"] = {"magic": importlib.util.MAGIC_NUMBER.hex(), **compiled}
    text = json.dumps(data)
    if repo:  # JSON text already (encode_repo)
        text = f'{text[:-1]}, "repo": {repo}}}'
    return text.encode()


def encode_repo(
    files: dict[str, str],
    trusted: dict[str, str],
    select: tuple[str, ...] = (),
    roots: tuple[str, ...] = ("",),
) -> str:
    """A repository job's part of the payload, as JSON text: the candidate's tree as text (and
    its modules precompiled, ``_pyc``), the trusted test-side files (``.py`` ones as code
    compiled here, asserts turned into checks; others as text), the test ids to run (all, if
    empty) and the tree's import roots. Built from per-file pieces cached by content: a tree
    differs from the last one in a file or two, and encoding it whole took 6 ms a job."""
    units = []
    for path, source in trusted.items():
        code = _compiled_file(path, source) if path.endswith(".py") else ""
        units.append(f'{_json(path)}: {{"code": "{code}"}}' if code else
                     f'{_json(path)}: {{"text": {_json(source)}}}')  # fmt: skip
    tree = ", ".join(f"{_json(path)}: {_json(text)}" for path, text in files.items())
    pycs = ", ".join(f'{_json(path)}: "{pyc}"' for path, text in files.items()
                     if path.endswith(".py") and (pyc := _pyc(path, text)))  # fmt: skip
    rest = json.dumps({"magic": importlib.util.MAGIC_NUMBER.hex(), "select": list(select),
                       "roots": list(roots)})  # fmt: skip
    return (
        f'{{"files": {{{tree}}}, "pycs": {{{pycs}}}, "trusted": {{{", ".join(units)}}}, {rest[1:]}'
    )


@functools.lru_cache(maxsize=16384)
def _json(text: str) -> str:
    return json.dumps(text)


def repo_units(repo: dict[str, Any]) -> dict[str, types.CodeType | str]:
    """In the child: each trusted file's code (or text: data files, and sources that did not
    compile, so their import reports the error)."""
    if repo.get("magic") != importlib.util.MAGIC_NUMBER.hex():
        raise ImportError("the tests were compiled for another Python version")
    units: dict[str, types.CodeType | str] = {}
    for path, entry in dict(repo.get("trusted") or {}).items():
        if entry.get("code"):
            code = marshal.loads(base64.b64decode(entry["code"]))
            if not isinstance(code, types.CodeType):
                raise ImportError(f"{path} is not code")
            units[str(path)] = code
        else:
            units[str(path)] = str(entry.get("text") or "")
    return units


@functools.lru_cache(maxsize=512)
def _compiled(name: str, source: str) -> str:
    if name != "benchmark":
        return _compiled_file(f"{name}.py", source)
    return _marshalled(lambda: compile_source(name, source))


@functools.lru_cache(maxsize=4096)
def _compiled_file(path: str, source: str) -> str:
    """Test-side source compiled with its asserts as checks, marshalled ("" if it does not
    compile: the child then reports the error)."""
    return _marshalled(lambda: checks.compile_tests(source, path))


@functools.lru_cache(maxsize=4096)
def _pyc(path: str, source: str) -> str:
    """The candidate module's bytecode as an unchecked hash-based .pyc (PEP 552): the child's
    import system loads it without compiling (a project's modules: ~30 ms a job). "" if the
    source does not compile (the import in the child then reports the error)."""
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ""
    header = importlib.util.MAGIC_NUMBER + (0b01).to_bytes(4, "little")
    data = header + importlib.util.source_hash(source.encode()) + marshal.dumps(code)
    return base64.b64encode(data).decode()


def repo_pycs(repo: dict[str, Any]) -> dict[str, bytes]:
    """In the child: where each precompiled module's .pyc goes (``__pycache__``), and its bytes."""
    tag = sys.implementation.cache_tag
    out = {}
    for path, data in dict(repo.get("pycs") or {}).items():
        directory, _, name = str(path).rpartition("/")
        cached = f"__pycache__/{name.removesuffix('.py')}.{tag}.pyc"
        out[f"{directory}/{cached}" if directory else cached] = base64.b64decode(data)
    return out


def _marshalled(build: Callable[[], types.CodeType]) -> str:
    try:
        code = build()
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ""
    return base64.b64encode(marshal.dumps(code)).decode()


def job_unit(job: dict[str, Any], name: str) -> types.CodeType | str:
    """In the child: the code of ``name`` (tests, benchmark) if sent compiled, else its text."""
    compiled = job.get("compiled") or {}
    if not compiled.get(name):
        return str(job.get(name) or "")
    if compiled.get("magic") != importlib.util.MAGIC_NUMBER.hex():
        raise ImportError(f"{name} was compiled for another Python version")
    code = marshal.loads(base64.b64decode(compiled[name]))
    if not isinstance(code, types.CodeType):
        raise ImportError(f"{name} is not code")
    return code


# -- result records -------------------------------------------------------------------------


def start_record(name: str) -> dict[str, Any]:
    """A test is about to run (so a job that dies in it says which one it was)."""
    return {"t": START, "name": name}


def test_record(name: str, status: str, value: Any, message: str, cpu_ms: float) -> dict[str, Any]:
    """One test's outcome (the value is already JSON-normalised by the harness) and the CPU
    time it took (``test_clock`` readings around it)."""
    return {"t": TEST, "name": name, "status": status, "value": value, "message": message,
            "cpu_ms": cpu_ms}  # fmt: skip


def test_clock() -> float:
    """The clock a test's ``cpu_ms`` is read from, in ms: the CPU time of the thread running
    the tests (waiting, as in sleep or I/O, does not count). Not the process's: in the sandboxed
    child that clock moves in scheduler ticks (measured: a 0.2 ms loop read 0 ms, and most
    tests of a project take under 1 ms). Work a test hands to threads of its own is missed: the
    task builder only uses the cost to prefer cheap tests."""
    return _THREAD_TIME() * 1000


_THREAD_TIME = time.thread_time  # bound now: a test may patch the time module's functions


def error_record(message: str) -> dict[str, Any]:
    """The solution or the tests failed to import."""
    return {"t": ERROR, "message": message[:MAX_MESSAGE]}


def cost_record(value: int | None, tampered: bool, message: str = "") -> dict[str, Any]:
    """The benchmark's counted cost, and whether the counter was tampered with."""
    return {"t": COST, "value": value, "tampered": tampered, "message": message[:MAX_MESSAGE]}


DONE_RECORD = {"t": DONE}


def encode_record(record: dict[str, Any]) -> str:
    """One line of the result channel."""
    return json.dumps(record, default=repr) + "\n"


@dataclass
class Results:
    """What the result channel said, validated: ``violation`` is set when it cannot be trusted."""

    tests: list[tuple[str, str, Any, str]] = field(default_factory=list)  # name, status, value, msg
    cpu_ms: dict[str, float] = field(default_factory=dict)  # test name -> its CPU time
    error: str = ""
    cost: int | None = None
    cost_tampered: bool = False
    done: bool = False
    unfinished: str = ""  # the test that started and never reported (the job ended in it)
    violation: str = ""


def parse_records(raw: bytes) -> Results:
    """Validate the result channel line by line; never raises on what a candidate wrote."""
    results = Results()
    seen: set[str] = set()
    costs = 0
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            return Results(violation=f"line {number} is not JSON")
        problem = _check(record, seen, costs, results)
        if problem:
            return Results(violation=f"line {number}: {problem}")
        kind = record["t"]
        if kind == START:
            results.unfinished = record["name"]
        elif kind == TEST:
            seen.add(record["name"])
            results.unfinished = ""
            results.tests.append(
                (record["name"], record["status"], record.get("value"), record["message"])
            )
            results.cpu_ms[record["name"]] = float(record["cpu_ms"])
        elif kind == ERROR:
            results.error = record["message"]
        elif kind == COST:
            costs += 1
            results.cost, results.cost_tampered = record["value"], record["tampered"]
        else:
            results.done = True
    if results.done and results.unfinished:
        return Results(violation=f"test {results.unfinished!r} started and never reported")
    return results


_FIELDS = {
    START: {"t", "name"},
    TEST: {"t", "name", "status", "value", "message", "cpu_ms"},
    ERROR: {"t", "message"},
    COST: {"t", "value", "tampered", "message"},
    DONE: {"t"},
}


def _check(record: Any, seen: set[str], costs: int, so_far: Results) -> str:
    """Why a record breaks the protocol ("" if it does not)."""
    if not isinstance(record, dict) or record.get("t") not in _FIELDS:
        return "not a record of a known kind"
    if so_far.done:
        return "a record after done"
    kind = record["t"]
    if set(record) != _FIELDS[kind]:
        return f"a {kind} record with fields {sorted(record)}"
    if "message" in record and not (
        isinstance(record["message"], str) and len(record["message"]) <= MAX_MESSAGE
    ):
        return "a message that is not a short string"
    if kind in (START, TEST):
        name = record["name"]
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            return "a test name that is not a short string"
        if name in seen:
            return f"test {name!r} reported twice"
        if kind == START and so_far.unfinished:
            return f"test {name!r} started while {so_far.unfinished!r} was running"
        if kind == TEST and name != so_far.unfinished:
            return f"test {name!r} reported without its start"
        if kind == TEST and record["status"] not in (RETURNED, RAISED, SKIPPED):
            return f"unknown test status {record['status']!r}"
        if kind == TEST and not _is_duration(record["cpu_ms"]):
            return "a test's cpu_ms that is not a duration"
    elif so_far.unfinished:
        return f"a {kind} record while {so_far.unfinished!r} was running"
    if kind == COST:
        if costs:
            return "a second cost record"
        value = record["value"]
        if value is not None and (type(value) is not int or value < 0):
            return "a cost that is not a count"
        if type(record["tampered"]) is not bool:
            return "a tampered flag that is not a boolean"
    return ""


def _is_duration(value: Any) -> bool:
    """A finite, non-negative number of ms (JSON reads NaN and Infinity; a bool is no number)."""
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


# -- descriptors between the processes ------------------------------------------------------


def read_all(fd: int) -> bytes:
    """Everything in a descriptor (the job's memfd), to its end."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def received_fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    """The descriptors passed along with a message (SCM_RIGHTS), in order."""
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(array.array("i", data[:usable]))
    return fds


# -- the worker's reply and the exit --------------------------------------------------------

REPLY_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,), "status": (int,), "ready": (bool,), "setup_error": (str,),
    "timed_out": (bool,), "cpu_ms": (int, float), "maxrss_kb": (int,), "wall_ms": (int, float),
    "oom": (bool,),
}  # fmt: skip
# The worker's second message about a job, once it has cleaned up after it.
NOTICE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,), "leaked": (int,), "tainted": (bool,), "why": (str,),
}  # fmt: skip


def check_reply(reply: Any, job_id: int, fields: dict[str, tuple[type, ...]] = REPLY_FIELDS) -> str:
    """Why a worker's reply (or, with ``NOTICE_FIELDS``, its clean-up notice) about job
    ``job_id`` cannot be used ("" if it can)."""
    if not isinstance(reply, dict):
        return "not an object"
    if "error" in reply:
        return f"the worker refused the job: {reply['error']}"
    for name, kinds in fields.items():
        if not isinstance(reply.get(name), kinds):
            return f"field {name!r} is missing or has the wrong type"
    if reply["id"] != job_id:
        return f"a reply to job {reply['id']}, not {job_id}"
    return ""


def classify_exit(
    status: int, timed_out: bool, oom: bool, cpu_ms: float, cpu_limit_s: float
) -> str:
    """The exit reason of a job's main process from its wait status (``ExitReason`` values).

    "Too slow" is CPU time: SIGXCPU at the soft limit, or SIGKILL at the hard one with the CPU
    used at the limit. The wall clock (``timed_out``) is only the backstop for jobs that sleep.
    """
    if timed_out:
        return "timeout"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "timeout"
        if sig == signal.SIGXFSZ:
            return "output_limit"
        if sig == signal.SIGKILL:
            if oom:
                return "memory"
            if cpu_ms >= max(1, math.ceil(cpu_limit_s)) * 1000 * 0.98:
                return "timeout"
        return "crashed"
    if os.WEXITSTATUS(status) == 0:
        return "ok"
    return "memory" if oom else "crashed"
