"""WebSocket fuzzing (issue 16): bad frames and bad clients never hurt the other sessions.

One server of this module's own takes, on ``/ws``: garbage text, JSON of every wrong shape,
binary frames, frames of 2, 5 and 20 MiB, deeply nested JSON, unknown message types, floods of
interleaved resets and steps sent without reading, a slow client (half a frame, then nothing), one
that never reads its replies, and bursts of connections opened and dropped. Meanwhile a canary
session plays a correct episode over and over. Each fuzz frame must get either a well-formed error
frame of at most 64 KiB (the session may then go on, or close cleanly) or a clean close with a
protocol close code; never a dropped TCP connection (1006), an internal-error close (1011), a hang
or an oversized reply. At the end the canary's results never changed and its latency stayed
bounded, the server is up and ``/health`` is 200 with its sandbox pool serving, every session
slot is free again (``MAX_CONCURRENT_ENVS`` sessions open at once), no environment is left open
(``/health``'s ``open_environments``) and the server holds no more fds than before.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect

from python_env.agents.launcher import server_process
from python_env.tasks.catalog import default_catalog

SLOTS = 8
MAX_REPLY = 64 * 1024
CLEAN = {1000, 1003, 1007, 1008, 1009}  # normal, unsupported data, bad payload, policy, too big
CANARY_STEP_S = 20.0  # the canary's bound on one reply while the fuzz runs (2 loaded cores)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, int]]:
    """A server of the module's own (it is meant to be abused), with its pid."""
    with server_process(max_concurrent_envs=SLOTS) as (url, proc):
        yield url, proc.pid


def _ws_url(url: str) -> str:
    return url.replace("http", "ws", 1) + "/ws"


class Canary(threading.Thread):
    """Plays reset → edit to the reference fix → submit until stopped, on one session; every
    evaluation must equal the first, and every reply come within ``CANARY_STEP_S``."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        task = default_catalog().at("curated", 0)
        self.frames = [
            {"type": "reset", "data": {"task_id": task.id}},
            {"type": "step", "data": {"kind": "edit", "code": task.fix}},
            {"type": "step", "data": {"kind": "submit"}},
        ]
        self.url, self.halt = url, threading.Event()
        self.evaluations: list[str] = []
        self.problems: list[str] = []
        self.slowest = 0.0

    def run(self) -> None:
        """Play episodes until halted; a problem ends the canary."""
        try:
            with sync_connect(_ws_url(self.url), max_size=None, open_timeout=60) as ws:
                while not self.halt.is_set():
                    for frame in self.frames:
                        started = time.monotonic()
                        ws.send(json.dumps(frame))
                        reply = json.loads(ws.recv(timeout=120))
                        self.slowest = max(self.slowest, time.monotonic() - started)
                        if reply["type"] != "observation":
                            raise AssertionError(f"{frame['type']}: {str(reply)[:300]}")
                    evaluation = reply["data"]["observation"]["evaluation"]
                    self.evaluations.append(json.dumps(evaluation, sort_keys=True))
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")


async def _answer(ws: ClientConnection, timeout: float = 60) -> str:
    """What the server did after a fuzz frame, as a label; a label starting "BAD" is a failure."""
    try:
        reply = await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else 1006
        return f"close {code}" if code in CLEAN else f"BAD close {code} {closed.rcvd}"
    except TimeoutError:
        return "BAD no reply"
    if len(reply) > MAX_REPLY:
        return f"BAD reply of {len(reply)} bytes"
    try:
        message = json.loads(reply)
        kind, data = message["type"], message["data"]
        assert kind in ("error", "observation", "state", "mcp")
        assert kind != "error" or (data["message"] and data["code"])
    except Exception:
        return f"BAD malformed reply {str(reply)[:200]!r}"
    label = f"error {data['code']}/{data.get('kind')}" if kind == "error" else f"accepted: {kind}"
    if kind == "error" and data.get("kind") == "ServerError":
        return f"BAD {label}: {data['message'][:120]}"  # bad input is never the server's fault
    try:  # does the session go on?
        await ws.send('{"type": "state"}')
        after = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        return f"{label}, then {after['type']}"
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else 1006
        return f"BAD {label}, then close {code}"  # an error frame must leave the session usable


async def _try(url: str, frame: str | bytes) -> str:
    async with connect(_ws_url(url), max_size=None, open_timeout=60) as ws:
        try:
            await ws.send(frame)
        except ConnectionClosed as closed:  # a frame over the limit is closed as it arrives
            code = closed.rcvd.code if closed.rcvd else 1006
            return f"close {code}" if code in CLEAN else f"BAD close {code} {closed.rcvd}"
        return await _answer(ws)


def _cases(seed: int) -> dict[str, list[str | bytes]]:
    rng = random.Random(seed)
    noise = [
        "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 80)))
        for _ in range(12)
    ]
    not_objects = ["[]", "1", '"x"', "null", "true", "9" * 5_000, "1e999999"]
    not_objects.append('{"type": "reset", "data": {"seed": ' + "9" * 5_000 + "}}")
    bad_data = [
        {"type": 1},
        {"type": "step", "data": []},
        {"type": "step", "data": "x"},
        {"type": "reset", "data": 5},
        {"type": "reset", "data": {"seed": -1}},
        {"type": "reset", "data": {"seed": "x"}},
        {"type": "state", "data": {"a": 1}},
        {"type": "reset", "data": {"split": "curated", "index": "x"}},
    ]
    names: list[Any] = ["", "dance", "RESET", None, 5, [], {}]
    rpc = {"jsonrpc": "2.0", "method": "tools/list", "id": 1}
    unknown = [{"type": name} for name in names]
    unknown += [{"type": "mcp", "data": data} for data in ({}, "x", rpc)]
    edit = {"type": "step", "data": {"kind": "edit", "code": "x" * 2_000_000}}
    findings = '{"type": "step", "data": {"kind": "review", "findings": %s}}'
    return {
        "garbage text": [*noise, "", " ", "{", "}{", '{"type": "step"', "\x00"],
        "wrong shapes": not_objects + [json.dumps(frame) for frame in bad_data],
        "binary": [b"", b"\x00\xff\xfe", b'{"type": "state"}', rng.randbytes(1 << 20)],
        "huge": [json.dumps(edit), "x" * (5 << 20), " " * (20 << 20)],
        "deep nesting": [
            "[" * 100_000,
            "[" * 100_000 + "]" * 100_000,
            '{"a":' * 50_000 + "1" + "}" * 50_000,
            findings % ("[" * 20_000 + "]" * 20_000),
        ],
        "unknown types": [json.dumps(frame) for frame in unknown],
    }


async def _flood(url: str, task_id: str, frames: int) -> list[str]:
    """Interleaved resets, steps, state reads and bad frames sent without reading, then read."""
    steps = [{"type": "step", "data": {"kind": kind}} for kind in ("run_tests", "submit", "nope")]
    sent = [{"type": "reset", "data": {"task_id": task_id}}, *steps, {"type": "state"}]
    labels = []
    async with connect(_ws_url(url), max_size=None, open_timeout=60) as ws:
        for i in range(frames):
            await ws.send(json.dumps(sent[i % len(sent)]))
        for _ in range(frames):
            reply = await asyncio.wait_for(ws.recv(), 120)
            labels.append(json.loads(reply)["type"] if len(reply) <= MAX_REPLY else "BAD size")
    return labels


async def _half_frame(url: str, hold_s: float) -> str:
    """A raw client: the upgrade, then a text frame header announcing 1000 bytes and 10 of them."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    status = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).split(b"\r\n")[0]
    writer.write(bytes([0x81, 0x80 | 126]) + (1000).to_bytes(2, "big") + os.urandom(4) + b"x" * 10)
    await writer.drain()
    await asyncio.sleep(hold_s)
    writer.close()
    return status.decode()


async def _never_reads(url: str, task_id: str, hold_s: float) -> None:
    """Sends 60 resets (each reply is the task's code and tests) and reads none, then drops."""
    ws = await connect(_ws_url(url), max_size=None, max_queue=1, open_timeout=60)
    for _ in range(60):
        await ws.send(json.dumps({"type": "reset", "data": {"task_id": task_id}}))
    await asyncio.sleep(hold_s)
    ws.transport.abort()  # no close handshake


async def _churn(url: str, task_id: str) -> Counter[str]:
    """Connections opened and dropped: closed at once, aborted mid-reset, closed mid-reset."""
    done: Counter[str] = Counter()
    reset = json.dumps({"type": "reset", "data": {"task_id": task_id}})
    for i in range(90):
        ws = await connect(_ws_url(url), open_timeout=60)
        if i % 3:
            await ws.send(reset)
        if i % 3 == 1:
            ws.transport.abort()
            done["aborted mid-reset"] += 1
        else:
            await ws.close()
            done["closed" if i % 3 == 0 else "closed mid-reset"] += 1
    return done


async def _fuzz(url: str, task_id: str) -> tuple[dict[str, Counter[str]], list[str]]:
    results: dict[str, Counter[str]] = {}
    bad: list[str] = []
    for category, frames in _cases(seed=16).items():
        results[category] = Counter()
        for frame in frames:
            label = await _try(url, frame)
            results[category][label] += 1
            print(f"{category}: {str(frame)[:48]!r} ({len(frame)} bytes) -> {label}")
            if "BAD" in label:
                bad.append(f"{category}: {str(frame)[:80]!r} -> {label}")
    slow = asyncio.gather(_half_frame(url, 6), _never_reads(url, task_id, 6))
    floods = await asyncio.gather(*(_flood(url, task_id, 300) for _ in range(2)))
    status, _ = await slow
    results["slow clients"] = Counter({f"half frame: {status}": 1, "never reads": 1})
    results["floods"] = Counter(label for flood in floods for label in flood)
    bad += [f"flood reply: {label}" for label in results["floods"] if label.startswith("BAD")]
    results["churn"] = await _churn(url, task_id)
    return results, bad


async def _all_slots_free(url: str) -> str:
    async def hold() -> str:
        async with connect(_ws_url(url), open_timeout=30) as ws:
            await ws.send('{"type": "state"}')
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            await asyncio.sleep(1)
            return str(reply["type"])

    for _ in range(20):  # a dropped connection's slot is freed a moment after it drops
        got = await asyncio.gather(*(hold() for _ in range(SLOTS)), return_exceptions=True)
        if got.count("state") == SLOTS:
            return ""
        await asyncio.sleep(1)
    return f"not all {SLOTS} slots free: {got}"


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/health", timeout=30) as response:  # 200 or it raises
        return dict(json.loads(response.read()))


@pytest.mark.timeout(300)
def test_fuzzed_sessions_leave_the_others_alone(live: tuple[str, int]) -> None:
    url, pid = live
    task_id = default_catalog().at("curated", 0).id
    fds_before = len(os.listdir(f"/proc/{pid}/fd"))
    canary = Canary(url)
    canary.start()
    time.sleep(3)
    results, bad = asyncio.run(_fuzz(url, task_id))
    canary.halt.set()
    canary.join(timeout=180)
    for category, labels in results.items():
        print(f"{category:>14}: {sum(labels.values())} tried: {dict(labels)}")
    print(f"canary: {len(canary.evaluations)} episodes, slowest reply {canary.slowest:.1f} s")
    assert bad == []
    assert canary.problems == [] and len(canary.evaluations) >= 3
    assert len(set(canary.evaluations)) == 1, "the canary's evaluation changed under the fuzz"
    assert canary.slowest < CANARY_STEP_S
    assert os.path.exists(f"/proc/{pid}"), "the server died"
    assert _health(url)["sandbox"]["pool"]["serving"]
    assert asyncio.run(_all_slots_free(url)) == ""
    deadline = time.monotonic() + 15  # an environment is closed just after its socket is
    while _health(url).get("open_environments", 0):
        assert time.monotonic() < deadline, f"environments left open: {_health(url)}"
        time.sleep(0.5)
    deadline = time.monotonic() + 15  # closed sockets and finished jobs let go of their fds
    while (fds := len(os.listdir(f"/proc/{pid}/fd"))) > fds_before + 4:
        assert time.monotonic() < deadline, f"server fds {fds_before} -> {fds}"
        time.sleep(0.5)


def _rpc(url: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": 1})
    request = urllib.request.Request(
        f"{url}/mcp", body.encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_http_mcp_sessions_cannot_lock_out_websocket_clients(live: tuple[str, int]) -> None:
    url, _pid = live
    opened = [_rpc(url, "openenv/session/create").get("result") for _ in range(SLOTS)]
    ids = [r["session_id"] for r in opened if isinstance(r, dict) and "session_id" in r]
    try:
        with sync_connect(_ws_url(url), open_timeout=30) as ws:
            ws.send('{"type": "state"}')
            reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "state", reply
    finally:  # give the slots back for whatever runs next on this server
        for session_id in ids:
            _rpc(url, "openenv/session/close", {"session_id": session_id})
