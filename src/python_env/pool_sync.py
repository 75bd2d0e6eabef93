"""``SyncPythonEnvPool``: the blocking form of ``PythonEnvPool`` (``PythonEnvPool(...).sync()``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from python_env.client import PythonEnv
from python_env.environment.openenv_light import SyncEnvClient
from python_env.pool import PythonEnvPool, ReplicaStats


class SyncPythonEnvPool:
    """The blocking form of a ``PythonEnvPool``, from ``PythonEnvPool(...).sync()``.

    Example::

        with PythonEnvPool("http://10.0.0.1:8000,http://10.0.0.2:8000").sync() as pool:
            with pool.session() as env:  # what PythonEnv(...).sync() gives: env.reset(), ...
                env.reset(task_id="bill-split-lost-cents")

    The pool and every session it opens run on one background event loop: OpenEnv's
    ``SyncEnvClient`` runs the coroutines there, as it does for one ``PythonEnv.sync()``.
    """

    def __init__(self, pool: PythonEnvPool) -> None:
        self.pool = pool
        # A SyncEnvClient runs any coroutine on its own loop thread: here, the pool's.
        self._loop: SyncEnvClient[Any, Any, Any] = SyncEnvClient(pool)  # type: ignore[arg-type]

    def acquire(self, wait_s: float | None = None) -> SyncEnvClient[Any, Any, Any]:
        """A connected session (blocking form); see ``PythonEnvPool.acquire``."""
        env = self._loop._run(self.pool.acquire(wait_s))
        return SyncPooledSession(env, self._loop)

    def release(self, env: SyncEnvClient[Any, Any, Any]) -> None:
        """Close a session ``acquire`` gave; its slot goes back to its replica."""
        env.close()

    @contextlib.contextmanager
    def session(self, wait_s: float | None = None) -> Iterator[SyncEnvClient[Any, Any, Any]]:
        """``acquire`` a session for the block and ``release`` it after."""
        env = self.acquire(wait_s)
        try:
            yield env
        finally:
            self.release(env)

    def stats(self) -> dict[str, ReplicaStats]:
        """See ``PythonEnvPool.stats``."""
        return self.pool.stats()

    def close(self) -> None:
        """Close every open session and stop the pool's loop."""
        try:
            self._loop._run(self.pool.close())
        finally:
            self._loop._stop_loop()

    def __enter__(self) -> SyncPythonEnvPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncPooledSession(SyncEnvClient[Any, Any, Any]):
    """A pooled session's blocking form: it runs on its pool's loop and leaves it running."""

    def __init__(self, env: PythonEnv, owner: SyncEnvClient[Any, Any, Any]) -> None:
        super().__init__(env)
        self._owner = owner

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        return self._owner._ensure_loop()

    def _stop_loop(self) -> None:
        """The pool's loop: ``SyncPythonEnvPool.close`` stops it."""


__all__ = ["SyncPythonEnvPool"]
