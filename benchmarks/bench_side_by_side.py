"""python_env against OpenEnv's echo template env and the fork+exit floor, in one run.

    .venv/bin/python benchmarks/bench_side_by_side.py [--steps 400] [--sessions 1,16]

Scaffolds OpenEnv's template env (``openenv init`` into a temporary directory: an echo env),
serves it with ``create_app`` and the same session limit as python_env, starts python_env, and
drives both with the same raw ``/ws`` client (JSON frames, no client-side models), so only the
servers differ. Prints, per session count: the echo step and python_env's ``review`` step
(median latency, steps/s, the ratio), a graded step (``run_tests`` on a generated repair task: one
sandbox job) against the fork+exit floor of a preloaded interpreter, the server's CPU per graded
step (server, sandbox workers and their jobs), and the load average before and after. The ratios
are what hold from one machine to the next; the targets are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_sandbox import fork_floor_ms
from websockets.asyncio.client import connect

from python_env.agents.launcher import free_port, server_process, wait_healthy
from python_env.config import inherited_environment
from python_env.sandbox import probes
from python_env.tasks.catalog import default_catalog
from python_env.types import TaskKind

SESSION_LIMIT = 64
RESET_EVERY = 8  # under every task's step budget, so no step auto-submits
FINDING = {"start_line": 1, "end_line": 1, "category": "bug", "severity": "low", "message": "b"}
ECHO_SERVER = """
import sys, uvicorn
sys.path.insert(0, {root!r})
from openenv.core.env_server.http_server import create_app
from bench_echo.models import BenchEchoAction, BenchEchoObservation
from bench_echo.server.bench_echo_environment import BenchEchoEnvironment
app = create_app(BenchEchoEnvironment, BenchEchoAction, BenchEchoObservation,
                 env_name="bench_echo", max_concurrent_envs={limit})
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


@contextmanager
def echo_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """OpenEnv's template env, scaffolded by ``openenv init`` and served on 127.0.0.1."""
    openenv = Path(sys.executable).with_name("openenv")
    subprocess.run(
        [str(openenv), "init", "bench_echo", "--output-dir", str(workdir)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    code = ECHO_SERVER.format(root=str(workdir), limit=SESSION_LIMIT, port=port)
    command = [sys.executable, "-c", textwrap.dedent(code)]
    proc = subprocess.Popen(command, env=inherited_environment({}))
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, proc, 60):
            raise SystemExit("the echo env did not start")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


async def session(url: str, steps: int, kind: str, seed: int) -> list[float]:
    """One session over raw ``/ws``: reset, then ``steps`` steps of ``kind``; step latencies."""
    ws_url = url.replace("http://", "ws://") + "/ws"
    if kind == "echo":
        reset: dict[str, Any] = {}
        step: dict[str, Any] = {"message": "hello"}
    elif kind == "review":
        reset = {"split": "test", "seed": seed}
        step = {"kind": "review", "findings": [FINDING]}
    else:  # "graded:<task id>"
        reset, step = {"task_id": kind.partition(":")[2]}, {"kind": "run_tests"}
    times = []
    async with connect(ws_url, max_size=2**24) as ws:
        for index in range(steps):
            if index % RESET_EVERY == 0:  # both envs: a reset per RESET_EVERY steps, same task
                await ws.send(json.dumps({"type": "reset", "data": reset}))
                _answer(await ws.recv())
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "step", "data": step}))
            _answer(await ws.recv())
            times.append(time.perf_counter() - started)
    return times


def _answer(frame: str | bytes) -> dict[str, Any]:
    message = json.loads(frame)
    if message.get("type") == "error":
        raise SystemExit(f"the server answered an error: {message}")
    data: dict[str, Any] = message.get("data", {})
    return data


def drive(url: str, pid: int, sessions: int, steps: int, kind: str) -> tuple[float, float, float]:
    """(median step ms, steps/s, server CPU ms per step) of ``sessions`` concurrent sessions of
    ``steps`` each, after a warm-up that resets every task they use once."""

    async def run(count: int) -> list[list[float]]:
        return await asyncio.gather(*(session(url, count, kind, s) for s in range(sessions)))

    asyncio.run(run(RESET_EVERY))
    cpu = tree_cpu_s(pid)
    started = time.perf_counter()
    times = [t for one in asyncio.run(run(steps)) for t in one]
    wall = time.perf_counter() - started
    cpu_ms = (tree_cpu_s(pid) - cpu) / len(times) * 1000
    return statistics.median(times) * 1000, len(times) / wall, cpu_ms


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and every process below it, with the children they reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for each in (pid, *probes.descendants(pid)):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / ticks
    return total


def graded_task() -> str:
    """A generated repair task of the test split whose visible tests are few and quick."""
    catalog = default_catalog()
    tasks = [catalog.at("test", i) for i in range(catalog.size("test"))]
    repair = sorted(
        (t for t in tasks if TaskKind.REPAIR in t.info.kinds and not t.benchmark),
        key=lambda t: (len(t.visible_tests), t.id),
    )
    return repair[len(repair) // 2].id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="steps per session")
    parser.add_argument("--sessions", default="1,16", help="comma-separated session counts")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    floor = fork_floor_ms()
    task = graded_task()
    with (
        tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp,
        echo_server(Path(tmp)) as (echo, echo_pid),
        server_process(SESSION_LIMIT) as (ours, proc),
    ):
        print(f"fork+exit floor: {floor:.2f} ms; graded task: {task}")
        for n in counts:
            echo_ms, echo_rate, echo_cpu = drive(echo, echo_pid, n, args.steps, "echo")
            review_ms, review_rate, review_cpu = drive(ours, proc.pid, n, args.steps, "review")
            graded = drive(ours, proc.pid, n, max(RESET_EVERY, args.steps // 4), f"graded:{task}")
            graded_ms, graded_rate, cpu_ms = graded
            print(
                f"-- {n} session(s)\n"
                f"  echo step    {echo_ms:6.2f} ms  {echo_rate:7.0f} steps/s  "
                f"server CPU {echo_cpu:.2f} ms/step\n"
                f"  review step  {review_ms:6.2f} ms  {review_rate:7.0f} steps/s  "
                f"server CPU {review_cpu:.2f} ms/step; latency {review_ms / echo_ms:.2f}x echo, "
                f"rate {review_rate / echo_rate:.2f}x echo\n"
                f"  graded step  {graded_ms:6.2f} ms  {graded_rate:7.0f} steps/s  "
                f"server CPU {cpu_ms:.2f} ms/step; latency {graded_ms / floor:.2f}x fork+exit"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
