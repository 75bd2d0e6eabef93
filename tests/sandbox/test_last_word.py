"""The worker's last word: it answers when the job's harness says the job is over, before the
child's exit and the slot's clean-up; the word itself (a pipe the job can write to as well), and
the standby child it comes from."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from python_env.sandbox import ForkServerExecutor, Job, Limits
from python_env.sandbox.standby import HEARD_CAP, LastWord, Standby
from tests.sandbox.conftest import TIERS
from tests.sandbox.helpers import BENIGN, BENIGN_VALUE, value

STRONGEST = TIERS[0]


SAME_EITHER_WAY = {
    "ok": BENIGN.tests,
    "crash": "import os\ndef test_a():\n    return 1\nos._exit(3)\n",
    "cpu": "def test_spin():\n    while True:\n        pass\n",
    "memory": "def test_big():\n    return len(bytearray(10 ** 10))\n",
    "raises": "def test_r():\n    raise KeyError(2)\n",
    "output": "import sys\ndef test_o():\n    sys.stdout.write('x' * 10 ** 6)\n    return 1\n",
}


@pytest.mark.parametrize("tier", TIERS)
def test_answering_early_or_after_the_clean_up_gives_the_same_reports(tier: str) -> None:
    """The worker answers at the job's last word when a worker is spare, after its clean-up when
    jobs queue; the report is the same either way (but for the CPU and time figures)."""
    limits = Limits(cpu_seconds=1, wall_seconds=5, memory_mb=256)
    reports = {}
    for early in (True, False):
        ex = ForkServerExecutor(tier=tier, pool_size=1, early_reply=early)
        try:
            for name, tests in SAME_EITHER_WAY.items():
                job = Job(solution=BENIGN.solution, tests=tests, limits=limits)
                report = ex.run(job)
                reports[early, name] = report.model_dump_json(
                    exclude={"cpu_ms", "wall_ms", "peak_memory_kb", "test_cpu_ms"}
                )
        finally:
            ex.close()
    kinds = {json.loads(reports[True, name])["exit_reason"] for name in SAME_EITHER_WAY}
    assert kinds >= {"ok", "crashed", "timeout", "memory"}, kinds  # the cases differ
    for name in SAME_EITHER_WAY:
        assert reports[True, name] == reports[False, name], name


def settling(ex: ForkServerExecutor) -> list[int]:
    return [w["slot"] for w in ex.health()["workers"] if w["state"] == "settling"]


def test_a_slow_clean_up_delays_no_other_job() -> None:
    """A worker answers at its job's last word and cleans up after it; until then it is out of
    the pool, so no other caller waits for that clean-up (a job that filled its slot)."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=2)
    filler = Job(
        solution="",
        tests="import os\ndef test_fill():\n    for i in range(40000):\n"
        "        os.mkdir(f'd{i}')\n    return 1\n",
        limits=Limits(cpu_seconds=10, wall_seconds=20),
    )
    try:
        assert value(ex.run(filler), "test_fill") == 1
        (slot,) = settling(ex)  # its 40,000 directories are still being removed (seconds)
        for _ in range(3):
            started = time.monotonic()
            assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
            assert time.monotonic() - started < 1.0
        assert slot in settling(ex)  # so they all ran beside that clean-up
        deadline = time.monotonic() + 60
        while ex.health()["settling"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert ex.health()["retired_total"] == 0 and ex.health()["live_workers"] == 2
    finally:
        ex.close()


def test_the_last_word_is_parsed_strictly_and_heard_up_to_a_cap() -> None:
    """The job can write to the pipe the harness says its last word on: the worker takes only
    a well-formed word, whole, and stops listening after HEARD_CAP bytes."""
    assert LastWord.parse(b"done 0 0.25 9000 17") == LastWord(0, 0.25, 9000, 17)
    bad = [b"done 256 0 0 0", b"done 0 -1 0 0", b"done 0 nan 0 0", b"done 0 0 -5 0",
           b"done 0 0 0", b"done x 0 0 0", b"dome 0 0 0 0", b"", b"done 0 1e9 0 0"]  # fmt: skip
    for line in bad:
        assert LastWord.parse(line) is None, line
    child = subprocess.Popen(["sleep", "60"])
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    standby = Standby(child.pid, mine, ready_r, done_r, {})
    try:
        assert standby.last_word() is None  # nothing yet
        os.write(done_w, b"junk\ndone 0 0.5 ")
        assert standby.last_word() is None  # half a word
        os.write(done_w, b"100 7\n")
        assert standby.last_word() == LastWord(0, 0.5, 100, 7)
        while not standby.deaf:  # a flood: heard up to the cap, then not at all
            os.write(done_w, b"x" * 4096)
            assert standby.last_word() is None
        assert HEARD_CAP < standby._heard <= HEARD_CAP + 4096
    finally:
        child.kill()
        child.wait()
        for fd in (theirs.fileno(), ready_w, done_w):
            os.close(fd)
        theirs.detach()
        standby.close()


def test_a_standby_is_killed_before_it_has_its_own_process_group() -> None:
    """The worker's kill of a standby cannot depend on the child having reached setsid()."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    child = subprocess.Popen(["sleep", "60"])
    theirs.close()
    os.close(ready_w)
    os.close(done_w)
    standby = Standby(child.pid, mine, ready_r, done_r, {})
    try:
        assert os.getpgid(child.pid) == os.getpgrp()  # in our group, as before its setsid()
        standby.kill()
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        standby.close()


def test_a_reaped_standby_is_never_signalled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once reaped, a child's pid (and the id of its group) may belong to another process:
    ``kill`` must not reach it. Forcing a pid's reuse is impractical, so the signals are noted."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(7)
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    standby = Standby(pid, mine, ready_r, done_r, {})
    try:
        status, cpu_s, maxrss_kb = standby.reap()
        assert os.waitstatus_to_exitcode(status) == 7 and standby.reaped
        assert cpu_s >= 0 and maxrss_kb > 0
        sent: list[object] = []
        monkeypatch.setattr(os, "killpg", lambda *a: sent.append(a))
        monkeypatch.setattr(signal, "pidfd_send_signal", lambda *a: sent.append(a))
        standby.kill()
        assert sent == []
    finally:
        theirs.close()
        os.close(ready_w)
        os.close(done_w)
        standby.close()
