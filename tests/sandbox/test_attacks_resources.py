"""Resource attacks: fork and memory bombs, loops, sleeps, floods. Verdicts use CPU time."""

from __future__ import annotations

import os

from python_env.sandbox import ForkServerExecutor
from python_env.types import ExitReason
from tests.sandbox.helpers import ATTACK_LIMITS, attack, comm_outlived, run, value

NAMED = """
import ctypes, os, time
def _name(token):
    ctypes.CDLL(None).prctl(15, token.encode(), 0, 0, 0)  # PR_SET_NAME: visible in /proc/*/comm
"""


def test_fork_bomb_is_bounded_and_reaped(executor: ForkServerExecutor) -> None:
    token = "bomb" + os.urandom(4).hex()
    code = f"""
def test_bomb():
    forked = 0
    for _ in range(3000):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            _name({token!r})
            time.sleep(60)
            os._exit(0)
        forked += 1
    return forked
"""
    report = attack(executor, NAMED, code)
    assert 0 < value(report, "test_bomb") < ATTACK_LIMITS.processes  # type: ignore[operator]
    assert comm_outlived(executor, token) == []


def test_self_replicating_fork_bomb(executor: ForkServerExecutor) -> None:
    token = "rep" + os.urandom(4).hex()
    code = f"""
def test_bomb():
    _name({token!r})
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
"""
    report = attack(executor, NAMED, code, processes=6, wall_seconds=2)
    assert report.exit_reason is ExitReason.TIMEOUT
    assert comm_outlived(executor, token) == []


def test_memory_bomb(executor: ForkServerExecutor) -> None:
    code = """
def test_hog():
    hog = []
    while True:
        hog.append(bytearray(32 * 1024 * 1024))
        hog[-1][::4096] = b"x" * (len(hog[-1]) // 4096)  # touch every page
"""
    report = attack(executor, code)
    assert report.exit_reason is ExitReason.MEMORY
    assert report.peak_memory_kb < 2 * ATTACK_LIMITS.memory_mb * 1024


def test_infinite_loop_is_judged_on_cpu_time(executor: ForkServerExecutor) -> None:
    report = attack(executor, "def test_spin():\n    while True:\n        pass\n", wall_seconds=60)
    assert report.exit_reason is ExitReason.TIMEOUT
    # Killed by its 1 s CPU limit long before the wall clock. The kernel enforces the limit on
    # tick-sampled time, so the precise figure can be lower when the machine is busy.
    assert report.cpu_ms >= 500


def test_cpu_spin_in_a_thread(executor: ForkServerExecutor) -> None:
    code = """
import threading
def _spin():
    while True:
        pass
def test_spin_and_wait():
    t = threading.Thread(target=_spin)
    t.start()
    t.join()
"""
    report = attack(executor, code, wall_seconds=60)
    assert report.exit_reason is ExitReason.TIMEOUT


def test_background_thread_dies_with_the_job(executor: ForkServerExecutor) -> None:
    code = """
import threading
def _spin():
    while True:
        pass
def test_leave_a_spinner():
    threading.Thread(target=_spin, daemon=False).start()
    return "returned"
"""
    report = attack(executor, code)
    assert report.exit_reason is ExitReason.OK
    assert value(report, "test_leave_a_spinner") == "returned"


def test_sleep_past_the_wall_limit(executor: ForkServerExecutor) -> None:
    report = attack(executor, "import time\ndef test_nap():\n    time.sleep(600)\n", wall_seconds=1)
    assert report.exit_reason is ExitReason.TIMEOUT
    assert report.cpu_ms < 500


def test_giant_output_is_capped(executor: ForkServerExecutor) -> None:
    code = """
import sys
def test_flood():
    line = "x" * 10_000
    for _ in range(100_000):
        print(line)
        print(line, file=sys.stderr)
"""
    report = attack(executor, code)
    assert report.exit_reason is ExitReason.OUTPUT_LIMIT
    assert len(report.stdout) < ATTACK_LIMITS.output_bytes + 200
    assert report.stdout.endswith("more bytes truncated]")
    assert len(report.stderr) < ATTACK_LIMITS.output_bytes + 200


def test_giant_file_in_scratch(executor: ForkServerExecutor) -> None:
    code = """
import signal
def test_fill():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    written = 0
    with open("big.bin", "wb") as f:
        try:
            while written < 200 * 2**20:
                written += f.write(b"\\0" * 2**20)
        except OSError as exc:
            return [type(exc).__name__, written // 2**20]
    return ["no limit", written // 2**20]
"""
    report = attack(executor, code)
    assert value(report, "test_fill") == ["OSError", ATTACK_LIMITS.file_size_mb]


def test_deep_recursion(executor: ForkServerExecutor) -> None:
    code = """
import json, sys
def _down(n):
    return _down(n + 1) + 1
def test_recursion_error():
    return _down(0)
def test_c_stack_overflow():
    sys.setrecursionlimit(10**8)
    nested = []
    for _ in range(10**6):
        nested = [nested]
    return len(json.dumps(nested))  # the C encoder recurses: the 8 MB C stack overflows
"""
    report = attack(executor, code)
    outcome = report.outcome("test_recursion_error")
    assert outcome is not None and outcome.value == "RecursionError"
    assert report.exit_reason is ExitReason.CRASHED  # the second test blew the C stack
    assert report.outcome("test_c_stack_overflow") is None


def test_file_descriptor_exhaustion(executor: ForkServerExecutor) -> None:
    code = """
import os
def test_exhaust():
    fds = []
    try:
        while True:
            fds.append(os.open(os.devnull if os.path.exists(os.devnull) else ".", os.O_RDONLY))
    except OSError as exc:
        return [type(exc).__name__, len(fds) < 64]
def test_still_works_after():
    return sum(range(10))
"""
    report = attack(executor, code)
    assert value(report, "test_exhaust") == ["OSError", True]
    assert value(report, "test_still_works_after") == 45


def test_raising_its_own_limits(executor: ForkServerExecutor) -> None:
    code = """
import resource
def test_raise():
    results = []
    r = resource
    limits = (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_NOFILE, r.RLIMIT_FSIZE)
    for limit in limits:
        try:
            resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            results.append("raised")
        except (ValueError, OSError) as exc:
            results.append(type(exc).__name__)
    return results
"""
    report = attack(executor, code)
    assert "raised" not in value(report, "test_raise")  # type: ignore[operator]


def test_server_survives_a_round_of_everything(executor: ForkServerExecutor) -> None:
    """After all the above, the same executor still answers normally."""
    report = run(executor, "def test_ok():\n    return 'still here'\n")
    assert value(report, "test_ok") == "still here"
