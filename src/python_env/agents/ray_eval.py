"""``eval --ray``: episodes played by Ray actors, each with its own embedded server on its node.

Each actor starts ``python -m python_env.server`` on 127.0.0.1 of its node (``embedded_server``)
and plays chunks of the episode list with ``run_episodes``, as a local ``eval`` would; the driver
hands the chunks to the actors as they come free and puts the results back in episode order, so a
run scores each (task, seed) as the local one does. A chunk lost with its actor (the actor or its
node died) becomes failed episodes, counted apart from the scores; the other actors take the rest.
Every node needs this package installed, at the same version as the driver.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from contextlib import ExitStack
from typing import Any

from python_env.agents.base import EpisodeResult
from python_env.agents.evaluation import Episode, RunStats, run_episodes
from python_env.errors import AgentUnavailable, ServerUnreachable
from python_env.ray_support import LOCAL, Actors, first_line, ray_session, unwrapped

CHUNK_PER_SESSION = 4  # episodes a chunk holds per session of its actor (fewer idle tails)


class EvalActor:
    """One Ray actor: an embedded server on its node and the agent's policy factory."""

    def __init__(self, agent: str, options: dict[str, Any], sessions: int) -> None:
        from python_env.agents import make_factory
        from python_env.agents.launcher import embedded_server

        self.agent = agent
        self.factory = make_factory(agent, **options)
        self._stack = ExitStack()
        self.url = self._stack.enter_context(embedded_server(max_concurrent_envs=max(64, sessions)))

    def select(self, select: Callable[[str], list[Episode]]) -> list[Episode]:
        """The episodes ``select`` plans from this actor's server (its task list)."""
        return select(self.url)

    def play(
        self, episodes: Sequence[Episode], sessions: int, capacity_wait_s: float
    ) -> list[EpisodeResult]:
        """Play ``episodes`` on this actor's server with ``sessions`` sessions, in order."""
        stats = asyncio.run(
            run_episodes(
                self.url, self.agent, self.factory, episodes, sessions,
                capacity_wait_s=capacity_wait_s,
            )
        )  # fmt: skip
        return stats.results

    def close(self) -> None:
        """Stop the server."""
        self._stack.close()


def evaluate_on_ray(
    address: str,
    agent: str,
    options: dict[str, Any],
    select: Callable[[str], list[Episode]],
    concurrency: int = 16,
    capacity_wait_s: float = 60.0,
    actors: int | None = None,
    quiet: bool = True,
) -> RunStats:
    """Play the episodes ``select`` plans (from a server's task list) on Ray: a local instance
    (``address`` ``"local"``) or the cluster at ``address``, with ``actors`` actors (default: one
    per node, spread over the nodes) sharing ``concurrency`` sessions."""
    with ray_session(address) as cluster:
        count = min(actors or cluster.nodes, cluster.cpus)
        sessions = math.ceil(concurrency / count)
        pool = Actors(EvalActor, count, agent, options, sessions, spread=address != LOCAL)
        try:
            episodes = _select(pool, select)
            stats = play_on(pool, agent, episodes, sessions, capacity_wait_s, quiet)
        finally:
            pool.close()
    stats.concurrency = concurrency
    return stats


def _select(pool: Actors, select: Callable[[str], list[Episode]]) -> list[Episode]:
    """The planned episodes, from the first actor that started its server."""
    from ray.exceptions import RayActorError

    last: BaseException | None = None
    while len(pool.dead) < len(pool.handles):
        try:
            episodes: list[Episode] = pool.submit("select", select).result()
            return episodes
        except RayActorError as exc:  # that actor died (e.g. its server did not start)
            last = exc
        except Exception as exc:  # the server's answer, e.g. TaskNotFound: the run's error
            raise unwrapped(exc) from None
    reason = first_line(last) if last is not None else "none started"
    raise ServerUnreachable(f"no Ray actor could start a server: {reason}")


def play_on(
    pool: Actors,
    agent: str,
    episodes: Sequence[Episode],
    sessions: int,
    capacity_wait_s: float = 60.0,
    quiet: bool = True,
) -> RunStats:
    """Play ``episodes`` in chunks on ``pool``'s actors; results in episode order. A chunk whose
    actor died is recorded as failed episodes; ``AgentUnavailable`` stops the run."""
    from tqdm import tqdm

    size = max(1, min(sessions * CHUNK_PER_SESSION, math.ceil(len(episodes) / len(pool.handles))))
    starts = range(0, len(episodes), size)
    started = time.perf_counter()
    chunks: dict[Future[Any], int] = {
        pool.submit("play", episodes[i : i + size], sessions, capacity_wait_s): i for i in starts
    }
    results: list[EpisodeResult | None] = [None] * len(episodes)
    with tqdm(total=len(episodes), desc=agent, unit="ep", disable=quiet) as bar:
        for future in as_completed(chunks):
            first = chunks[future]
            chunk = episodes[first : first + size]
            try:
                played: list[EpisodeResult] = future.result()
            except Exception as exc:
                if isinstance(unwrapped(exc), AgentUnavailable):
                    raise unwrapped(exc) from None
                played = [_lost(agent, episode, exc) for episode in chunk]
            for offset, episode in enumerate(chunk):
                got = played[offset] if offset < len(played) else None
                results[first + offset] = got or _lost(agent, episode, None)
            bar.update(len(chunk))
    done = [r for r in results if r is not None]
    return RunStats(
        wall_s=time.perf_counter() - started,
        concurrency=sessions * len(pool.handles),
        results=done,
    )


def _lost(agent: str, episode: Episode, exc: BaseException | None) -> EpisodeResult:
    """A failed episode: its chunk's actor died (or returned no result for it)."""
    error = first_line(exc) if exc is not None else "RayActorError: no result came back"
    return EpisodeResult(agent, episode.task_id, episode.seed, episode.task, error=error)
