"""Many episodes in parallel sessions: one worker per session, each reusing its WebSocket; the
sessions come from a ``PythonEnvPool`` (one replica or several)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from python_env.agents.base import EpisodeResult, PolicyFactory, play_episode
from python_env.client import PythonEnv
from python_env.errors import AgentUnavailable, PythonEnvError, ServerAtCapacity, ServerUnreachable
from python_env.pool import PythonEnvPool
from python_env.types import TaskInfo


@dataclass(frozen=True)
class Episode:
    """One episode to play: the task (reset by its id) and the seed (policy and reset seed)."""

    task: TaskInfo
    seed: int

    @property
    def task_id(self) -> str:
        """The task's id."""
        return self.task.id

    def reset_options(self) -> dict[str, Any]:
        """What ``reset`` is given (besides the seed)."""
        return {"task_id": self.task.id}


@dataclass
class RunStats:
    """Counts, wall time and per-episode results of one evaluation run."""

    wall_s: float = 0.0
    concurrency: int = 1
    results: list[EpisodeResult] = field(default_factory=list)
    replicas: dict[str, dict[str, Any]] = field(default_factory=dict)  # pool.stats() per URL

    @property
    def episodes(self) -> int:
        """Episodes played or given up (each has a result)."""
        return len(self.results)

    @property
    def errors(self) -> int:
        """Episodes that failed (left out of the scores)."""
        return sum(r.error is not None for r in self.results)

    @property
    def episodes_per_s(self) -> float:
        """Throughput of the run."""
        return self.episodes / self.wall_s if self.wall_s > 0 else 0.0


def plan_episodes(
    tasks: Sequence[TaskInfo], limit: int | None, seed: int = 0, spread: bool = False
) -> list[Episode]:
    """``limit`` episodes (default: one per task) with seeds ``seed``, ``seed + 1``, ...: cycling
    through ``tasks`` (every task once before any repeats). Fewer than ``tasks``: the first
    ``limit``, or with ``spread`` the tasks at ``floor(i * len(tasks) / limit)``, a sample spread
    evenly over the list (over every project of a listing grouped by project), each once."""
    if not tasks:
        return []
    count = len(tasks) if limit is None else limit
    if spread and count < len(tasks):
        return [Episode(tasks[i * len(tasks) // count], seed + i) for i in range(count)]
    return [Episode(tasks[i % len(tasks)], seed + i) for i in range(count)]


async def run_episodes(
    servers: str | Sequence[str] | PythonEnvPool,
    agent: str,
    factory: PolicyFactory,
    episodes: Sequence[Episode],
    concurrency: int = 16,
    on_result: Callable[[EpisodeResult], Any] | None = None,
    capacity_wait_s: float = 60.0,
) -> RunStats:
    """Play ``episodes`` with ``concurrency`` sessions; results come back in episode order.

    ``servers``: one base URL, several (a list, or comma-separated: the sessions are spread over
    them by a ``PythonEnvPool``), or a pool of the caller's. A transport failure costs only its
    episode (recorded with ``error``, e.g. ``SessionLost`` when its replica died; the worker takes
    a new session, on a replica that answers); ``AgentUnavailable`` (e.g. an unreachable LLM
    endpoint) cancels the whole run. A session no replica would open (all refuse: at capacity, or
    are down) costs no episode: the worker waits for one, backing off, for up to
    ``capacity_wait_s``; then it stops and leaves the queue to the others. Episodes no worker could
    start are recorded as refused.
    """
    pool = servers if isinstance(servers, PythonEnvPool) else PythonEnvPool(servers)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(episodes)):
        queue.put_nowait(index)
    results: list[EpisodeResult | None] = [None] * len(episodes)
    gave_up: list[PythonEnvError] = []

    async def worker() -> None:
        while not queue.empty():
            try:
                env = await pool.acquire(wait_s=capacity_wait_s)
            except (ServerAtCapacity, ServerUnreachable) as exc:
                gave_up.append(exc)
                return
            try:
                while not queue.empty():
                    index = queue.get_nowait()
                    try:
                        result = await _one(env, agent, factory, episodes[index])
                    except ServerAtCapacity:
                        queue.put_nowait(index)  # never started: not lost
                        break
                    results[index] = result
                    if on_result is not None:
                        on_result(result)
                    if result.error is not None:
                        break  # the session may be gone: continue on a fresh one
            finally:
                await pool.release(env)

    started = time.perf_counter()
    workers = [
        asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(episodes))))
    ]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if pool is not servers:
            await pool.close()
    why = gave_up[-1] if gave_up else ServerAtCapacity("no session")
    while not queue.empty():  # every worker gave up waiting for a session
        index = queue.get_nowait()
        results[index] = refused = _refused(agent, episodes[index], capacity_wait_s, why)
        if on_result is not None:
            on_result(refused)
    done = [r for r in results if r is not None]
    return RunStats(
        wall_s=time.perf_counter() - started,
        concurrency=concurrency,
        results=done,
        replicas={url: asdict(s) for url, s in pool.stats().items()},
    )


def _refused(agent: str, episode: Episode, waited_s: float, why: PythonEnvError) -> EpisodeResult:
    error = (
        f"ServerAtCapacity: no session slot came free within {waited_s:g}s"
        if isinstance(why, ServerAtCapacity)
        else f"{type(why).__name__}: {why}"
    )
    return EpisodeResult(
        agent=agent,
        task_id=episode.task_id,
        seed=episode.seed,
        info=episode.task,
        wall_s=0.0,
        error=error,
    )


async def _one(
    env: PythonEnv, agent: str, factory: PolicyFactory, episode: Episode
) -> EpisodeResult:
    policy = factory(episode.seed)
    started = time.perf_counter()
    try:
        return await play_episode(env, policy, episode.reset_options(), episode.seed)
    except (AgentUnavailable, ServerAtCapacity):
        raise
    except Exception as exc:  # transport or server failure: this episode is lost, not the run
        return EpisodeResult(
            agent=agent,
            task_id=episode.task_id,
            seed=episode.seed,
            info=episode.task,
            wall_s=time.perf_counter() - started,
            error=f"{type(exc).__name__}: {exc}",  # the class the server named, if any
        )
    finally:
        await policy.close()
