"""WebSocket latency of reset and of a review step, with 1 and 16 concurrent clients.

Starts ``python -m python_env.server`` on a free 127.0.0.1 port (or uses ``--url``), then prints the
median and p95 latency per operation and the aggregate throughput, twice: first on tasks the
server has not seen (a reset validates its task: reference and original runs in the sandbox),
then on the same tasks again (validated, cached). Run by hand::

    .venv/bin/python benchmarks/bench_server.py [--rounds 200] [--split curated] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from python_env.agents.launcher import embedded_server
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.types import Category, Finding, Severity

FINDING = Finding(
    start_line=1, end_line=1, category=Category.BUG, severity=Severity.LOW, message="bench"
)


async def client_loop(url: str, rounds: int, seed: int, split: str) -> dict[str, list[float]]:
    """Alternate resets and review steps; re-reset before the step budget would auto-submit."""
    times: dict[str, list[float]] = {"reset": [], "review": []}
    review = CodeReviewAction(kind="review", findings=[FINDING])
    async with PythonEnv(base_url=url) as env:
        steps_left = 0
        for i in range(rounds):
            if steps_left <= 1:
                start = time.perf_counter()
                result = await env.reset(seed=seed + i, split=split)
                times["reset"].append(time.perf_counter() - start)
                steps_left = result.observation.steps_left
            start = time.perf_counter()
            result = await env.step(review)
            times["review"].append(time.perf_counter() - start)
            steps_left = result.observation.steps_left
    return times


def summary(name: str, samples: list[float], wall: float) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{name:<8} n={len(ms):>5}  median {statistics.median(ms):7.2f} ms  "
        f"p95 {p95:7.2f} ms  {len(ms) / wall:8.0f} ops/s"
    )


async def run(url: str, clients: int, rounds: int, split: str, label: str) -> None:
    start = time.perf_counter()
    loops = (client_loop(url, rounds, 1000 * c, split) for c in range(clients))
    results = await asyncio.gather(*loops)
    wall = time.perf_counter() - start
    print(f"-- {clients} client(s), {rounds} review steps each, {label}")
    for op in ("reset", "review"):
        print("  " + summary(op, [t for r in results for t in r[op]], wall))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--rounds", type=int, default=200, help="review steps per client")
    parser.add_argument("--split", default="curated", help="the split resets pick tasks from")
    args = parser.parse_args()
    with embedded_server() if args.url is None else _given(args.url) as url:
        for label in ("tasks new to the server", "the same tasks again"):
            for clients in (1, 16):
                asyncio.run(run(url, clients, args.rounds, args.split, label))


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
