"""Soak: many WebSocket sessions x many mixed steps against a server of its own, on 127.0.0.1.

Starts ``python -m python_env.server`` on a free loopback port, plays ``--sessions`` sessions of
``--steps`` frames each at once (``soak_driver``: resets, reviews, edits, test runs, submits, state
reads and refused frames), then checks:

- no unexpected reply: every refused frame got its error frame (and not one of a server fault:
  kind ``ServerError`` or code ``SESSION_ERROR``), everything else its observation or state; no
  dropped connection, timeout, or traceback in the server's log;
- no cross-talk: each episode, replayed alone on one session, gets byte-identical replies, rewards
  and final evaluation (every episode, or a seeded sample of ``--replay`` of them);
- no growth: a warm-up first resets onto every task the load can reach (the pool, and every
  curated task, which seeded resets pick from), so per-task caches are full before the curve is
  judged. The server's RSS and open fds are then sampled every ``--interval`` s during the load.
  With the load's samples split in quarters (the first is left out as further warm-up), the last
  quarter's maximum must be at most the second quarter's maximum x 1.10 + slack (16 MiB of RSS,
  16 fds: each running sandbox job holds a few pipes for a moment);
- a healthy end: ``/health`` 200 with the sandbox pool serving, all workers live, none busy,
  nothing queued, every session slot free again (``MAX_CONCURRENT_ENVS`` sessions open at once)
  and, after they close, no open environment left (``/health``'s ``open_environments``).

Prints a summary and exits 1 on any failure. Bounded in count (the steps, and the episodes
replayed) and in time: ``--max-seconds`` bounds the load (reaching it is a failure), and every
reply has a deadline (120 s). Only 127.0.0.1 is ever contacted. Run by hand::

    .venv/bin/python benchmarks/soak.py --sessions 64 --steps 1000 --replay 2000 --interval 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from soak_driver import PoolTask, SessionDriver, Tally, build_pool, replay, run_sessions
from websockets.asyncio.client import connect

from python_env.agents.launcher import server_process
from python_env.tasks.catalog import default_catalog

RSS_SLACK_KB, FD_SLACK, GROWTH = 16 * 1024, 16, 1.10


def _status_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """Samples the server's RSS, open fds and threads, and its children's RSS, every interval."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.phase = pid, interval, "idle"
        self.samples: list[dict[str, Any]] = []
        self._halt = threading.Event()
        self._t0 = time.monotonic()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        """Take one sample now (a process that just exited counts as 0)."""
        try:
            kids = 0
            for child in _descendants(self.pid):
                try:
                    kids += _status_kb(child)
                except OSError:
                    continue
            self.samples.append(
                {
                    "t": round(time.monotonic() - self._t0, 1),
                    "phase": self.phase,
                    "rss_kb": _status_kb(self.pid),
                    "fds": len(os.listdir(f"/proc/{self.pid}/fd")),
                    "threads": len(os.listdir(f"/proc/{self.pid}/task")),
                    "children_kb": kids,
                }
            )
        except OSError:
            pass

    def stop(self) -> None:
        """Stop sampling, after one last sample."""
        self._halt.set()
        self.join()
        self.sample()


def growth(samples: list[dict[str, Any]]) -> list[str]:
    """The growth failures of the load phase's samples (see the module docstring)."""
    load = [s for s in samples if s["phase"] == "load"]
    quarter = len(load) // 4
    if quarter < 2:
        return []  # too short to tell; the summary says so
    failures = []
    for key, slack in (("rss_kb", RSS_SLACK_KB), ("fds", FD_SLACK)):
        base = max(s[key] for s in load[quarter : 2 * quarter])
        last = max(s[key] for s in load[3 * quarter :])
        if last > base * GROWTH + slack:
            failures.append(f"{key} grew after warm-up: {base} -> {last}")
    return failures


def print_curve(samples: list[dict[str, Any]], rows: int = 24) -> None:
    """About ``rows`` of the samples, evenly spaced, plus the last one."""
    step = max(1, len(samples) // rows)
    print(
        f"{'t(s)':>7} {'phase':<8} {'server RSS':>11} {'fds':>5} {'threads':>7} {'workers RSS':>12}"
    )
    for s in samples[::step] + ([samples[-1]] if len(samples) % step != 1 else []):
        print(
            f"{s['t']:>7} {s['phase']:<8} {s['rss_kb'] / 1024:>8.1f} MB {s['fds']:>5} "
            f"{s['threads']:>7} {s['children_kb'] / 1024:>9.1f} MB"
        )


def health(url: str) -> tuple[int, dict[str, Any]]:
    """``/health``: status code and body."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def pool_problems(url: str) -> list[str]:
    """Why the server is not healthy, with its sandbox pool idle and whole; [] when it is.
    Workers still cleaning up after the last jobs ("settling") get a few seconds to finish."""
    deadline = time.monotonic() + 10
    while True:
        code, body = health(url)
        pool = body.get("sandbox", {}).get("pool", {})
        if not pool.get("settling") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    problems = [] if code == 200 else [f"/health answered {code}: {body.get('status')}"]
    if not pool.get("serving"):
        problems.append(f"sandbox pool not serving: {pool}")
    if "live_workers" in pool and pool["live_workers"] != pool.get("size"):
        problems.append(f"{pool['live_workers']} of {pool.get('size')} workers live")
    if pool.get("busy") or pool.get("settling") or pool.get("queued"):
        problems.append(
            f"pool not idle at the end: busy {pool.get('busy')}, settling "
            f"{pool.get('settling')}, queued {pool.get('queued')}"
        )
    return problems


def open_environments_left(url: str, wait_s: float = 15.0) -> str:
    """'' once ``/health`` counts no open environment (when it counts them), else how many."""
    deadline = time.monotonic() + wait_s
    while (count := health(url)[1].get("open_environments", 0)) and time.monotonic() < deadline:
        time.sleep(0.5)  # an environment is closed just after its socket is
    return f"{count} environment(s) still open after every session closed" if count else ""


async def free_slots(url: str, count: int, tries: int = 20) -> str:
    """'' when ``count`` sessions can be open at once (every slot came back), else why not."""
    ws_url = url.replace("http", "ws", 1) + "/ws"

    async def one() -> str:
        async with connect(ws_url, open_timeout=30) as ws:
            await ws.send('{"type": "state"}')
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            await asyncio.sleep(0.5)  # hold the slot while the others open
            return str(reply.get("type"))

    why = ""
    for _ in range(tries):  # a slot is freed just after its socket closes: allow a moment
        try:
            replies = await asyncio.gather(*(one() for _ in range(count)))
        except Exception as exc:
            replies, why = [], f"{type(exc).__name__}: {exc}"
        if replies.count("state") == count:
            return ""
        why = why or f"only {replies.count('state')} of {count} sessions opened"
        await asyncio.sleep(0.5)
    return why


async def warm_up(url: str, pool: list[PoolTask]) -> list[str]:
    """Reset once onto every curated task and every pool task; the failures."""
    curated = [{"split": "curated", "index": i} for i in range(default_catalog().size("curated"))]
    failures = []
    async with connect(url.replace("http", "ws", 1) + "/ws", max_size=None) as ws:
        for data in curated + [{"task_id": t.id} for t in pool]:
            await ws.send(json.dumps({"type": "reset", "data": data}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if reply.get("type") != "observation":
                failures.append(f"warm-up reset {data}: {str(reply)[:200]}")
    return failures


def latency_table(tally: Tally) -> None:
    """Median, p95 and max latency of each move."""
    print(f"{'move':<13} {'sent':>6} {'refused':>7} {'median ms':>9} {'p95 ms':>8} {'max ms':>8}")
    for move, times in sorted(tally.latency_ms.items()):
        ms = sorted(times)
        sent, refused = tally.moves.get(move, 0), tally.expected_errors.get(move, 0)
        p95 = ms[int(len(ms) * 0.95)]
        print(
            f"{move:<13} {sent:>6} {refused:>7} {statistics.median(ms):>9.1f} {p95:>8.1f} "
            f"{ms[-1]:>8.1f}"
        )


def soak(args: argparse.Namespace) -> int:
    """Run the whole soak (module docstring); the process's exit code."""
    failures: list[str] = []
    pool = build_pool(args.seed, args.tasks_per_split)
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        server_process(args.sessions + 1, 120, log_path=Path(tmp) / "server.log") as (url, proc),
    ):
        sampler = Sampler(proc.pid, args.interval)
        sampler.start()
        sampler.phase = "warm-up"
        failures += asyncio.run(warm_up(url, pool))
        sampler.phase = "load"
        started = time.monotonic()
        drivers = [
            SessionDriver(url, n, args.seed, args.steps, pool, deadline=started + args.max_seconds)
            for n in range(args.sessions)
        ]
        tally = asyncio.run(run_sessions(drivers))
        wall = time.monotonic() - started
        sampler.phase = "replay"
        episodes = [e for d in drivers for e in d.episodes]
        sample = episodes
        if args.replay and len(episodes) > args.replay:
            sample = random.Random(args.seed).sample(episodes, args.replay)
        replay_started = time.monotonic()
        mismatches = asyncio.run(replay(url, sample))
        replay_wall = time.monotonic() - replay_started
        sampler.phase = "end"
        failures += pool_problems(url)
        slots = asyncio.run(free_slots(url, args.sessions + 1))  # the replay's slot too
        failures += [left] if (left := open_environments_left(url)) else []
        sampler.stop()
        log = (Path(tmp) / "server.log").read_text(errors="replace")
    tracebacks = log.count("Traceback (most recent call last)")
    failures += [f"unexpected: {u}" for u in tally.unexpected[:20]]
    failures += [f"cross-talk: {m}" for m in mismatches[:20]]
    failures += growth(sampler.samples) + ([f"session slots: {slots}"] if slots else [])
    failures += [f"{tracebacks} traceback(s) in the server log"] if tracebacks else []
    done = sum(e.done for e in episodes)

    print(
        f"== soak: {args.sessions} sessions x {args.steps} steps, seed {args.seed}, "
        f"{len(pool)} pool tasks"
    )
    print(f"steps {tally.steps} in {wall:.1f} s = {tally.steps / wall:.0f} steps/s")
    print(
        f"errors: expected {sum(tally.expected_errors.values())}, unexpected "
        f"{len(tally.unexpected)}; server tracebacks {tracebacks}"
    )
    print(
        f"episodes {len(episodes)} ({done} submitted, {len(episodes) - done} abandoned); "
        f"replayed alone {len(sample)}{' (seeded sample)' if sample is not episodes else ''} "
        f"in {replay_wall:.1f} s: {len(mismatches)} mismatch(es)"
    )
    print("refusals by code/kind:", json.dumps(dict(sorted(tally.error_kinds.items()))))
    latency_table(tally)
    print_curve(sampler.samples)
    load = [s for s in sampler.samples if s["phase"] == "load"]
    if len(load) >= 8:
        q = len(load) // 4
        for key in ("rss_kb", "fds"):
            base, last = max(s[key] for s in load[q : 2 * q]), max(s[key] for s in load[3 * q :])
            print(
                f"{key}: idle {sampler.samples[0][key]}, load start {load[0][key]}, second "
                f"quarter max {base}, last quarter max {last}, end {sampler.samples[-1][key]}"
            )
    else:
        print(f"growth: not judged ({len(load)} load samples; needs 8)")
    for failure in failures:
        print(f"FAIL {failure}")
    print("soak: PASS" if not failures else f"soak: FAIL ({len(failures)})")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1000, help="frames per session")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="bound on the load")
    parser.add_argument("--tasks-per-split", type=int, default=32, help="pool: curated + test")
    parser.add_argument("--replay", type=int, default=0, help="episodes replayed (0: all)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    sys.exit(soak(parser.parse_args()))


if __name__ == "__main__":
    main()
