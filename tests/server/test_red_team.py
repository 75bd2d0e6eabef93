"""The outside red team's findings, replayed through a real server on every sandbox tier.

One server per tier (two sandbox workers), attacked in the order below; the last test checks that
after the whole sequence the server grades exactly as a fresh one would, on every worker, and that
the host files the attacks aimed at are unchanged. Each test is named after the finding it guards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.tasks.catalog import default_catalog
from tests.sandbox.conftest import TIERS

WORKERS = 2
TASK = "bill-split-lost-cents"  # repair only: the original scores 0.0, the fix 1.0
# Tasks whose tests write temporary files, graded first *after* the attack (finding 3).
FRESH_TASKS = ("settings-file-loader", "support-upload-store")
# Attacks are appended to the task's code: its `from __future__` import must stay first.
DEEP_JSON = (  # a correct candidate that needs the default C stack (8 MiB), not 256 KiB
    "\nimport json as _json, sys as _sys\n_sys.setrecursionlimit(100_000)\n"
    "_json.loads('[' * 3000 + ']' * 3000)\n"
)


PLANTED_STATE: dict[str, Any] = {}


@dataclass
class Server:
    url: str
    pid: int
    tier: str


@pytest.fixture(scope="module")
def planted() -> Iterator[Path]:
    """Host files outside any scratch directory, in a place every tier's jobs could name."""
    root = Path(f"/var/tmp/pyenv-redteam-{os.urandom(4).hex()}")
    root.mkdir(mode=0o755)
    tool = root / "tool"
    shutil.copyfile("/bin/true", tool)
    tool.chmod(0o755)
    notes = root / "notes"
    notes.write_text("keep me\n")
    notes.chmod(0o644)
    os.setxattr(notes, "user.note", b"keep")
    for path in (tool, notes):
        os.utime(path, ns=(1_600_000_000_000_000_000,) * 2)
    PLANTED_STATE.update(host_state(root))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def host_state(root: Path) -> dict[str, Any]:
    state = {}
    for path in (root, root / "tool", root / "notes"):
        st = os.lstat(path)
        xattrs = {name: os.getxattr(path, name) for name in os.listxattr(path)}
        state[path.name] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, xattrs)
    return state


@pytest.fixture(scope="module", params=TIERS)
def server(request: pytest.FixtureRequest, planted: Path) -> Iterator[Server]:
    tier = str(request.param)
    env = {
        "PYTHON_ENV_SANDBOX_TIER": tier,
        "PYTHON_ENV_SANDBOX_WORKERS": str(WORKERS),
        "PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT": "1",  # saturation must queue, not time out
    }
    with server_process(max_concurrent_envs=32, env=env) as (url, proc):
        yield Server(url, proc.pid, tier)


def health(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:
        return dict(json.loads(response.read()))


def code(task_id: str, which: str) -> str:
    task = default_catalog().get(task_id)
    return task.fix if which == "fix" else task.code


def play(server: Server, task_id: str, candidate: str, run_tests: bool = False) -> list[Any]:
    """reset, edit, [run_tests], submit: the observations of the steps after reset."""
    with PythonEnv(base_url=server.url, message_timeout_s=120).sync() as env:
        env.reset(task_id=task_id)
        steps = [env.step(CodeReviewAction(kind="edit", code=candidate))]
        if run_tests:
            steps.append(env.step(CodeReviewAction(kind="run_tests")))
        steps.append(env.step(CodeReviewAction(kind="submit")))
    return [step.observation for step in steps]


def score(server: Server, task_id: str, candidate: str, component: str = "") -> float:
    """The final score of an episode that submits ``candidate`` (or one of its components)."""
    final: CodeReviewObservation = play(server, task_id, candidate)[-1]
    assert final.evaluation is not None
    return final.evaluation.components[component] if component else final.evaluation.score


def test_permanent_pool_kill(server: Server) -> None:
    """Finding 1: 3,000 nested directories in scratch killed every worker and its replacements."""
    attack = (
        "\nimport os as _os\n_home = _os.open('.', _os.O_RDONLY)\n"
        "for _ in range(3000):\n    _os.mkdir('d')\n    _os.chdir('d')\n"
        "_os.fchdir(_home)\n"
    )
    for _ in range(2 * WORKERS):
        assert score(server, TASK, code(TASK, "code") + attack) == 0.0
    assert score(server, TASK, code(TASK, "fix")) == 1.0
    assert health(server)["sandbox"]["pool"]["live_workers"] == WORKERS


def test_host_file_modes_changed(server: Server, planted: Path) -> None:
    """Finding 2: chmod/chown/utime/xattrs on a host file outside scratch (setuid on a binary)."""
    before = host_state(planted)
    tool, notes = str(planted / "tool"), str(planted / "notes")
    attack = f"""
import os as _os
def _try(f):
    try:
        f()
    except OSError:
        pass
_try(lambda: _os.chmod({tool!r}, 0o4755))
_try(lambda: _os.chmod({notes!r}, 0o666))
_try(lambda: _os.chmod({str(planted)!r}, 0o777))
_try(lambda: _os.utime({notes!r}, (0, 0)))
_try(lambda: _os.setxattr({notes!r}, "user.pwn", b"1"))
_try(lambda: _os.removexattr({notes!r}, "user.note"))
_try(lambda: _os.chown({notes!r}, 65534, 65534))
def _by_fd():
    fd = _os.open({notes!r}, _os.O_RDONLY)
    for f in (lambda: _os.fchmod(fd, 0o666), lambda: _os.utime(fd, (0, 0)),
              lambda: _os.setxattr(fd, "user.pwn", b"1"), lambda: _os.fchown(fd, 1, 1)):
        _try(f)
_try(_by_fd)
"""
    assert score(server, TASK, code(TASK, "code") + attack) == 0.0
    assert host_state(planted) == before


def test_verdicts_poisoned_for_later_episodes(server: Server) -> None:
    """Finding 3: a job chmods the scratch root to 000; later references cached wrong outcomes."""
    attack = """
import os as _os
_job = _os.getcwd()
for _path in (_os.path.dirname(_os.path.dirname(_job)), _os.path.dirname(_job), _job):
    try:
        _os.chmod(_path, 0)
    except OSError:
        pass
"""
    for _ in range(2 * WORKERS):
        assert score(server, TASK, code(TASK, "code") + attack) == 0.0
    for task_id in FRESH_TASKS:  # their references are computed now, after the attack
        assert score(server, task_id, code(task_id, "code"), "tests") == 0.0
        assert score(server, task_id, code(task_id, "fix"), "tests") == 1.0


def test_worker_hard_limits_lowered(server: Server) -> None:
    """Finding 4: prlimit on the worker lowered what every later job on it got."""
    attack = """
import os as _os, resource as _r
for _limit, _value in ((_r.RLIMIT_STACK, 256 * 1024), (_r.RLIMIT_NPROC, 1),
                       (_r.RLIMIT_MEMLOCK, 0), (_r.RLIMIT_NOFILE, 16)):
    try:
        _r.prlimit(_os.getppid(), _limit, (_value, _value))
    except (OSError, ValueError):
        pass
"""
    for _ in range(2 * WORKERS):
        assert score(server, TASK, code(TASK, "code") + attack) == 0.0
    scores = [score(server, TASK, code(TASK, "fix") + DEEP_JSON) for _ in range(3 * WORKERS)]
    assert scores == [1.0] * len(scores)


def _limits(pid: int) -> str:
    return Path(f"/proc/{pid}/limits").read_text()


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_server_limited_or_killed(server: Server) -> None:
    """Finding 5: the server's pid is known to the job; prlimit/renice/pin it, or learn it."""
    limits, nice = _limits(server.pid), _nice(server.pid)
    affinity = os.sched_getaffinity(server.pid)
    attack = f"""
import os as _os, resource as _r
_server = {server.pid}
def _try(f):
    try:
        f()
    except (OSError, ValueError):
        pass
_try(lambda: _r.prlimit(_server, _r.RLIMIT_NOFILE, (30, 30)))
_try(lambda: _r.prlimit(_server, _r.RLIMIT_CPU, (1, 1)))
_try(lambda: _os.setpriority(_os.PRIO_PROCESS, _server, 19))
_try(lambda: _os.setpriority(_os.PRIO_PGRP, 0, 19))
_try(lambda: _os.setpriority(_os.PRIO_USER, 0, 19))
_try(lambda: _os.sched_setaffinity(_server, {{0}}))
print("CWD", _os.getcwd(), "ENV", dict(_os.environ), "PPID", _os.getppid())
"""
    first = play(server, TASK, code(TASK, "fix") + attack, run_tests=True)
    assert first[-1].evaluation.score == 1.0
    assert _limits(server.pid) == limits and _nice(server.pid) == nice
    assert os.sched_getaffinity(server.pid) == affinity
    shown = first[1].test_report.stdout
    assert "CWD" in shown
    assert str(server.pid) not in re.findall(r"\d+", shown.split("PPID")[0])
    assert score(server, TASK, code(TASK, "fix")) == 1.0


def test_pool_exhaustion_turns_into_errors(server: Server) -> None:
    """Finding 6: sleepers filling every worker made another session's submit fail."""
    sleeper = code(TASK, "code") + "\nimport time as _t\n_t.sleep(1.5)\n"
    results: list[object] = []

    def one(candidate: str) -> None:
        try:
            results.append(score(server, TASK, candidate))
        except Exception as exc:  # reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=one, args=(sleeper,)) for _ in range(3 * WORKERS)]
    for thread in threads:
        thread.start()
    one(code(TASK, "fix"))  # queued behind the sleepers, well past the 1 s queue setting
    for thread in threads:
        thread.join()
    assert results.count(1.0) == 1 and results.count(0.0) == 3 * WORKERS, results


def test_job_dict_readable_from_the_candidate(server: Server) -> None:
    """Finding 7: the job dict (hidden test source) and hidden-run output reached the agent."""
    attack = """
import gc as _gc, sys as _sys
_needle = "def " + "test_"  # built here, so the candidate's own source does not hold it
_found = []
for _o in _gc.get_objects():
    if isinstance(_o, dict) and isinstance(_o.get("tests"), str):
        _found.append("dict")
_f = _sys._getframe().f_back  # every frame below the candidate's module
while _f is not None:
    for _v in list(_f.f_locals.values()):
        _text = _v.decode("utf-8", "replace") if isinstance(_v, bytes) else _v
        if isinstance(_text, str) and _needle in _text:
            _found.append("frame:" + _f.f_code.co_name)
        if isinstance(_v, (dict, list)) and ("tests" in _v or b"tests" in str(_v).encode()):
            _found.append("frame-job:" + _f.f_code.co_name)
    _f = _f.f_back
print("LEAKS", sorted(set(_found)) or "none")
_real = split_evenly
def split_evenly(total_cents, people):
    print("ARGS-SEEN", total_cents, people)
    raise ValueError(f"ARGS-SEEN {total_cents} {people}")
"""
    steps = play(server, TASK, code(TASK, "code") + attack, run_tests=True)
    visible, final = steps[1], steps[-1]
    assert "LEAKS none" in visible.test_report.stdout, visible.test_report.stdout
    assert final.evaluation is not None and final.evaluation.score == 0.0
    hidden = final.evaluation.model_dump_json()
    assert "ARGS-SEEN" not in hidden and "LEAKS" not in hidden


def test_visible_score_forgery_pays_under_discounting(server: Server) -> None:
    """Finding 8: a patched harness 'passes' assert-style visible tests; submit took it back."""
    forge = """
import sys as _sys
_h = _sys.modules.get("pyenv_sandbox_harness")
if _h is not None:
    _h._run_test = lambda name, func: ("returned", None, "")
"""
    steps = play(server, TASK, code(TASK, "code") + forge, run_tests=True)
    rewards = [float(obs.reward or 0.0) for obs in steps]
    assert steps[-1].evaluation.score == 0.0
    for gamma in (0.5, 0.9, 0.99, 1.0):  # a no-op episode returns exactly 0
        assert sum(r * gamma**t for t, r in enumerate(rewards)) <= 1e-9, (gamma, rewards)


def test_after_the_whole_sequence_grading_is_as_on_a_fresh_server(
    server: Server, planted: Path
) -> None:
    """Wrong 0.0 and right 1.0 on every worker, and the planted host files untouched."""
    before = {w["slot"]: w["jobs"] for w in health(server)["sandbox"]["pool"]["workers"]}
    for _ in range(2 * WORKERS):
        assert score(server, TASK, code(TASK, "code")) == 0.0
        assert score(server, TASK, code(TASK, "fix") + DEEP_JSON) == 1.0
    after = health(server)
    assert after["status"] == "healthy" and after["sandbox"]["pool"]["live_workers"] == WORKERS
    served = {w["slot"]: w["jobs"] for w in after["sandbox"]["pool"]["workers"]}
    assert all(served[slot] > before.get(slot, 0) for slot in served), (before, served)
    assert host_state(planted) == PLANTED_STATE
