"""Three replicas behind one ``PythonEnvPool``: 48 sessions spread 16/16/16 and a 49th is refused;
``eval`` takes several ``--url``s; a replica SIGKILLed mid-run costs only the episodes it held
(``SessionLost`` within seconds, counted per replica), and every other episode scores what it
scores on one server. The tests of this module run in order: the last one kills a replica."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from python_env.agents import make_factory
from python_env.agents.base import EpisodeResult
from python_env.agents.evaluation import RunStats, plan_episodes, run_episodes
from python_env.agents.launcher import server_process
from python_env.cli import main
from python_env.errors import ServerAtCapacity
from python_env.pool import PythonEnvPool, ReplicaStats
from python_env.tasks.catalog import default_catalog

SLOTS = 16
REPLICAS = 3
Replica = tuple[str, "subprocess.Popen[bytes]"]


@pytest.fixture(scope="module")
def replicas() -> Iterator[list[Replica]]:
    """Three servers of 16 sessions on 127.0.0.1, started side by side (imports dominate)."""
    # Three cold starts at once on 2 cores, beside the rest of the suite: give them time.
    env = {"PYTHON_ENV_SANDBOX_WORKERS": "1"}
    managers = [server_process(SLOTS, timeout_s=180.0, env=env) for _ in range(REPLICAS)]
    with ExitStack() as stack:
        with ThreadPoolExecutor(REPLICAS) as starter:
            futures = [starter.submit(manager.__enter__) for manager in managers]
        started: list[Replica] = []
        for manager, future in zip(managers, futures, strict=True):
            if future.exception() is None:
                started.append(future.result())
                stack.push(manager.__exit__)
        for future in futures:
            future.result()  # a server that did not start fails the module (the others stop)
        yield started


def open_environments(url: str) -> int:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return int(json.loads(response.read())["open_environments"])


def test_48_sessions_spread_16_16_16_and_a_49th_is_refused(replicas: list[Replica]) -> None:
    urls = [url for url, _ in replicas]

    async def scenario() -> None:
        async with PythonEnvPool(urls) as pool:
            envs = await asyncio.gather(*(pool.acquire(wait_s=10) for _ in range(3 * SLOTS)))
            assert [s.open for s in pool.stats().values()] == [SLOTS] * REPLICAS
            assert [open_environments(url) for url in urls] == [SLOTS] * REPLICAS
            assert sorted({str(env.base_url) for env in envs}) == sorted(urls)
            started = time.monotonic()
            with pytest.raises(ServerAtCapacity, match="every replica refused"):
                await pool.acquire(wait_s=1.0)
            waited = time.monotonic() - started
            assert 1.0 <= waited < 3.0, waited
            assert all(s.refusals >= 1 and s.failures == 0 for s in pool.stats().values())
            await asyncio.gather(*(pool.release(env) for env in envs))
            assert [s.open for s in pool.stats().values()] == [0] * REPLICAS

    asyncio.run(scenario())


def test_eval_spreads_over_repeated_urls_and_sums_their_limits(
    replicas: list[Replica], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (one, _), (two, _), (three, _) = replicas
    urls = ["--url", one, "--url", f"{two},{three.removeprefix('http://')}"]
    base = ["eval", "--agent", "oracle", *urls, "--quiet", "--no-plot"]
    too_many = [*base, "--limit", "49", "--concurrency", "49", "--out", str(tmp_path / "x.json")]
    assert main(too_many) == 2
    assert "above the 48 sessions the 3 replicas hold together" in capsys.readouterr().err
    out = tmp_path / "three.json"
    assert main([*base, "--limit", "6", "--concurrency", "6", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["server"] == f"{one},{two},{three}"
    assert [r["opened"] for r in report["replicas"].values()] == [2, 2, 2]
    assert report["aggregate"]["overall"]["completed"] == 6
    assert "replicas: " in capsys.readouterr().out


def test_a_killed_replica_costs_only_its_episodes_and_the_rest_score_as_on_one_server(
    replicas: list[Replica],
) -> None:
    urls = [url for url, _ in replicas]
    victim_url, victim = replicas[-1]
    episodes = plan_episodes(default_catalog().infos("curated"), 64, seed=0)
    seen: list[tuple[EpisodeResult, float]] = []
    killed_at: list[float] = []

    def on_result(result: EpisodeResult) -> None:
        seen.append((result, time.monotonic()))
        if len(seen) == 8:  # every session is busy: 16 episodes are in flight on the victim
            victim.kill()  # SIGKILL: no close frame, the kernel closes its sockets
            killed_at.append(time.monotonic())

    async def run() -> tuple[RunStats, dict[str, ReplicaStats]]:
        async with PythonEnvPool(urls) as pool:
            random = make_factory("random")
            stats = await run_episodes(pool, "random", random, episodes, 3 * SLOTS, on_result)
            return stats, pool.stats()

    stats, per_replica = asyncio.run(run())
    victim.wait(timeout=10)
    lost = [(r, at) for r, at in seen if r.error is not None]
    assert stats.episodes == len(episodes) and stats.errors == len(lost) == SLOTS
    assert all(str(r.error).startswith("SessionLost: ") for r, _ in lost)
    assert max(at for _, at in lost) - killed_at[0] < 5.0  # failed, promptly: never a hang
    dead = per_replica[victim_url]  # down at its first lost session: no new one went there
    assert (dead.lost, dead.opened, dead.down) == (SLOTS, SLOTS, True)
    assert [s.lost for u, s in per_replica.items() if u != victim_url] == [0, 0]

    # The same (task, seed) episodes on one server: the same scores, rewards and step counts.
    completed = {(r.task_id, r.seed): r for r, _ in seen if r.error is None}
    again = [e for e in episodes if (e.task.id, e.seed) in completed]
    alone = asyncio.run(run_episodes(urls[0], "random", make_factory("random"), again, SLOTS))
    assert alone.errors == 0 and len(alone.results) == len(completed) == len(episodes) - SLOTS
    for result in alone.results:
        pooled = completed[(result.task_id, result.seed)]
        assert (pooled.score, pooled.reward_sum, pooled.steps) == (
            result.score,
            result.reward_sum,
            result.steps,
        ), result.task_id
