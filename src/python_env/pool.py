"""``PythonEnvPool``: python_env sessions spread over several replicas (async, or ``.sync()``).

Give it the replicas' base URLs, or one URL behind which something else spreads the connections
(a Kubernetes Service): then it just opens the sessions there.

**Placement.** A new session goes to the replica with the fewest open sessions of this pool (ties
in turn). A server takes the WebSocket and refuses a session only on its first frame, so the pool
sends one ``state`` frame before it hands a session out. A replica that refuses
(``ServerAtCapacity``) is skipped for a back-off that doubles with each refusal in a row (50 ms to
2 s); one whose connect fails, or that lost a session, is marked down and skipped until a
``/health`` probe (every ``recheck_s``) gets an answer. Only when every replica refuses or is down
does ``acquire`` wait, up to ``wait_s``, then raise ``ServerAtCapacity`` (a replica is up, but
full) or ``ServerUnreachable`` (all are down).

**Failures.** A session whose replica dies raises ``SessionLost`` on the call in flight or the next
one (a killed server's sockets close at once: milliseconds), and so does a call with no reply
within ``step_timeout_s`` (a frozen host); a lost session is never quietly replaced by a new one on
the same replica (as OpenEnv's client would). The episode is gone: count it as failed and
``release`` the session. ``stats()`` counts, per replica, the open sessions, refusals, failed
connects and lost sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from python_env.client import PythonEnv, normalise_url
from python_env.errors import (
    InvalidRequest,
    PythonEnvError,
    ServerAtCapacity,
    ServerUnreachable,
    SessionLost,
    error_from_wire,
)

if TYPE_CHECKING:
    from python_env.pool_sync import SyncPythonEnvPool

FIRST_BACKOFF_S = 0.05  # after a refusal; doubles with each refusal in a row
MAX_BACKOFF_S = 2.0
_POLL_S = 0.25  # longest sleep of a waiting acquire (a probe may end any time)


def split_urls(urls: str | Sequence[str]) -> list[str]:
    """Base URLs from one URL, a comma-separated list, or a sequence of either: ``http://``
    added where there is no scheme, trailing ``/`` and repeats dropped, order kept."""
    found: list[str] = []
    for item in [urls] if isinstance(urls, str) else urls:
        for part in item.split(","):
            bare = part.strip().rstrip("/")
            if bare and (url := normalise_url(bare)) not in found:
                found.append(url)
    return found


@dataclass
class ReplicaStats:
    """What a pool saw of one replica (``PythonEnvPool.stats()``)."""

    url: str
    open: int = 0  # sessions of this pool open there now
    opened: int = 0  # sessions opened there in all
    refusals: int = 0  # sessions it refused: every slot taken (ServerAtCapacity)
    failures: int = 0  # connects that failed (each marked it down)
    lost: int = 0  # sessions it dropped while they were open (SessionLost)
    down: bool = False  # skipped until a /health probe gets an answer


@dataclass
class _Replica(ReplicaStats):
    index: int = 0
    retry_at: float = 0.0  # refusal back-off: skipped until then
    streak: int = 0  # refusals in a row
    probe_at: float = 0.0  # when down: the next /health probe
    probing: bool = False


class _PooledEnv(PythonEnv):
    """A session handed out by a pool: it tells the pool once when it ends (closed or lost)."""

    _pool: PythonEnvPool | None = None  # set once the session is handed out
    _replica: _Replica | None = None
    _ended = False
    _lost = False

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        if self._replica is not None:
            if self._ended and not self._lost:
                raise InvalidRequest("this session went back to its pool: acquire another")
            if self._lost or self._ws is None or self._socket_closed:
                # OpenEnv would open a new session on this replica, unseen by the pool (or fail
                # to, on a dead one) and answer as if nothing happened.
                self._end(lost=True)
                raise SessionLost(f"the session on {self.base_url} is gone; acquire another")
        try:
            return await super()._send_and_receive(message)
        except SessionLost:  # closed, or no answer in time: the episode is gone
            self._end(lost=True)
            raise

    async def _close_async(self) -> None:
        dropped = self._socket_closed  # closed by the server while held
        try:
            await super()._close_async()
        finally:
            self._end(lost=dropped)

    async def _confirm(self) -> None:
        """Raise the refusal a full server sends a new session (an error frame, then it closes
        the socket: the client's own guard would call that SessionLost); else it is taken."""
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed):  # the refusal may close before this lands
            await self._ws.send(json.dumps({"type": "state"}))
        try:
            response = await self._receive()
        except ConnectionClosed as exc:
            raise SessionLost(f"{self.base_url} closed a new session at once: {exc}") from exc
        if response.get("type") == "error":
            raise error_from_wire(response.get("data") or {})

    def _end(self, lost: bool) -> None:
        if self._ended or self._pool is None or self._replica is None:
            return
        self._ended, self._lost = True, lost
        self._pool._ended(self, self._replica, lost)


class PythonEnvPool:
    """Sessions of python_env spread over replicas; each session is a connected ``PythonEnv``.

    Example::

        async with PythonEnvPool(["http://10.0.0.1:8000", "http://10.0.0.2:8000"]) as pool:
            async with pool.session() as env:  # on the replica with the fewest open sessions
                result = await env.reset(task_id="bill-split-lost-cents")
                result = await env.step(CodeReviewAction(kind="submit"))
            print(pool.stats())

    ``urls``: one base URL, several (a list, or comma-separated). ``sessions``: the most this
    pool holds open at once (``acquire`` waits for a release beyond it; default: no bound of its
    own, the replicas' ``MAX_CONCURRENT_ENVS`` apply). ``wait_s``: how long ``acquire`` waits when
    every replica refuses or is down. ``step_timeout_s``: a call with no reply within it raises
    ``SessionLost``. ``recheck_s``: how often a replica marked down is probed (``/health``).
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        sessions: int | None = None,
        *,
        wait_s: float = 30.0,
        step_timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
        recheck_s: float = 2.0,
    ) -> None:
        self.urls = split_urls(urls)
        if not self.urls:
            raise InvalidRequest("PythonEnvPool needs at least one server URL", field="urls")
        if sessions is not None and sessions < 1:
            raise InvalidRequest("sessions must be at least 1", field="sessions")
        self.sessions = sessions
        self.wait_s = wait_s
        self.step_timeout_s = step_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.recheck_s = recheck_s
        self._replicas = [_Replica(url=url, index=i) for i, url in enumerate(self.urls)]
        self._limit = asyncio.Semaphore(sessions) if sessions else None
        self._live: set[_PooledEnv] = set()
        self._probes: set[asyncio.Task[None]] = set()
        self._turn = 0
        self._closed = False

    async def acquire(self, wait_s: float | None = None) -> PythonEnv:
        """A connected session on the replica with the fewest open sessions of this pool.

        Raises ``ServerAtCapacity`` when no replica took one within ``wait_s`` (default: the
        pool's) because all refused or the pool's own ``sessions`` are in use, or
        ``ServerUnreachable`` when every replica was down all that time.
        """
        if self._closed:
            raise InvalidRequest("the pool is closed")
        wait = self.wait_s if wait_s is None else wait_s
        deadline = time.monotonic() + wait
        if self._limit is not None:
            try:
                await asyncio.wait_for(self._limit.acquire(), max(wait, 1e-3))
            except TimeoutError:
                raise ServerAtCapacity(
                    f"all {self.sessions} sessions of the pool stayed in use for {wait:g}s"
                ) from None
        try:
            return await self._place(deadline, wait)
        except BaseException:
            if self._limit is not None:
                self._limit.release()
            raise

    async def release(self, env: PythonEnv) -> None:
        """Close a session ``acquire`` gave (lost or not); its slot goes back to its replica."""
        await env._close_async()

    @contextlib.asynccontextmanager
    async def session(self, wait_s: float | None = None) -> AsyncIterator[PythonEnv]:
        """``acquire`` a session for the block and ``release`` it after, however it ends."""
        env = await self.acquire(wait_s)
        try:
            yield env
        finally:
            await self.release(env)

    def stats(self) -> dict[str, ReplicaStats]:
        """Per replica URL: open sessions, sessions opened, refusals, failures, lost, down."""
        names = [f.name for f in fields(ReplicaStats)]
        return {r.url: ReplicaStats(**{n: getattr(r, n) for n in names}) for r in self._replicas}

    async def close(self) -> None:
        """Close every open session of the pool; ``acquire`` is refused after."""
        self._closed = True
        for task in list(self._probes):
            task.cancel()
        await asyncio.gather(
            *(env._close_async() for env in list(self._live)), return_exceptions=True
        )

    async def __aenter__(self) -> PythonEnvPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def sync(self) -> SyncPythonEnvPool:
        """The blocking form of this pool (sessions in the form ``PythonEnv.sync()`` gives)."""
        from python_env.pool_sync import SyncPythonEnvPool

        return SyncPythonEnvPool(self)

    # --- placement ---------------------------------------------------------------------------

    async def _place(self, deadline: float, wait: float) -> PythonEnv:
        while True:
            replica = self._pick()
            if replica is None:
                now = time.monotonic()
                if now >= deadline:
                    raise self._exhausted(wait)
                await asyncio.sleep(min(self._next_change(now), deadline) - now)
                continue
            replica.open += 1  # counted before the connect, so concurrent acquires spread
            opened = False
            try:
                env = await self._connect(replica)
                opened = True
            except ServerAtCapacity:
                backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**replica.streak)
                replica.refusals, replica.streak = replica.refusals + 1, replica.streak + 1
                replica.retry_at = time.monotonic() + backoff
                continue
            except (ServerUnreachable, SessionLost, OSError):  # OpenEnv's ConnectionError too
                replica.failures += 1
                replica.down, replica.probe_at = True, time.monotonic() + self.recheck_s
                continue
            finally:
                if not opened:
                    replica.open -= 1
            replica.opened, replica.streak = replica.opened + 1, 0
            env._pool, env._replica = self, replica
            self._live.add(env)
            return env

    def _pick(self) -> _Replica | None:
        now = time.monotonic()
        ready = []
        for replica in self._replicas:
            if replica.down:
                if now >= replica.probe_at and not replica.probing:
                    self._start_probe(replica)
            elif now >= replica.retry_at:
                ready.append(replica)
        if not ready:
            return None
        count = len(self._replicas)
        choice = min(ready, key=lambda r: (r.open, (r.index - self._turn) % count))
        self._turn = choice.index + 1
        return choice

    def _next_change(self, now: float) -> float:
        """When a replica may next take a session (its back-off ends, or a probe may start)."""
        times = [r.retry_at for r in self._replicas if not r.down and r.retry_at > now]
        times += [r.probe_at for r in self._replicas if r.down and not r.probing]
        return max(now + 0.01, min([*times, now + _POLL_S]))

    def _exhausted(self, wait: float) -> PythonEnvError:
        if all(r.down for r in self._replicas):
            where = ", ".join(self.urls)
            return ServerUnreachable(f"no python_env replica answered within {wait:g}s: {where}")
        return ServerAtCapacity(f"every replica refused a session for {wait:g}s: all slots taken")

    async def _connect(self, replica: _Replica) -> _PooledEnv:
        # Positional: base_url, connect_timeout_s, message_timeout_s.
        env = _PooledEnv(replica.url, self.connect_timeout_s, self.step_timeout_s)
        try:
            await env._connect_async()
            await env._confirm()
        except BaseException:
            with contextlib.suppress(Exception):
                await env._close_async()
            raise
        return env

    def _ended(self, env: _PooledEnv, replica: _Replica, lost: bool) -> None:
        replica.open -= 1
        replica.lost += lost
        if lost and not replica.down:  # it may be dead or frozen: probe it before the next one
            replica.down, replica.probe_at = True, time.monotonic()
        self._live.discard(env)
        if self._limit is not None:
            self._limit.release()

    def _start_probe(self, replica: _Replica) -> None:
        replica.probing = True
        task = asyncio.get_running_loop().create_task(self._probe(replica))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    async def _probe(self, replica: _Replica) -> None:
        try:
            up = await asyncio.to_thread(_answers, f"{replica.url}/health", self.connect_timeout_s)
        finally:
            replica.probing = False
        if up:
            replica.down, replica.retry_at, replica.streak = False, 0.0, 0
        else:
            replica.probe_at = time.monotonic() + self.recheck_s


def _answers(url: str, timeout: float) -> bool:
    """Whether an HTTP server answers at ``url`` (any status: the next connect decides)."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError as exc:  # e.g. 503 while unhealthy: the process is there
        exc.close()
    except (OSError, ValueError):
        return False
    return True


__all__ = ["PythonEnvPool", "ReplicaStats", "split_urls"]
