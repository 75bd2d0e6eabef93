"""``PythonEnvPool`` against one real server and stand-ins on 127.0.0.1: a dead replica is skipped,
marked down and probed again; an all-down set and a full pool fail typed and on time; a frozen
replica costs ``SessionLost`` after the step timeout, never a hang; the blocking form plays an
episode. (Three real replicas and a killed one: ``tests/agents/test_replicas.py``.)"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from python_env.agents.launcher import free_port
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.errors import InvalidRequest, ServerAtCapacity, ServerUnreachable, SessionLost
from python_env.pool import PythonEnvPool, split_urls

TASK = "bill-split-lost-cents"


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def health_only(url: str) -> Iterator[None]:
    """An HTTP server on ``url``'s port that answers ``/health`` and nothing else (no /ws)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", int(url.rsplit(":", 1)[1])), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@asynccontextmanager
async def frozen_replica() -> AsyncIterator[str]:
    """A WebSocket server that takes sessions (answers ``state``) and then never replies."""

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            if json.loads(raw).get("type") == "state":
                await ws.send(json.dumps({"type": "state", "data": {}}))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


def test_urls_come_as_a_list_or_comma_separated_and_are_normalised() -> None:
    given = ["127.0.0.1:1, http://127.0.0.1:2/", "127.0.0.1:1", ""]
    assert split_urls(given) == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert PythonEnvPool("127.0.0.1:1,127.0.0.1:2").urls == split_urls(given)
    with pytest.raises(InvalidRequest):
        PythonEnvPool(" , ")


def test_a_dead_replica_is_skipped_marked_down_and_probed_again(server_url: str) -> None:
    dead = dead_url()

    async def scenario() -> None:
        async with PythonEnvPool([dead, server_url], recheck_s=0.1) as pool:
            first = await pool.acquire(wait_s=5)  # the dead one is tried first (round-robin)
            assert first.base_url == server_url
            stats = pool.stats()
            assert stats[dead].down and stats[dead].failures == 1 and stats[server_url].open == 1
            with health_only(dead):
                await asyncio.sleep(0.2)
                second = await pool.acquire(wait_s=5)  # starts the /health probe: it answers
                await asyncio.sleep(0.3)
                assert not pool.stats()[dead].down
                third = await pool.acquire(wait_s=5)  # tried again (fewest open): no /ws there
            stats = pool.stats()
            assert stats[dead].down and stats[dead].failures == 2 and stats[dead].opened == 0
            assert {second.base_url, third.base_url} == {server_url}
            assert stats[server_url].open == 3
            result = await third.reset(task_id=TASK)
            assert result.observation.task is not None
        assert pool.stats()[server_url].open == 0  # the pool closed what was still open
        with pytest.raises(InvalidRequest, match="closed"):
            await pool.acquire()

    asyncio.run(scenario())


def test_all_down_is_unreachable_and_a_full_pool_is_at_capacity_after_the_wait(
    server_url: str,
) -> None:
    async def scenario() -> None:
        async with PythonEnvPool([dead_url(), dead_url()]) as nowhere:
            started = time.monotonic()
            with pytest.raises(ServerUnreachable, match="no python_env replica answered"):
                await nowhere.acquire(wait_s=0.5)
            assert 0.5 <= time.monotonic() - started < 2.0
        async with PythonEnvPool(server_url, sessions=1) as pool:
            held = await pool.acquire()
            started = time.monotonic()
            with pytest.raises(ServerAtCapacity, match="all 1 sessions of the pool"):
                await pool.acquire(wait_s=0.3)
            assert 0.3 <= time.monotonic() - started < 1.5
            await pool.release(held)
            async with pool.session(wait_s=1) as env:
                assert (await env.reset(task_id=TASK)).observation.task is not None
            with pytest.raises(InvalidRequest, match="went back to its pool"):
                await env.reset(task_id=TASK)  # a released session is not quietly reopened

    asyncio.run(scenario())


def test_a_frozen_replica_costs_session_lost_after_the_step_timeout() -> None:
    async def scenario() -> None:
        async with frozen_replica() as url, PythonEnvPool(url, step_timeout_s=0.5) as pool:
            env = await pool.acquire(wait_s=5)
            started = time.monotonic()
            with pytest.raises(SessionLost, match="no answer"):
                await env.reset(task_id=TASK)
            assert 0.5 <= time.monotonic() - started < 2.0
            with pytest.raises(SessionLost):  # not a silent new session on the same replica
                await env.reset(task_id=TASK)
            stats = pool.stats()[url]
            assert (stats.lost, stats.open, stats.opened) == (1, 0, 1)
            await pool.release(env)

    asyncio.run(scenario())


def test_the_blocking_form_plays_an_episode_and_closes_what_it_holds(server_url: str) -> None:
    with PythonEnvPool(server_url).sync() as pool:
        with pool.session() as env:
            assert env.reset(task_id=TASK).observation.task.id == TASK
            assert env.step(CodeReviewAction(kind="submit")).done
            assert pool.stats()[server_url].open == 1
        assert pool.stats()[server_url].open == 0
        kept = pool.acquire()
        kept.reset(task_id=TASK)
    assert pool.stats()[server_url].open == 0 and pool.stats()[server_url].opened == 2


def test_a_plain_client_gives_up_a_frozen_session_and_never_reconnects_quietly() -> None:
    async def scenario() -> None:
        async with frozen_replica() as url:
            env = PythonEnv(base_url=url, message_timeout_s=0.3)
            async with env:
                with pytest.raises(SessionLost, match="no answer"):
                    await env.reset(task_id=TASK)
                with pytest.raises(SessionLost, match="reset"):  # a step: no fresh session
                    await env.step(CodeReviewAction(kind="submit"))
                with pytest.raises(SessionLost, match="no answer"):  # reset starts anew
                    await env.reset(task_id=TASK)

    asyncio.run(scenario())
