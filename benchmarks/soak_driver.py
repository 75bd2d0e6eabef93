"""The soak's sessions: a seeded mix of moves over one raw WebSocket each, and their replay.

Shared by ``benchmarks/soak.py`` and the determinism test. A ``SessionDriver`` plays ``steps``
frames on one ``/ws`` connection: resets onto tasks of a fixed pool (so the server's per-task
caches warm up early and its memory can be checked for growth), reviews with plausible and random
findings, edits to the original, the reference fix or garbage, runs tests, submits, reads its
state, and sends frames that must be refused (schema-invalid steps, steps outside an episode,
unknown tasks, unknown message types, bad JSON). Each frame carries the reply it must get; any
other reply is *unexpected*. Every episode keeps the frames sent while it was open, its rewards and
its final result, so ``replay`` can play it again alone and compare byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import default_catalog
from python_env.types import MAX_CODE_CHARS, Category, Severity

OBS, STATE = "observation", "state"
CATEGORIES = [c.value for c in Category]
SEVERITIES = [s.value for s in Severity]
# Moves and their weights while an episode is open ("soak") or for graded-heavy runs ("graded").
MIXES: dict[str, dict[str, int]] = {
    "soak": {
        "review": 24, "edit": 18, "run_tests": 14, "submit": 9, "state": 5, "reset": 4,
        "bad_step": 12, "bad_reset": 6, "bad_type": 4, "bad_json": 4,
    },
    "graded": {"review": 25, "edit": 30, "run_tests": 15, "submit": 25, "state": 5},
}  # fmt: skip
BAD_STEPS: list[dict[str, Any]] = [
    {"kind": "review"},
    {"kind": "review", "findings": []},
    {"kind": "fly"},
    {"kind": "edit"},
    {"kind": "edit", "code": 5},
    {"kind": "submit", "code": "x = 1\n"},
    {"kind": "run_tests", "extra": 1},
    {"kind": "review", "findings": [{"start_line": 0, "end_line": 1, "category": "bug"}]},
    {"kind": "edit", "code": "#" * (MAX_CODE_CHARS + 1)},  # over the limit: a large refusal
]


@dataclass(frozen=True)
class PoolTask:
    """What the driver needs of a task: its code, fix and answer-key findings."""

    id: str
    code: str
    fix: str
    lines: int
    reference: tuple[dict[str, Any], ...]


def build_pool(seed: int, per_split: int) -> list[PoolTask]:
    """Up to ``per_split`` tasks of ``curated`` and of ``test``, seeded; ids sorted."""
    catalog, rng, chosen = default_catalog(), random.Random(f"pool:{seed}"), []
    for split in ("curated", "test"):
        size = catalog.size(split)
        for index in sorted(rng.sample(range(size), min(per_split, size))):
            task = catalog.at(split, index)
            refs = tuple(reference_finding(task, i).model_dump(mode="json") for i in task.issues)
            chosen.append(PoolTask(task.id, task.code, task.fix, len(task.code.splitlines()), refs))
    return sorted(chosen, key=lambda t: t.id)


@dataclass
class Episode:
    """One episode as one session played it: frames sent while open, rewards, final result."""

    session: int
    number: int
    frames: list[dict[str, Any] | str] = field(default_factory=list)  # str: not JSON on purpose
    replies: list[str] = field(default_factory=list)  # "observation", "state" or "error:CODE"
    rewards: list[float | None] = field(default_factory=list)
    final: str = ""  # canonical JSON: the evaluation once done, else the running score
    done: bool = False


@dataclass
class Tally:
    """Counts of one or more sessions: moves sent, expected refusals, unexpected replies."""

    moves: dict[str, int] = field(default_factory=dict)
    expected_errors: dict[str, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)  # "CODE/kind" of those refusals
    unexpected: list[str] = field(default_factory=list)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    steps: int = 0

    def add(self, other: Tally) -> None:
        """Fold ``other`` into this tally."""
        for mine, theirs in (
            (self.moves, other.moves),
            (self.expected_errors, other.expected_errors),
            (self.error_kinds, other.error_kinds),
        ):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n
        for key, values in other.latency_ms.items():
            self.latency_ms.setdefault(key, []).extend(values)
        self.unexpected += other.unexpected
        self.steps += other.steps


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces (floats round-trip exactly)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def final_of(data: dict[str, Any]) -> str:
    """An episode's result from an observation envelope: the evaluation, else the score."""
    obs = data.get("observation", {})
    if obs.get("evaluation") is not None:
        return canonical(obs["evaluation"])
    return canonical({"score": obs.get("score"), "components": obs.get("score_components")})


class SessionDriver:
    """Plays ``steps`` frames of a seeded mix on one WebSocket session (see module docstring)."""

    def __init__(
        self,
        url: str,
        number: int,
        seed: int,
        steps: int,
        pool: list[PoolTask],
        *,
        mix: str = "soak",
        timeout_s: float = 120.0,
        deadline: float = float("inf"),
    ) -> None:
        self.ws_url = url.replace("http", "ws", 1).rstrip("/") + "/ws"
        self.number, self.steps, self.pool = number, steps, pool
        self.rng = random.Random(f"session:{seed}:{number}")
        self.weights = MIXES[mix]
        self.allow_bad = mix == "soak"
        self.timeout_s, self.deadline = timeout_s, deadline
        self.tally = Tally()
        self.episodes: list[Episode] = []
        self._open: Episode | None = None
        self._task: PoolTask | None = None
        self._code, self._steps_taken = "", 0

    async def run(self) -> None:
        """Play every step; a dropped connection or timeout ends the session (unexpected)."""
        try:
            async with connect(self.ws_url, max_size=None, open_timeout=60) as ws:
                for _ in range(self.steps):
                    if time.monotonic() > self.deadline:
                        self.tally.unexpected.append(f"s{self.number}: time bound hit")
                        break
                    await self._move(ws)
                    self.tally.steps += 1
        except Exception as exc:  # the connection died or a reply never came
            self.tally.unexpected.append(f"s{self.number}: {type(exc).__name__}: {exc}")

    async def _move(self, ws: ClientConnection) -> None:
        move, frame, expect = self._choose()
        self.tally.moves[move] = self.tally.moves.get(move, 0) + 1
        started = time.perf_counter()
        await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        reply = json.loads(await asyncio.wait_for(ws.recv(), self.timeout_s))
        self.tally.latency_ms.setdefault(move, []).append((time.perf_counter() - started) * 1e3)
        self._check(move, frame, expect, reply)

    def _choose(self) -> tuple[str, dict[str, Any] | str, str]:
        rng = self.rng
        if self._open is None:  # between episodes: mostly a reset, sometimes a refused step
            roll = rng.random()
            if self.allow_bad and roll < 0.08:
                return "step_outside", {"type": "step", "data": {"kind": "submit"}}, "error"
            if self.allow_bad and roll < 0.13:
                return "bad_reset", self._bad_reset(), "error"
            return "reset", self._reset(), OBS
        move = rng.choices(list(self.weights), list(self.weights.values()))[0]
        task = self._task
        assert task is not None
        if move == "review":
            return move, {"type": "step", "data": self._review(task)}, OBS
        if move == "edit":
            return move, {"type": "step", "data": {"kind": "edit", "code": self._edit(task)}}, OBS
        if move in ("run_tests", "submit"):
            return move, {"type": "step", "data": {"kind": move}}, OBS
        if move == "state":
            return move, {"type": "state"}, STATE
        if move == "reset":
            return move, self._reset(), OBS
        if move == "bad_step":
            return move, {"type": "step", "data": rng.choice(BAD_STEPS)}, "error"
        if move == "bad_reset":
            return move, self._bad_reset(), "error"
        if move == "bad_type":
            return move, {"type": rng.choice(["dance", "", "STEP", "resets"])}, "error"
        return move, rng.choice(['{"type": "step", "data": ', "not json", "{}}", ""]), "error"

    def _reset(self) -> dict[str, Any]:
        if self.rng.random() < 0.25:  # a seeded pick, as a trainer does it
            return {
                "type": "reset",
                "data": {"seed": self.rng.randrange(2**31), "split": "curated"},
            }
        return {"type": "reset", "data": {"task_id": self.rng.choice(self.pool).id}}

    def _bad_reset(self) -> dict[str, Any]:
        data = self.rng.choice(
            [
                {"task_id": f"no-such-task-{self.rng.randrange(10**6)}"},
                {"split": "no-such-split"},
                {"bogus_option": 1},
            ]
        )
        return {"type": "reset", "data": data}

    def _review(self, task: PoolTask) -> dict[str, Any]:
        rng, findings = self.rng, []
        for _ in range(rng.randint(1, 3)):
            if task.reference and rng.random() < 0.4:
                finding = dict(rng.choice(task.reference))
                if rng.random() < 0.5:
                    finding["suggested_fix"] = ""
            else:
                start = rng.randint(1, task.lines + (2 if rng.random() < 0.05 else 0))
                finding = {
                    "start_line": start,
                    "end_line": start + rng.randint(0, 2),
                    "category": rng.choice(CATEGORIES),
                    "severity": rng.choice(SEVERITIES),
                    "message": "soak finding",
                }
            findings.append(finding)
        return {"kind": "review", "findings": findings}

    def _edit(self, task: PoolTask) -> str:
        fix_lines = task.fix.splitlines(keepends=True)
        return self.rng.choice(
            [
                task.code,
                task.fix,
                task.fix,
                "",
                "def broken(:\n    pass\n",
                "raise SystemExit(3)\n",
                task.code + "\n# touched by the soak\n",
                "".join(fix_lines[:-1]),
            ]
        )

    def _check(self, move: str, frame: Any, expect: str, reply: dict[str, Any]) -> None:
        kind, data = reply.get("type"), reply.get("data") or {}
        got = f"error:{data.get('code')}" if kind == "error" else str(kind)
        if self._open is not None:
            self._open.frames.append(frame)
            self._open.replies.append(got)
        if expect == "error":
            if kind != "error":
                self._unexpected(move, frame, f"expected an error frame, got {kind}")
            elif data.get("kind") == "ServerError" or data.get("code") == "SESSION_ERROR":
                self._unexpected(move, frame, f"refused as a server fault: {str(data)[:300]}")
            else:
                self.tally.expected_errors[move] = self.tally.expected_errors.get(move, 0) + 1
                label = f"{data.get('code')}/{data.get('kind', '-')}"
                self.tally.error_kinds[label] = self.tally.error_kinds.get(label, 0) + 1
            return
        if kind != expect:
            self._unexpected(move, frame, f"expected {expect}, got {str(reply)[:300]}")
            return
        if kind == STATE:
            self._check_state(move, frame, data)
        elif move == "reset":
            self._start(frame, data)
        else:
            self._stepped(move, frame, data)

    def _start(self, frame: dict[str, Any], data: dict[str, Any]) -> None:
        if self._open is not None:  # abandoned: this reset is not its frame; keep its score
            self._open.frames.pop()
            self._open.replies.pop()
        obs = data["observation"]
        self._task = next((t for t in self.pool if t.id == obs["task"]["id"]), None)
        if self._task is None:  # a seeded pick outside the pool: no fix known
            code = obs["code"]
            self._task = PoolTask(obs["task"]["id"], code, code, len(code.splitlines()), ())
        self._code, self._steps_taken = obs["code"], 0
        self._open = Episode(self.number, len(self.episodes), [frame], [OBS], [data.get("reward")])
        self._open.final = final_of(data)
        self.episodes.append(self._open)

    def _stepped(self, move: str, frame: dict[str, Any], data: dict[str, Any]) -> None:
        episode, obs = self._open, data["observation"]
        assert episode is not None and self._task is not None
        if move == "edit":
            self._code = frame["data"]["code"]
        self._steps_taken += 1
        if obs["task"]["id"] != self._task.id or obs["code"] != self._code:
            self._unexpected(move, frame, "cross-talk: another episode's task or code came back")
        episode.rewards.append(data.get("reward"))
        episode.final = final_of(data)
        if data.get("done"):
            episode.done, self._open = True, None

    def _check_state(self, move: str, frame: Any, state: dict[str, Any]) -> None:
        assert self._task is not None
        if state.get("task_id") != self._task.id or state.get("step_count") != self._steps_taken:
            self._unexpected(move, frame, f"cross-talk: state {state} after {self._steps_taken}")

    def _unexpected(self, move: str, frame: Any, why: str) -> None:
        self.tally.unexpected.append(f"s{self.number} {move} {str(frame)[:160]}: {why}")


async def replay(url: str, episodes: list[Episode], timeout_s: float = 120.0) -> list[str]:
    """Play ``episodes`` again, one after another on one session; the mismatches found."""
    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/ws"
    mismatches: list[str] = []
    async with connect(ws_url, max_size=None, open_timeout=60) as ws:
        for episode in episodes:
            replies, rewards, final = [], [], ""
            for frame in episode.frames:
                await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
                reply = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
                data = reply.get("data") or {}
                is_error = reply["type"] == "error"
                replies.append(f"error:{data.get('code')}" if is_error else reply["type"])
                if reply["type"] == OBS:
                    rewards.append(data.get("reward"))
                    final = final_of(data)
            where = f"session {episode.session} episode {episode.number}"
            if replies != episode.replies:
                mismatches.append(f"{where}: replies {replies} != {episode.replies}")
            elif rewards != episode.rewards:
                mismatches.append(f"{where}: rewards {rewards} != {episode.rewards}")
            elif final != episode.final:
                mismatches.append(f"{where}: final {final[:300]} != {episode.final[:300]}")
    return mismatches


async def run_sessions(drivers: list[SessionDriver]) -> Tally:
    """Run every driver at once; their tallies added up."""
    await asyncio.gather(*(d.run() for d in drivers))
    total = Tally()
    for driver in drivers:
        total.add(driver.tally)
    return total
