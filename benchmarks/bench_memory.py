"""Server memory with 1, 16 and 64 sessions playing a mix of steps, all starting at once.

    .venv/bin/python benchmarks/bench_memory.py [--sessions 1,16,64] [--episodes 4]

For each session count, a fresh ``python -m python_env.server`` (64 sessions, the default pool)
on 127.0.0.1; every session starts at the same moment and plays ``--episodes`` episodes on seeded
picks over the default splits (curated and train: the lazily read train split is parsed by the
first one): a review, the reference fix as an edit, ``run_tests`` and ``submit``. Prints the
server's RSS before, its peak (sampled every 50 ms) and after, and the PSS of the server and its
sandbox workers after (PSS counts pages shared by the forked workers once).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from pathlib import Path

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.sandbox import probes
from python_env.tasks.catalog import default_catalog

FINDING = {"start_line": 1, "end_line": 1, "category": "bug", "severity": "low", "message": "m"}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pss_mib(pid: int) -> float:
    """PSS of ``pid`` and every process below it."""
    total = 0
    for each in (pid, *probes.descendants(pid)):
        try:
            text = Path(f"/proc/{each}/smaps_rollup").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))
    return total / 1024


async def play(url: str, seed: int, episodes: int) -> None:
    catalog = default_catalog()
    async with PythonEnv(base_url=url) as env:
        for episode in range(episodes):
            obs = (await env.reset(seed=seed * 1000 + episode)).observation
            fix = catalog.get(obs.task.id).fix
            for action in (
                CodeReviewAction(kind="review", findings=[FINDING]),
                CodeReviewAction(kind="edit", code=fix),
                CodeReviewAction(kind="run_tests"),
                CodeReviewAction(kind="submit"),
            ):
                if (await env.step(action)).done:
                    break


def measure(sessions: int, episodes: int) -> str:
    with server_process(64) as (url, proc):
        before = rss_mib(proc.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak.append(rss_mib(proc.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()

        async def run() -> None:
            await asyncio.gather(*(play(url, s, episodes) for s in range(sessions)))

        try:
            asyncio.run(run())
        finally:
            done.set()
            sampler.join()
        wall = time.perf_counter() - started
        return (
            f"{sessions:>3} sessions x {episodes} episodes in {wall:5.1f} s: server RSS "
            f"{before:.0f} -> peak {max(peak):.0f} -> {rss_mib(proc.pid):.0f} MiB; "
            f"server + workers PSS {pss_mib(proc.pid):.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,16,64", help="comma-separated session counts")
    parser.add_argument("--episodes", type=int, default=4, help="episodes per session")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for n in (int(x) for x in args.sessions.split(",")):
        print(measure(n, args.episodes), flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
