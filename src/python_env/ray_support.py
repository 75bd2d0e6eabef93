"""Ray for the batch commands (``generate --ray``, ``eval --ray``): a private Ray instance on this
machine or a connection to a cluster, and a set of actors that take queued calls as they come free.

Ray is the optional extra ``ray`` (``pip install 'python_env[ray]'``), imported inside functions:
importing this module loads and starts nothing. A local instance stays on 127.0.0.1 and never
reaches the internet: usage stats are off (the head's dashboard process would report them), every
Ray process binds the loopback address, token authentication uses a token made for the run
(nothing is written to ``~/.ray``), there is no dashboard UI, and Ray's files go to a temporary
directory removed after. A cluster (``ray start --head``) is configured by whoever started it.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from python_env.config import exported_environment
from python_env.errors import ConfigError, PythonEnvError

LOCAL = "local"  # ``--ray`` without an address: start a Ray instance for the run
CLOSE_TIMEOUT_S = 60.0
_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


@dataclass(frozen=True)
class Cluster:
    """What a Ray session runs on."""

    cpus: int
    nodes: int


def import_ray() -> Any:
    """The ``ray`` module, or a ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray ({exc}): pip install 'python_env[ray]'") from None
    return ray


@cache
def _run_token() -> str:
    """This process's token for the local instances it starts (Ray's driver caches it)."""
    return secrets.token_hex(32)


def local_environment() -> dict[str, str]:
    """The variables a local Ray instance starts with (its processes inherit them). Ray reads
    some when it is imported: they are set before this module imports it."""
    return {
        "RAY_USAGE_STATS_ENABLED": "0",
        # The node's address is the loopback one, so every Ray listener binds 127.0.0.1 (on Linux
        # Ray otherwise takes the address routed to the outside and listens there).
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        # Ray turns token authentication on for a new local instance; with the token here it
        # writes none to ~/.ray.
        "RAY_AUTH_TOKEN": _run_token(),
    }


@contextmanager
def ray_session(address: str = LOCAL, num_cpus: int | None = None) -> Iterator[Cluster]:
    """Start a local Ray instance with ``num_cpus`` (``address`` ``"local"``) or connect to the
    cluster at ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``); shut down after.
    A session this process already holds (``ray.is_initialized()``) is used as is and left up."""
    loaded = sys.modules.get("ray")
    if loaded is not None and loaded.is_initialized():
        yield cluster_of(loaded)
        return
    with ExitStack() as stack:
        options: dict[str, Any] = {}
        environment = {"RAY_USAGE_STATS_ENABLED": "0"}
        if address == LOCAL:
            temp = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="python-env-ray-", ignore_cleanup_errors=True)
            )
            environment = local_environment()
            options = {"num_cpus": num_cpus, "include_dashboard": False, "_temp_dir": temp}
        stack.enter_context(exported_environment(environment))
        ray = import_ray()
        stack.callback(ray.shutdown)
        # Ray warns that it turned token authentication on: that is what is wanted here.
        logging.getLogger(_AUTH_LOGGER).setLevel(logging.ERROR)
        try:
            ray.init(address=address, logging_level=logging.WARNING, **options)
        except ConnectionError as exc:  # no cluster at that address (or none found for auto)
            raise ConfigError(f"--ray {address}: {first_line(exc)}") from None
        yield cluster_of(ray)


def cluster_of(ray: Any) -> Cluster:
    """The CPUs and alive nodes of the connected cluster."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return Cluster(cpus=max(1, cpus), nodes=max(1, sum(bool(n["Alive"]) for n in ray.nodes())))


def unwrapped(exc: BaseException) -> BaseException:
    """The python_env error an actor raised (Ray wraps it), else ``exc`` itself."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, PythonEnvError) else exc


def first_line(exc: BaseException) -> str:
    """``Kind: message`` on one line (Ray's errors carry long tracebacks)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class NoLiveActor(RuntimeError):
    """Every actor of the set has died: the calls still queued cannot run."""


class Actors:
    """Ray actors of one class (each with a ``close()`` method), one call at a time per actor.

    ``submit`` queues a call here and returns its future; a thread of this object hands the
    queue out to the actors as they come free, so cancelling a queued future drops the call, and
    closing waits for at most one call per actor. An actor found dead takes no more calls."""

    def __init__(self, cls: type, count: int, *args: Any, spread: bool = False) -> None:
        ray = import_ray()
        options: dict[str, Any] = {"num_cpus": 1}
        if spread:  # one per node first
            options["scheduling_strategy"] = "SPREAD"
        remote = ray.remote(**options)(cls)
        self.handles = [remote.remote(*args) for _ in range(count)]
        self.dead: set[int] = set()
        self._idle = list(range(count))
        self._queue: deque[tuple[Future[Any], str, tuple[Any, ...]]] = deque()
        self._flight: dict[Any, tuple[int, Future[Any]]] = {}  # ObjectRef -> (actor, future)
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="ray-actors", daemon=True)
        self._thread.start()

    def submit(self, method: str, *args: Any) -> Future[Any]:
        """Queue ``method(*args)`` for the next free actor; its future."""
        future: Future[Any] = Future()
        with self._wake:
            self._queue.append((future, method, args))
            self._wake.notify()
        return future

    def _start_queued(self) -> None:  # holding the lock
        while self._queue and (self._idle or self._closed or not self._flight):
            future, method, args = self._queue.popleft()
            if self._closed:
                future.cancel()
                continue
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            if not self._idle:
                future.set_exception(NoLiveActor("every Ray actor has died"))
                continue
            index = self._idle.pop(0)
            self._flight[getattr(self.handles[index], method).remote(*args)] = (index, future)

    def _loop(self) -> None:
        try:
            self._serve(import_ray())
        except Exception as exc:  # Ray itself failed: no future may wait forever
            with self._wake:
                waiting = [f for f, _, _ in self._queue] + [f for _, f in self._flight.values()]
                self._queue.clear()
                self._flight.clear()
                self._closed = True
            for future in waiting:
                if future.running() or future.set_running_or_notify_cancel():
                    future.set_exception(exc)

    def _serve(self, ray: Any) -> None:
        while True:
            with self._wake:
                self._start_queued()
                if not self._flight:
                    if self._closed:
                        return
                    self._wake.wait()
                    continue
                refs = list(self._flight)
            ready, _ = ray.wait(refs, num_returns=1, timeout=0.1)
            for ref in ready:
                self._settle(ray, ref)

    def _settle(self, ray: Any, ref: Any) -> None:
        from ray.exceptions import RayActorError

        with self._wake:
            index, future = self._flight.pop(ref)
        try:
            value, error = ray.get(ref), None
        except Exception as exc:  # the call's error, or the actor's death
            value, error = None, exc
        with self._wake:
            if isinstance(error, RayActorError):
                self.dead.add(index)
            else:
                self._idle.append(index)
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Drop the queued calls, wait for the running ones, let each live actor close what it
        holds (up to ``timeout_s``), then end them all."""
        ray = import_ray()
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_s)
        closing = [h.close.remote() for i, h in enumerate(self.handles) if i not in self.dead]
        if closing:
            ray.wait(closing, num_returns=len(closing), timeout=timeout_s)
        for handle in self.handles:
            ray.kill(handle)
