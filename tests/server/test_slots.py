"""Session slots come back however a client leaves, and a full server refuses only the overflow.

Bounds (stated in RELIABILITY.md): a close frame or a TCP reset frees the slot at
once (< 1 s here); a client that vanishes mid-step frees it when that step ends (the step's own
sandbox limits bound it); a frozen client, which holds its socket open, within two
``WS_PING_INTERVAL``s.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from python_env.agents.launcher import server_process
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.errors import ServerAtCapacity

PING_S = 1.0
SLOTS = 2


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    env = {"WS_PING_INTERVAL": str(PING_S), "PYTHON_ENV_SANDBOX_WORKERS": "2"}
    with server_process(max_concurrent_envs=SLOTS, env=env) as (base, _proc):
        yield base


def open_environments(url: str) -> int:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
        return int(json.loads(resp.read())["open_environments"])


def seconds_until(check: Callable[[], bool], limit: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, f"not within {limit}s"
        time.sleep(0.02)
    return time.monotonic() - started


class RawClient:
    """A WebSocket client on a bare socket, so a test can reset the connection mid-flight."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert b" 101 " in self.sock.recv(4096)

    def send(self, frame: dict[str, object]) -> None:
        payload, mask = json.dumps(frame).encode(), os.urandom(4)
        header = bytes([0x81]) + (
            bytes([0x80 | len(payload)])
            if len(payload) < 126
            else bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def reset_connection(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()  # linger 0: the kernel sends RST, no close frame, no FIN


def test_a_full_server_refuses_only_the_overflow_with_a_typed_error(url: str) -> None:
    seconds_until(lambda: open_environments(url) == 0, 10)
    with PythonEnv(base_url=url).sync() as one, PythonEnv(base_url=url).sync() as two:
        one.reset(seed=1), two.reset(seed=2)
        with PythonEnv(base_url=url).sync() as three, pytest.raises(ServerAtCapacity) as full:
            three.reset(seed=3)
        assert full.value.details["max_sessions"] == SLOTS
        assert one.step(CodeReviewAction(kind="submit")).done  # the others are unharmed
        assert two.step(CodeReviewAction(kind="submit")).done
    seconds_until(lambda: open_environments(url) == 0, 5)


def _refused_now(url: str) -> bool:
    with PythonEnv(base_url=url).sync() as probe:
        try:
            probe.reset(seed=0)
        except ServerAtCapacity:
            return True
    return False


def test_slots_come_back_however_the_client_leaves(url: str) -> None:
    seconds_until(lambda: open_environments(url) == 0, 10)
    freed: dict[str, float] = {}

    # A close frame.
    with PythonEnv(base_url=url).sync() as env:
        env.reset(seed=0)
        assert open_environments(url) == 1
    freed["close frame"] = seconds_until(lambda: open_environments(url) == 0, 1)

    # A TCP reset, between steps.
    raw = RawClient(url)
    raw.send({"type": "reset", "data": {"seed": 0}})
    raw.sock.recv(65536)
    raw.reset_connection()
    freed["reset"] = seconds_until(lambda: open_environments(url) == 0, 1)

    # A TCP reset in the middle of a step that runs for 2 s: the step ends, then the slot frees.
    raw = RawClient(url)
    raw.send({"type": "reset", "data": {"task_id": "bill-split-lost-cents"}})
    raw.sock.recv(65536)
    raw.send({"type": "step", "data": {"kind": "edit", "code": "import time\ntime.sleep(2)\n"}})
    raw.sock.recv(65536)
    started = time.monotonic()
    raw.send({"type": "step", "data": {"kind": "run_tests"}})
    time.sleep(0.2)
    raw.reset_connection()
    seconds_until(lambda: open_environments(url) == 0, 20)
    freed["reset mid-step"] = time.monotonic() - started

    # A frozen client: its socket stays open, it answers no ping.
    frozen = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert frozen.stdout is not None and frozen.stdout.readline().strip() == b"ready"
        os.kill(frozen.pid, signal.SIGSTOP)
        freed["frozen client"] = seconds_until(lambda: open_environments(url) == 0, 4 * PING_S)
    finally:
        frozen.kill()
        frozen.wait()
        if frozen.stdout is not None:
            frozen.stdout.close()

    assert freed["close frame"] < 1 and freed["reset"] < 1, freed
    assert 1.8 <= freed["reset mid-step"] < 10, freed
    assert freed["frozen client"] <= 2 * PING_S + 1, freed
    assert not _refused_now(url)  # and nothing leaked: both slots serve
    with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
        assert json.loads(resp.read())["sandbox"]["pool"]["serving"]
    print("slot freed after:", {k: round(v, 3) for k, v in freed.items()})


_HOLDER = """
import sys
import time
from python_env.client import PythonEnv
env = PythonEnv(base_url=sys.argv[1]).sync()
env.connect()
env.reset(seed=0)
print("ready", flush=True)
time.sleep(3600)
"""
