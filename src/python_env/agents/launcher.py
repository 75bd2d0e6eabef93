"""Launch a python_env server on 127.0.0.1 for a run, or reach one: list its tasks (Task API)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from python_env.config import inherited_environment
from python_env.errors import ServerUnreachable, TaskNotFound
from python_env.types import TaskInfo

ENV_NAME = "python_env"


def _http(url: str, body: Any = None, timeout: float = 30.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def list_splits(base_url: str) -> list[str]:
    """The splits the server publishes (``GET /python_env/splits``)."""
    try:
        splits = _http(f"{base_url}/{ENV_NAME}/splits")
    except (OSError, ValueError) as exc:
        raise ServerUnreachable(
            f"cannot reach the python_env server at {base_url}: {exc}", url=base_url
        ) from exc
    return [str(s["name"]) if isinstance(s, dict) else str(s) for s in splits]


def session_limit(base_url: str) -> int | None:
    """How many sessions the server at ``base_url`` holds at once (its ``/health``), if it says."""
    try:
        body = _http(f"{base_url}/health", timeout=10)
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read(65_536) or b"null")  # unhealthy still states its size
        except ValueError:
            raise ServerUnreachable(
                f"{base_url} answered /health with HTTP {exc.code}: is it a python_env server?",
                url=base_url,
            ) from exc
    except (OSError, ValueError) as exc:
        raise ServerUnreachable(
            f"cannot reach the python_env server at {base_url}: {exc}", url=base_url
        ) from exc
    limit = body.get("max_concurrent_envs") if isinstance(body, dict) else None
    return limit if isinstance(limit, int) else None


def list_tasks(base_url: str, split: str) -> list[TaskInfo]:
    """The public descriptions of every task of ``split`` on the server at ``base_url``."""
    try:
        body = _http(f"{base_url}/{ENV_NAME}/tasks", {"split": split})
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 404):
            known = ", ".join(list_splits(base_url))
            raise TaskNotFound(f"the server has no split {split!r}; it lists: {known}") from exc
        raise ServerUnreachable(
            f"listing tasks on {base_url} failed: HTTP {exc.code}", url=base_url
        ) from exc
    except (OSError, ValueError) as exc:
        raise ServerUnreachable(
            f"cannot reach the python_env server at {base_url}: {exc}", url=base_url
        ) from exc
    return [TaskInfo.model_validate(t) for t in body["tasks"]]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, timeout_s: float) -> bool:
    """Poll ``url``/health until it answers; False if ``proc`` exits or time runs out.

    A server asked to run UNISOLATED answers 503 ``unisolated`` (unfit for graded traffic) and
    counts as up: it was asked for by name."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1).close()
            return True
        except urllib.error.HTTPError as exc:
            if b'"unisolated"' in exc.read(4_096):
                return True
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    return False


@contextmanager
def embedded_server(max_concurrent_envs: int = 64, timeout_s: float = 60.0) -> Iterator[str]:
    """``python -m python_env.server`` on a free 127.0.0.1 port; yields its URL, stops it after."""
    with server_process(max_concurrent_envs, timeout_s) as (url, _proc):
        yield url


@contextmanager
def server_process(
    max_concurrent_envs: int = 64,
    timeout_s: float = 60.0,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like ``embedded_server``, with extra environment variables; yields the URL and process.
    The server's output goes to ``log_path`` (kept), else to a temporary file."""
    port = free_port()
    environ = inherited_environment(
        {
            **(env or {}),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MAX_CONCURRENT_ENVS": str(max_concurrent_envs),
        }
    )
    with tempfile.TemporaryDirectory(prefix="python-env-server-") as tmp:
        log = log_path or Path(tmp) / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "python_env.server"], env=environ, stdout=out, stderr=out
            )
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_healthy(url, proc, timeout_s):
                tail = log.read_text(errors="replace")[-2_000:]
                raise ServerUnreachable(
                    f"the embedded server did not start on {url}:\n{tail}", url=url
                )
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
