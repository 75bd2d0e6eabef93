"""Attacks on the verdict itself: faking passes, forging results, reading earlier jobs' data.

A candidate runs in the same process as the hidden tests, so it can always tamper with the
harness; what it cannot know is the reference's values, which never enter the sandbox. Each
attack pairs a wrong solution with a trick, and must still score 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from python_env.sandbox import ForkServerExecutor, Job
from python_env.sandbox.worker import probes
from python_env.types import ExitReason
from tests.sandbox.helpers import ATTACK_LIMITS, BUGGY, FIX, HIDDEN, attack, grade, run, value

WRONG = "def double(x):\n    return x\n"


def _scored(executor: ForkServerExecutor, solution: str) -> float:
    report = attack(executor, HIDDEN, solution=solution)
    return grade(executor, report).score


def test_the_honest_baselines(executor: ForkServerExecutor) -> None:
    assert _scored(executor, FIX) == 1.0
    assert _scored(executor, WRONG) == 0.0
    assert _scored(executor, BUGGY) == 0.0


def test_os_exit_zero_inside_a_test(executor: ForkServerExecutor) -> None:
    report = attack(executor, HIDDEN, solution=WRONG + "import os\nos._exit(0)\n")
    assert report.exit_reason is ExitReason.CRASHED
    assert grade(executor, report).score == 0.0


def test_sys_exit_inside_a_test(executor: ForkServerExecutor) -> None:
    solution = "import sys\ndef double(x):\n    sys.exit(0)\n"
    assert _scored(executor, solution) == 0.0


def test_monkeypatching_the_harness(executor: ForkServerExecutor) -> None:
    trick = """
import sys
for module in list(sys.modules.values()):
    if hasattr(module, "_run_test") and hasattr(module, "run_job"):
        module._run_test = lambda func: ("returned", True, "")
        module.normalise = lambda value, depth=0: True
"""
    solution = WRONG + trick
    assert _scored(executor, solution) == 0.0


def test_patching_builtins_and_json(executor: ForkServerExecutor) -> None:
    trick = """
import builtins, json
_dumps = json.dumps
def fake(record, **kw):
    if isinstance(record, dict) and record.get("t") == "test":
        record = {**record, "status": "returned", "value": 6}
    return _dumps(record, **kw)
json.dumps = fake
builtins.isinstance = lambda obj, cls: True
"""
    solution = WRONG + trick
    assert _scored(executor, solution) == 0.0


def test_forging_result_lines(executor: ForkServerExecutor) -> None:
    trick = """
import os
for name in ("test_small", "test_large", "test_many"):
    line = '{"t": "test", "name": "%s", "status": "returned", "value": 6}\\n' % name
    os.write(3, line.encode())
os.write(3, b'{"t": "done"}\\n')
"""
    solution = WRONG + trick
    report = attack(executor, HIDDEN, solution=solution)
    assert report.exit_reason is ExitReason.PROTOCOL_ERROR
    assert grade(executor, report).score == 0.0


def test_atexit_and_finalizers_never_run(executor: ForkServerExecutor) -> None:
    trick = """
import atexit, os
atexit.register(lambda: os.write(3, b'{"t": "done"}\\n'))
"""
    solution = WRONG + trick
    report = attack(executor, HIDDEN, solution=solution)
    assert report.exit_reason is ExitReason.OK
    assert grade(executor, report).score == 0.0


def test_pre_registering_a_fake_tests_module(executor: ForkServerExecutor) -> None:
    trick = """
import sys, types
sys.modules["tests"] = types.ModuleType("tests")
"""
    solution = WRONG + trick
    report = attack(executor, HIDDEN, solution=solution)
    assert {o.name for o in report.outcomes} == {"test_small", "test_large", "test_many"}
    assert grade(executor, report).score == 0.0


def test_cost_counter_tampering_is_flagged(executor: ForkServerExecutor) -> None:
    bench = "import sys\ndef benchmark():\n    sys.settrace(None)\n    return sum(range(10**5))\n"
    report = executor.run(Job(solution=FIX, tests=HIDDEN, benchmark=bench))
    assert report.cost_tampered is True


def test_earlier_jobs_leave_nothing_in_memory(executor: ForkServerExecutor) -> None:
    """A reference run's tests and values must not be findable by the jobs that follow it."""
    token = "secret" + os.urandom(8).hex()
    secret_job = f"def test_reference():\n    return {token!r}\n"
    for _ in range(executor.pool_size):
        assert value(run(executor, secret_job), "test_reference") == token
    scan = f"""
import gc, sys
def test_scan():
    needle = {token[:6]!r} + {token[6:]!r}
    hits = sum(1 for o in gc.get_objects() if isinstance(o, str) and needle in o and o != needle)
    hits += sum(1 for m in list(sys.modules.values()) if needle in repr(getattr(m, "__dict__", "")))
    return hits
"""
    for _ in range(executor.pool_size * 2):
        assert value(run(executor, scan), "test_scan") == 0
    for pid in executor.worker_pids():
        assert _process_memory_contains(pid, b"pyenv_sandbox_harness")  # the scan does see
        assert not _process_memory_contains(pid, token.encode())


def _process_memory_contains(pid: int, needle: bytes) -> bool:
    """Scan the worker (and what it runs) from the host, through /proc/<pid>/mem."""
    for proc in [pid, *probes.descendants(pid)]:
        try:
            with open(f"/proc/{proc}/maps") as maps, open(f"/proc/{proc}/mem", "rb", 0) as mem:
                for line in maps:
                    fields = line.split()
                    if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
                        continue
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    try:
                        mem.seek(start)
                        if needle in mem.read(end - start):
                            return True
                    except (OSError, OverflowError, ValueError):
                        continue
        except OSError:
            continue
    return False


# The harness's last word (``done CODE CPU RSS NS`` on a pipe) ends the job early, so the child's
# exit is off the caller's path. The job can write to that pipe too.
_LAST_WORD_PIPE = """
import fcntl, os, stat
def _last_word_pipe():
    for fd in range(4, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
"""


@contextmanager
def answering_early(executor: ForkServerExecutor) -> Iterator[None]:
    """Workers answer at a job's last word (by default only while a worker is spare)."""
    executor.early_reply = True
    try:
        yield
    finally:
        executor.early_reply = None


def test_forging_the_last_word_ends_the_job_without_a_pass(executor: ForkServerExecutor) -> None:
    solution = _LAST_WORD_PIPE + (
        "os.write(_last_word_pipe(), b'done 0 0.0 0 0\\n')\nimport time\ntime.sleep(2)\n" + FIX
    )
    with answering_early(executor):
        report = attack(executor, HIDDEN, solution=solution)
    assert report.exit_reason is ExitReason.CRASHED  # no results: the job "ended" at import
    assert report.wall_ms < 1500  # ended at the word, not after the sleep
    assert grade(executor, report).score == 0.0


def test_flooding_or_closing_the_last_word_pipe_changes_no_verdict(
    executor: ForkServerExecutor,
) -> None:
    flood = "fd = _last_word_pipe()\nfcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)\n"
    flood += "try:\n    while True:\n        os.write(fd, b'x' * 4096)\nexcept OSError:\n    pass\n"
    garbage = "os.write(_last_word_pipe(), b'done 999 nan -1 x\\ndone\\n' * 50)\n"
    for trick in (flood, "os.close(_last_word_pipe())\n", garbage):
        with answering_early(executor):
            fixed = attack(executor, HIDDEN, solution=_LAST_WORD_PIPE + trick + FIX)
            wrong = attack(executor, HIDDEN, solution=_LAST_WORD_PIPE + trick + WRONG)
        assert fixed.exit_reason is ExitReason.OK, (trick, fixed)
        assert grade(executor, fixed).score == 1.0, trick
        assert grade(executor, wrong).score == 0.0, trick


def test_a_forged_last_word_hides_no_cpu_and_claims_no_memory(executor: ForkServerExecutor) -> None:
    burn = "x = 0\nfor i in range(2_000_000):\n    x += i\n"
    word = "os.write(_last_word_pipe(), b'\\ndone 0 0.0 ' + b'9' * 4000 + b' 0\\n')\n"
    word += "import time\ntime.sleep(2)\n"  # killed at its word, well before this ends
    with answering_early(executor):
        report = attack(executor, HIDDEN, solution=_LAST_WORD_PIPE + burn + word + FIX)
    assert report.exit_reason is ExitReason.CRASHED
    assert report.cpu_ms >= 50  # the kernel's count of the loop, not the word's 0.0
    limits = ATTACK_LIMITS
    ceiling_kb = (limits.memory_mb + 3 * limits.file_size_mb + 64) * 1024
    assert 0 < report.peak_memory_kb <= ceiling_kb
