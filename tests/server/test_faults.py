"""Faults under a live server: sandbox workers killed or frozen mid-step, the scratch disk full,
a uvicorn worker killed. The session (or, for the killed uvicorn worker, the server) goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.errors import PythonEnvError, SandboxError, SessionLost
from tests.server.test_slots import seconds_until

TASK = "bill-split-lost-cents"
SLOW = "import time\ntime.sleep(1.5)\n"


def health(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as err:
        return dict(json.loads(err.read()))


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def sandbox_workers(server_pid: int) -> list[int]:
    """The server's sandbox workers (each leads its process group: the outer bwrap or python)."""
    return [p for p in children(server_pid) if os.getpgid(p) == p]


def pool_full(url: str) -> bool:
    pool = health(url)["sandbox"]["pool"]
    return bool(pool["serving"]) and pool["live_workers"] == pool["size"]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with server_process(max_concurrent_envs=4, env={"PYTHON_ENV_SANDBOX_WORKERS": "2"}) as both:
        yield both


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP])
def test_a_sandbox_worker_killed_or_frozen_mid_step(
    served: tuple[str, subprocess.Popen[bytes]], sig: signal.Signals
) -> None:
    """The step is retried on another worker or fails with a SandboxError; the session goes on
    and the pool refills."""
    url, proc = served
    seconds_until(lambda: pool_full(url), 30)
    with PythonEnv(base_url=url, message_timeout_s=120).sync() as env:
        env.reset(task_id=TASK)
        env.step(CodeReviewAction(kind="edit", code=SLOW))
        workers = sandbox_workers(proc.pid)
        assert len(workers) == 2
        outcome: list[object] = []
        thread = threading.Thread(
            target=lambda: outcome.append(_run_tests(env)), name="step-in-flight"
        )
        thread.start()
        seconds_until(lambda: _busy_pids(url) != [], 10)
        busy = _busy_pids(url)
        assert len(busy) == 1 and busy[0] in workers
        os.killpg(busy[0], sig)
        thread.join(120)
        assert outcome and (
            isinstance(outcome[0], SandboxError) or getattr(outcome[0], "test_report", None)
        ), outcome
        after = env.step(CodeReviewAction(kind="run_tests")).observation
        assert after.test_report is not None  # the session goes on
    seconds_until(lambda: pool_full(url), 30)
    assert busy[0] not in sandbox_workers(proc.pid)  # replaced


def _busy_pids(url: str) -> list[int]:
    return [w["pid"] for w in health(url)["sandbox"]["pool"]["workers"] if w["state"] == "busy"]


def _run_tests(env: Any) -> object:
    try:
        return env.step(CodeReviewAction(kind="run_tests")).observation
    except PythonEnvError as exc:
        return exc


def test_a_uvicorn_worker_killed_under_two_workers() -> None:
    """Sessions on the killed worker end with SessionLost at once; the others go on; uvicorn
    starts a new worker; nothing of the dead worker's sandbox is left running."""
    env = {"WORKERS": "2", "PYTHON_ENV_SANDBOX_WORKERS": "1"}
    with server_process(max_concurrent_envs=8, env=env, timeout_s=120) as (url, proc):
        seconds_until(lambda: len(children(proc.pid)) >= 2, 60)
        clients = [PythonEnv(base_url=url).sync() for _ in range(8)]
        try:
            for i, client in enumerate(clients):
                client.connect()
                client.reset(seed=i)
            workers = _uvicorn_workers(proc.pid)
            assert len(workers) == 2, [_cmdline(p) for p in children(proc.pid)]
            victim = max(workers, key=_sockets)  # the one holding more of the sessions
            orphans = _descendants(victim)
            os.kill(victim, signal.SIGKILL)
            lost = survived = 0
            for client in clients:
                try:
                    client.step(CodeReviewAction(kind="submit"))
                    survived += 1
                except SessionLost:
                    lost += 1
            assert lost >= 1 and lost + survived == 8
            seconds_until(lambda: len(_uvicorn_workers(proc.pid)) == 2, 60)
            with PythonEnv(base_url=url).sync() as fresh:
                assert not fresh.reset(seed=0).done  # new sessions are served
            seconds_until(lambda: not any(Path(f"/proc/{p}").exists() for p in orphans), 10)
        finally:
            for client in clients:
                client.close()
        print(f"uvicorn worker killed: {lost} sessions lost, {survived} went on")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _uvicorn_workers(pid: int) -> list[int]:
    return [p for p in children(pid) if b"--multiprocessing-fork" in _cmdline(p)]


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(os.readlink(fd).startswith("socket:") for fd in fds.iterdir())


def _descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *_descendants(child)]
    return found


@pytest.fixture
def small_disk() -> Iterator[Path]:
    # Not below pytest's tmp_path, whose 0700 root the jobs' spare uids could not pass through.
    mount = Path(tempfile.mkdtemp(prefix="python-env-small-disk-"))
    mount.chmod(0o755)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)])
    if made.returncode != 0:
        mount.rmdir()
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)
        mount.rmdir()


def test_the_scratch_disk_full(small_disk: Path) -> None:
    """No space for a job's files is the sandbox's fault: a SandboxError, never a verdict; once
    there is space again the same session goes on."""
    env = {"TMPDIR": str(small_disk), "PYTHON_ENV_SANDBOX_WORKERS": "1"}
    with server_process(max_concurrent_envs=2, env=env) as (url, _proc):
        with PythonEnv(base_url=url).sync() as client:
            code = client.reset(task_id=TASK).observation.code
            filler = small_disk / "filler"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            try:  # fill every last block
                while os.write(fd, b"\0" * 65536 if os.fstat(fd).st_size < 60 << 20 else b"\0"):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            outcome = _run_tests(client)
            assert isinstance(outcome, SandboxError) and "free space" in str(outcome), outcome
            filler.unlink()
            client.step(CodeReviewAction(kind="edit", code=code))
            report = client.step(CodeReviewAction(kind="run_tests")).observation.test_report
            assert report is not None and report.exit_reason == "ok" and report.passed > 0
        print("scratch disk full:", outcome)
