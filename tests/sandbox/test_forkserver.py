"""The warm executor's behaviour: results, exit reasons, the pool, describe(), clean shutdown."""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from python_env.config import ExecutorKind, SandboxSettings, SandboxTier
from python_env.errors import ExecutorOverloaded, SandboxError
from python_env.sandbox import (
    ForkServerExecutor,
    Job,
    Limits,
    SubprocessExecutor,
    cgroups,
    forking,
    landlock,
    make_executor,
)
from python_env.types import ExitReason, TestStyle
from python_env.types import TestStatus as Status
from tests.sandbox.conftest import TIERS
from tests.sandbox.helpers import BENIGN, BENIGN_VALUE, run, value

STRONGEST = TIERS[0]


def test_structured_results(executor: ForkServerExecutor) -> None:
    report = executor.run(Job(
        solution="def area(w, h):\n    return w * h\n",
        tests=(
            "import sys\nfrom solution import area\n"
            "def test_value():\n    print('hello out')\n    return area(2, 3)\n"
            "def test_assert():\n    print('hello err', file=sys.stderr)\n"
            "    assert area(2, 2) == 5, 'area is off'\n"
        ),
    ))  # fmt: skip
    assert report.exit_reason is ExitReason.OK
    assert value(report, "test_value") == 6
    # The assert became a check: it hands over area(2, 2); the expected 5 never entered the job.
    checked = report.outcome("test_assert")
    assert checked is not None and checked.status is Status.RETURNED
    assert checked.value == {"checks": [[8, [4]]], "returned": None}
    assert report.stdout == "hello out\n" and report.stderr == "hello err\n"
    assert report.cpu_ms > 0 and report.wall_ms > 0 and report.peak_memory_kb > 1000


def test_import_errors_are_reported(executor: ForkServerExecutor) -> None:
    report = executor.run(Job(solution="def broken(:\n", tests="from solution import broken\n"))
    assert report.exit_reason is ExitReason.OK
    assert report.error.startswith("SyntaxError")


def test_benchmark_cost_is_counted(executor: ForkServerExecutor) -> None:
    job = Job(solution="def f(n):\n    return sum(i for i in range(n))\n", tests="",
              benchmark="from solution import f\ndef benchmark():\n    f(1000)\n")  # fmt: skip
    costs = {executor.run(job).cost for _ in range(3)}
    assert len(costs) == 1 and next(iter(costs)) > 1000  # type: ignore[operator]


def test_same_outcomes_as_the_subprocess_baseline(executor: ForkServerExecutor) -> None:
    baseline = SubprocessExecutor()
    job = Job(solution=BENIGN.solution,
              tests=BENIGN.tests + "def test_raise():\n    return {}['x']\n")  # fmt: skip
    assert executor.run(job).outcomes == baseline.run(job).outcomes


def test_a_job_starts_with_the_signal_dispositions_it_should(executor: ForkServerExecutor) -> None:
    # The worker sets its SIGINT handler aside (sandbox/forking.py); jobs get it back. SIGXFSZ,
    # which Python ignores, ends a job that writes past its file size limit.
    test = (
        "def test_signals():\n    import signal\n"
        "    handler = signal.getsignal(signal.SIGINT)\n"
        "    sigint = 'ignored' if handler == signal.SIG_IGN else handler.__name__\n"
        "    return [sigint, signal.getsignal(signal.SIGXFSZ) == signal.SIG_DFL]\n"
    )
    inherited = signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # by this test's process
    expected = ["ignored" if inherited else "default_int_handler", True]
    assert value(run(executor, test), "test_signals") == expected


def test_lazy_stdlib_imports(executor: ForkServerExecutor) -> None:
    report = run(
        executor, "def test_import():\n    import colorsys, xml.dom.minidom\n    return 1\n"
    )
    if "chroot" in executor.describe()["layers"]:
        assert value(report, "test_import") == "ModuleNotFoundError"  # preloaded modules only
    else:
        assert value(report, "test_import") == 1


def test_describe_reports_layers_and_what_is_missing(executor: ForkServerExecutor) -> None:
    info = executor.describe()
    assert info["executor"] == "forkserver" and info["tier"] == executor.tier
    assert info["unprotected"] == []
    assert all(info["selftest"][check] is True for check in info["selftest"])
    audited = (sys.implementation.name, sys.version_info[:2]) == forking.AUDITED
    assert info["fork"] == "libc" if audited else info["fork"].startswith("os.fork: ")
    assert set(info["missing"]) == set(info["missing_reasons"])
    assert not set(info["missing"]) & set(info["layers"])
    # What this host's kernel and privileges allow decides what each tier can have.
    abi, root = landlock.abi_version(), os.geteuid() == 0
    expected = {"seccomp"} | ({"bwrap"} if executor.tier == "bwrap" else set())
    if executor.tier != "fallback":
        expected |= {"landlock-fs"} if abi >= 1 else {"chroot"}
        expected |= {"landlock-scope"} if abi >= 6 else set()
        expected |= {"pids-cgroup"} if info["missing_reasons"].get("pids-cgroup") is None else set()
    else:
        expected |= {"chroot"} if root else set()
    # A root worker's jobs always run as a spare uid: it owns no file on the host.
    expected |= {"setuid", "rlimit-nproc"} if root else {"seccomp-metadata"}
    assert expected <= set(info["layers"]), (expected, info["layers"])
    if executor.tier != "bwrap":
        assert "bwrap" in info["missing"]
    if executor.tier == "fallback":
        assert {"landlock-fs", "netns", "pids-cgroup"} <= set(info["missing"])


def test_bwrap_absent_falls_back_and_says_so() -> None:
    """The host may lack bubblewrap: auto then picks the next tier and reports bwrap missing."""
    with pytest.raises(SandboxError, match="bwrap"):
        ForkServerExecutor(tier="bwrap", pool_size=1, bwrap="0")
    ex = ForkServerExecutor(
        pool_size=1, bwrap="0", tier="fallback" if STRONGEST == "fallback" else "auto"
    )
    try:
        assert ex.tier != "bwrap"
        assert "bwrap" in ex.describe()["missing"]
        assert "disabled" in ex.describe()["missing_reasons"]["bwrap"]
        assert value(run(ex, "def test_x():\n    return 1\n"), "test_x") == 1
    finally:
        ex.close()


def test_make_executor_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    """No sandbox, no executor: never a silent downgrade to one without isolation."""
    impossible = SandboxSettings(tier=SandboxTier.BWRAP, bwrap="0")
    with pytest.raises(SandboxError, match="bwrap"):
        make_executor(impossible)
    with caplog.at_level(logging.ERROR, logger="python_env.sandbox"):
        unisolated = make_executor(SandboxSettings(executor=ExecutorKind.SUBPROCESS))
    assert isinstance(unisolated, SubprocessExecutor)
    assert unisolated.describe()["isolation"] == "UNISOLATED" and "UNISOLATED" in caplog.text


def test_a_dead_worker_is_replaced() -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1)
    try:
        (old,) = ex.worker_pids()
        os.killpg(old, signal.SIGKILL)
        assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
        (new,) = ex.worker_pids()
        assert new != old
    finally:
        ex.close()


def test_workers_that_died_while_idle_cost_the_job_no_retry() -> None:
    """Every idle worker dead: the job waits for a replacement instead of failing twice."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=2)
    try:
        old = ex.worker_pids()
        for pid in old:
            os.killpg(pid, signal.SIGKILL)
        for pid in old:
            while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z":
                time.sleep(0.01)
        assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
        assert not set(ex.worker_pids()) & set(old)
    finally:
        ex.close()


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize("waiting", ["in a thread", "on an event loop"])
def test_a_wedged_worker_is_replaced_and_the_job_retried(
    waiting: str, caplog: pytest.LogCaptureFixture
) -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, reply_grace_s=0.5)
    try:
        (old,) = ex.worker_pids()
        os.killpg(old, signal.SIGSTOP)  # alive, but answers nothing
        job = Job(solution=BENIGN.solution, tests=BENIGN.tests, limits=Limits(wall_seconds=0.5))
        report = ex.run(job) if waiting == "in a thread" else asyncio.run(ex.run_async(job))
        assert value(report, "test_double") == BENIGN_VALUE
        assert ex.worker_pids() != [old]
    finally:
        ex.close()
    retried = [r.getMessage() for r in caplog.records if "retrying the job" in r.getMessage()]
    assert len(retried) == 1 and retried[0].endswith(("timed out", "TimeoutError"))  # says why


def test_overload_is_an_error_not_a_verdict() -> None:
    """A queue longer than allowed is refused at once, as an executor fault (HTTP 503)."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, max_queued=0)
    try:
        started = threading.Event()
        slow = Job(solution="", tests="import time\ndef test_wait():\n    time.sleep(1)\n")

        def occupy() -> None:
            started.set()
            ex.run(slow)

        thread = threading.Thread(target=occupy)
        thread.start()
        started.wait()
        time.sleep(0.1)  # let the slow job take the only worker
        with pytest.raises(ExecutorOverloaded):
            ex.run(BENIGN)
        thread.join()
    finally:
        ex.close()


def test_a_standby_after_a_job_sent_while_others_queued_skips_its_idle_warm_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a queue the next job is at hand: a warm-up would only cost CPU (or hold it up)."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, trace=True)
    warmed = []
    try:
        for queued in (True, False):
            with monkeypatch.context() as patch:  # the pool as it looks with jobs waiting
                patch.setattr(ex._pool, "outlook", lambda q=queued: (False, q))
                ex.run(BENIGN)
            time.sleep(0.1)  # the standby forked after it sits idle
            assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
            warmed.append("s_warmed" in ex.traces[-1])
    finally:
        ex.close()
    assert warmed == [False, True]


def test_close_leaves_nothing_behind() -> None:
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=2)
    scratch = ex.scratch_root
    instance = ex._res.cgroup_instance
    pids = ex.worker_pids()
    run(ex, "import os\ndef test_files():\n    open('x', 'w').write('y')\n")
    ex.close()
    assert not os.path.exists(scratch)
    assert not instance or not glob.glob(f"{cgroups.ROOT}/*/{cgroups.PREFIX}{instance}")
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}"), f"worker {pid} outlived close()"
    with pytest.raises(SandboxError):
        ex.run(BENIGN)


def test_stale_cgroups_of_dead_executors_are_removed() -> None:
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    instance = f"{dead}-0-test"
    if not cgroups.create_slots(instance, 1):
        pytest.skip("this host lets us create no cgroup")
    assert instance in cgroups.remove_stale()
    assert not glob.glob(f"{cgroups.ROOT}/*/{cgroups.PREFIX}{instance}")


def test_pool_size_from_the_settings() -> None:
    settings = SandboxSettings(workers=1, tier=SandboxTier(STRONGEST))
    ex = make_executor(settings)
    assert isinstance(ex, ForkServerExecutor)
    try:
        assert ex.pool_size == 1 and len(ex.worker_pids()) == 1
    finally:
        ex.close()


def test_the_warm_up_leaves_no_trace() -> None:
    """The standby child runs a warm-up job first: results must not depend on it."""
    job = Job(
        solution="import sys\ndef f(n):\n    return sys.gettrace() is None\n",
        tests="from solution import f\nimport sys\n"
        "def test_state():\n    return [f(1), sorted(m for m in sys.modules if 'sol' in m)]\n",
        benchmark="from solution import f\ndef benchmark():\n"
        "    for i in range(200):\n        f(i)\n",
    )
    reports = []
    for warmup in (False, True):
        ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, warmup=warmup)
        try:
            reports.append(ex.run(job))
        finally:
            ex.close()
    cold, warm = reports
    assert cold.outcomes == warm.outcomes and cold.cost == warm.cost
    assert cold.cost is not None and cold.cost > 200 and not warm.cost_tampered


def test_random_is_seeded_per_test_so_every_worker_gives_the_same_values() -> None:
    code = "import random\nAT_IMPORT = random.random()\n"
    tests = (
        "import random\nfrom solution import AT_IMPORT\n"
        "def test_a():\n    return [AT_IMPORT, random.random()]\n"
        "def test_b():\n    return random.randint(0, 10**9)\n"
    )
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=3)
    try:
        values = {
            tuple(str(o.value) for o in ex.run(Job(solution=code, tests=tests)).outcomes)
            for _ in range(12)
        }
    finally:
        ex.close()
    assert len(values) == 1


def test_saturation_is_queueing_not_failure() -> None:
    """Red-team finding 6: sleepers on every worker delay another job; they never fail it."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, queue_timeout_s=0.2)
    sleeper = Job(solution="", tests="import time\ndef test_wait():\n    time.sleep(0.4)\n")
    try:
        with ThreadPoolExecutor(4) as threads:
            sleepers = [threads.submit(ex.run, sleeper) for _ in range(3)]
            time.sleep(0.05)
            benign = threads.submit(ex.run, BENIGN)  # waits ~1.2 s, six times the timeout
            assert value(benign.result(), "test_double") == BENIGN_VALUE
            assert all(f.result().exit_reason is ExitReason.OK for f in sleepers)
    finally:
        ex.close()


@pytest.mark.parametrize("early", [True, False], ids=["answered-early", "answered-clean"])
def test_a_worker_whose_slot_changed_is_retired_not_reused(early: bool) -> None:
    """A worker that cannot prove its slot pristine after a job serves no other job, whether it
    answered at the job's last word (then its clean-up notice says so) or after its clean-up."""
    ex = ForkServerExecutor(tier=STRONGEST, pool_size=1, early_reply=early)
    try:
        (worker,) = ex._res.workers.values()
        os.chmod(worker.slot_dir, 0o700)  # what a job must never manage: the check still runs
        assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE  # its verdict stands
        deadline = time.monotonic() + 30  # retired as its clean-up notice is read, then replaced
        while ex.health()["live_workers"] < 1 or ex.health()["retired_total"] < 1:
            assert time.monotonic() < deadline, ex.health()
            time.sleep(0.05)
        health = ex.health()
        assert health["retired_total"] == 1 and health["workers"][0]["generation"] > 1
        assert "changed owner, mode or identity" in health["workers"][0]["last_problem"]
        assert value(ex.run(BENIGN), "test_double") == BENIGN_VALUE
        (replacement,) = ex._res.workers.values()
        assert replacement.slot_dir != worker.slot_dir and not os.path.exists(worker.slot_dir)
    finally:
        ex.close()
    assert not ex.health()["serving"]


PYTEST_JOB = Job(
    solution="def double(x):\n    return 2 * x\n",
    tests="import pytest\nfrom solution import double\n\n"
    "@pytest.mark.parametrize('x', [1, 2])\ndef test_double(x, tmp_path):\n"
    "    assert double(x) == x + x\n",
    style=TestStyle.PYTEST,
    limits=Limits(wall_seconds=5),
)


@pytest.mark.parametrize("tier", TIERS)
def test_executors_one_after_another_run_pytest_jobs(tier: str) -> None:
    """A warm server hands the first pytest-style job to a worker right after its hello (a
    second executor in one process, a replacement worker): the worker discarded its fresh
    standby before that child had its own process group, killpg missed it, and the worker
    waited for it forever (the job failed twice, timed out)."""
    for _ in range(2):
        ex = ForkServerExecutor(tier=tier, pool_size=1, reply_grace_s=2)
        try:
            report = ex.run(PYTEST_JOB)
        finally:
            ex.close()
        assert report.exit_reason is ExitReason.OK, report.error
        assert [o.status for o in report.outcomes] == [Status.RETURNED] * 2


@pytest.mark.parametrize("tier", TIERS)
def test_tracing_notes_every_stage_in_order_and_changes_no_verdict(tier: str) -> None:
    """bench_breakdown.py reads these stamps; a stage missing or out of order would print a
    wrong breakdown, and tracing must not change what a job reports."""
    plain = ForkServerExecutor(tier=tier, pool_size=1)
    traced = ForkServerExecutor(tier=tier, pool_size=1, trace=True, early_reply=True)
    try:
        reports = [ex.run(BENIGN) for ex in (plain, traced) for _ in range(3)]
        assert not plain.traces
        assert len(traced.traces) == 3
        trace = traced.traces[-2]  # settled (its clean-up notice read) when the third ran
    finally:
        plain.close()
        traced.close()
    assert {
        r.model_dump_json(exclude={"cpu_ms", "wall_ms", "peak_memory_kb"}) for r in reports
    } == {reports[0].model_dump_json(exclude={"cpu_ms", "wall_ms", "peak_memory_kb"})}
    path = ["c_call", "c_acquired", "c_payload", "w_recv", "w_cgroup", "w_taken", "s_job",
            "s_payload", "s_entered", "s_done", "w_done", "w_reply", "c_replied", "c_read",
            "c_parsed"]  # fmt: skip
    assert [trace[name] for name in path] == sorted(trace[name] for name in path)
    # the reply left at the job's last word; its exit and the clean-up came after it
    assert "w_exited" not in trace and trace["w_reply"] < trace["w_reaped"] < trace["w_restored"]
    layers = ["s_fork", "s_child", "l_setsid", "l_fds", "l_chroot", "l_no_new_privs",
              "l_capabilities"]  # fmt: skip
    assert [trace[name] for name in layers] == sorted(trace[name] for name in layers)
    assert trace["l_capabilities"] < trace["s_job"]
