"""The HTTP + WebSocket server: OpenEnv's ``create_app`` around ``PythonEnvironment``.

With ``web`` (the page at /web) and ``wire_errors`` (capped error replies), the only modules
that touch FastAPI or ASGI. ``build_app(settings)`` builds everything a server needs
(the sandbox executor, the task runner, the catalog) from one ``Settings`` value and hands
``create_app`` a factory that closes over them: two apps built with different settings share
nothing. Importing this module builds nothing.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from openenv.core.env_server.http_server import create_app

from python_env.config import Settings
from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction, CodeReviewObservation, CodeReviewState
from python_env.environment.task_runner import TaskRunner
from python_env.errors import (
    ConfigError,
    EpisodeError,
    ExecutorOverloaded,
    InvalidAction,
    InvalidRequest,
    PythonEnvError,
    TaskNotFound,
)
from python_env.sandbox import make_executor
from python_env.server.notice import sandbox_notice
from python_env.server.task_dirs import served_catalog
from python_env.server.web import mount_web
from python_env.server.wire_errors import (
    MAX_FRAME_BYTES,
    ASGIApp,
    ErrorFrameMiddleware,
    Message,
    Receive,
    Send,
    compact_validation_errors,
    error_frame,
)

log = logging.getLogger("python_env.server")

_STATUS: list[tuple[type[PythonEnvError], int]] = [
    (TaskNotFound, 404),
    (InvalidAction, 422),
    (InvalidRequest, 400),
    (EpisodeError, 409),
    (ExecutorOverloaded, 503),
]  # anything else is the server's fault: 500
DRAINING = "draining: the server is shutting down and takes no new sessions"
REFUSED = DRAINING + "; open the session on another replica"
_SESSION_PATHS = {"websocket": ("/ws", "/mcp"), "http": ("/reset", "/step")}  # what opens one
HTTP_STATELESS_NOTE = (
    "HTTP /reset and /step are stateless in OpenEnv (each request gets a fresh environment); "
    "run episodes over the WebSocket at /ws (python_env.PythonEnv does this)."
)


async def _error_response(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
    detail = str(exc)
    if isinstance(exc, EpisodeError) and request.url.path == "/step":
        detail = f"{detail}. {HTTP_STATELESS_NOTE}"
    headers = {"Retry-After": "1"} if status == 503 else None
    body = {"detail": detail, "error": type(exc).__name__, **getattr(exc, "details", {})}
    return JSONResponse(body, status, headers=headers)


def _invalid_body(errors: list[Any]) -> JSONResponse:
    body = {
        "detail": compact_validation_errors(errors),
        "error_count": len(errors),
        "error": "InvalidAction",
    }
    return JSONResponse(body, 422)


async def _validation_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid_body(list(exc.errors()))


async def _http_exception_response(request: Request, exc: Exception) -> Response:
    # OpenEnv's /step raises HTTPException(422, detail=pydantic errors), inputs included.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 422 and isinstance(exc.detail, list):
        return _invalid_body(exc.detail)
    return await http_exception_handler(request, exc)


_REPLACED = {("/health", APIRoute), ("/mcp", APIRoute)}  # by ours (below); /ws and WS /mcp stay


async def _no_mcp(request: Request) -> JSONResponse:
    """JSON-RPC 2.0 endpoint: python_env has no MCP tools, so every method is refused.

    OpenEnv's own route would let ``openenv/session/create`` over unauthenticated HTTP hold a
    session slot until an explicit close: MAX_CONCURRENT_ENVS such calls locked every WebSocket
    client out. Episodes run over /ws."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    request_id = body.get("id") if isinstance(body, dict) else None
    error = {"code": -32601, "message": "python_env has no MCP tools; run episodes over /ws"}
    return JSONResponse({"jsonrpc": "2.0", "error": error, "id": request_id})


def _from_this_host(request: Request) -> bool:
    """A request made on this host: from 127.0.0.1 or ::1 (not the rest of 127/8, where sidecar
    proxies relay from) and not relayed by a proxy, which adds forwarding headers."""
    local = request.client is not None and request.client.host in ("127.0.0.1", "::1")
    relayed = any(
        h.startswith("x-forwarded-") or h in ("forwarded", "x-real-ip", "via")
        for h in request.headers
    )
    return local and not relayed


def _unready_reason(health: Mapping[str, Any]) -> str | None:
    """Why a server with this ``/health`` body should get no new sessions; None if it should."""
    if health["draining"]:
        return DRAINING
    if health["status"] != "healthy":
        return f"sandbox {health['status']}"
    if health["open_environments"] >= health["max_concurrent_envs"]:
        return (
            f"session limit reached: {health['open_environments']} of "
            f"{health['max_concurrent_envs']} sessions open (MAX_CONCURRENT_ENVS)"
        )
    return None


class _OpenEnvironments:
    """How many environments OpenEnv holds open: one per WebSocket session, plus one for the
    length of each stateless HTTP call."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self, delta: int) -> None:
        with self._lock:
            self.count += delta


class DrainGate:
    """While the server drains, new sessions are refused and open ones play on: a ``/ws`` (or
    ``/mcp``) handshake gets the error frame a full server sends (``ServerAtCapacity``, so a
    ``PythonEnvPool`` opens the session on another replica), then a 1013 close; HTTP
    ``/reset`` and ``/step`` get a 503. Read-only calls (``/metadata``, the Task API,
    ``/health``) still answer."""

    def __init__(self, app: ASGIApp, draining: threading.Event) -> None:
        self.app = app
        self.draining = draining

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Refuse a new session while draining; pass anything else on."""
        gated = scope.get("path") in _SESSION_PATHS.get(scope["type"], ())
        if not (gated and self.draining.is_set()):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            frame = error_frame(REFUSED, "ServerAtCapacity", "CAPACITY_REACHED")
            await send({"type": "websocket.send", "text": frame})
            await send({"type": "websocket.close", "code": 1013, "reason": "draining"})
        else:
            body = {"detail": REFUSED, "error": "ServerAtCapacity"}
            await JSONResponse(body, 503)(scope, receive, send)


def build_app(settings: Settings | None = None, *, refuse_invalid_tasks: bool = False) -> FastAPI:
    """Create the server app from ``settings`` (default: read from the environment, once).

    The task directories of the settings are checked first; a task with a problem is left out
    (each problem logged), or with ``refuse_invalid_tasks`` the app is not built (InvalidTask).
    """
    settings = settings or Settings.from_env()
    executor = make_executor(settings.sandbox)
    try:
        catalog = served_catalog(settings, executor, refuse=refuse_invalid_tasks)
    except BaseException:
        executor.close()
        raise
    runner = TaskRunner(executor, settings.sandbox.limits)
    sessions = _OpenEnvironments()
    draining = threading.Event()  # set by POST /health/drain, for the rest of the process

    # Steps that may block (the sandbox, a repository) run here, off the event loop: at most
    # one per session at a time, so as many threads as sessions, started as they are needed.
    blocking = ThreadPoolExecutor(settings.server.max_concurrent_envs, "python-env-step")

    def open_environment() -> PythonEnvironment:
        sessions.add(1)
        closed = functools.partial(sessions.add, -1)
        return PythonEnvironment(catalog, runner, on_close=closed, blocking=blocking)

    app = create_app(
        open_environment,
        CodeReviewAction,
        CodeReviewObservation,
        env_name="python_env",
        max_concurrent_envs=settings.server.max_concurrent_envs,
        state_cls=CodeReviewState,
    )
    app.state.settings, app.state.runner = settings, runner
    app.add_exception_handler(PythonEnvError, _error_response)
    app.add_exception_handler(RequestValidationError, _validation_response)
    app.add_exception_handler(HTTPException, _http_exception_response)
    app.add_middleware(ErrorFrameMiddleware)
    app.add_middleware(DrainGate, draining=draining)
    # uvicorn re-raises SIGTERM after shutdown, so atexit never runs: stop the sandbox here.
    app.router.on_shutdown.append(executor.close)
    app.router.on_shutdown.append(functools.partial(blocking.shutdown, wait=False))
    sandbox = executor.describe()
    log.debug("sandbox: %s", sandbox)  # all of it is in GET /health
    log.log(*sandbox_notice(sandbox))  # one line: the tier, and how to get the strongest
    # OpenEnv's /health is static; ours reports the sandbox's layers and its pool, live.
    app.router.routes[:] = [
        r for r in app.router.routes if (getattr(r, "path", ""), type(r)) not in _REPLACED
    ]
    app.add_api_route("/mcp", _no_mcp, methods=["POST"], tags=["MCP"])

    def health_body() -> dict[str, Any]:
        pool = executor.health()
        status = "healthy" if pool.get("serving") else "unhealthy"
        if status == "healthy" and pool.get("isolated") is False:
            status = "unisolated"
        return {
            "status": status,
            "max_concurrent_envs": settings.server.max_concurrent_envs,
            "open_environments": sessions.count,
            "draining": draining.is_set(),
            "sandbox": {**sandbox, "pool": pool},
        }

    @app.get("/health", tags=["Health"])
    def health() -> JSONResponse:
        """Healthy (200) while an isolated sandbox can serve jobs, else 503 (``unhealthy``, or
        ``unisolated``: jobs run without a sandbox, unfit for graded traffic); layers, pool.
        A liveness check: a full or draining server is still healthy."""
        body = health_body()
        return JSONResponse(body, 200 if body["status"] == "healthy" else 503)

    def readiness() -> dict[str, Any]:
        body = health_body()
        reason = _unready_reason(body)
        return {**body, "ready": reason is None, "reason": reason}

    @app.get("/health/ready", tags=["Health"])
    def ready() -> JSONResponse:
        """Ready (200) while this server should get new sessions: healthy, below
        MAX_CONCURRENT_ENVS open sessions, and not draining; else 503 with the ``reason``.
        A readiness check; the body is ``/health``'s plus ``ready`` and ``reason``."""
        body = readiness()
        return JSONResponse(body, 200 if body["ready"] else 503)

    # Not in /openapi.json: an operator's control, not part of the API (nor for fuzzers).
    @app.post("/health/drain", include_in_schema=False)
    def drain(request: Request) -> JSONResponse:
        """Stop being ready and refuse new sessions (``ServerAtCapacity``), for good
        (``python-env drain``, before a shutdown); open sessions play on. Accepted only from
        this host, not through a proxy: 403 otherwise."""
        if not _from_this_host(request):
            detail = "draining is accepted only from this host (127.0.0.1 or ::1, no proxy)"
            return JSONResponse({"detail": detail, "error": "Forbidden"}, 403)
        if not draining.is_set():
            draining.set()
            log.info("draining: not ready any more (open sessions: %d)", sessions.count)
        return JSONResponse(readiness(), 202)

    mount_web(app)  # the web UI at /web (/ redirects there), /docs and /redoc served offline
    return app


def main(
    host: str | None = None,
    port: int | None = None,
    settings: Settings | None = None,
    *,
    refuse_invalid_tasks: bool = False,
) -> None:
    """Serve on HOST:PORT (defaults 127.0.0.1:8000) with WORKERS uvicorn workers.

    One worker serves the app built here from ``settings`` (default: from the environment), so
    a bad task directory stops the start with a message; several workers build their own apps
    from the environment.
    """
    settings = settings or Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host, port = host or settings.server.host, port or settings.server.port
    if settings.server.workers == 1:
        app = build_app(settings, refuse_invalid_tasks=refuse_invalid_tasks)
        uvicorn.run(app, host=host, port=port, log_level="info", **_ws_options(settings))
        return
    if refuse_invalid_tasks:
        raise ConfigError(
            "refusing to start over invalid tasks needs WORKERS=1 (several workers each check "
            "the task directories on their own, and leave out what is invalid)"
        )
    uvicorn.run(
        "python_env.server.app:build_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.server.workers,
        log_level="info",
        **_ws_options(settings),
    )


def _ws_options(settings: Settings) -> dict[str, Any]:
    # Frames up to 4x our own limit are read, so that one over it gets an error frame (see
    # wire_errors); larger ones are closed with 1009 by the WebSocket layer.
    ping = settings.server.ws_ping_s
    return {
        "ws_ping_interval": ping,
        "ws_ping_timeout": ping,
        "ws_max_size": 4 * MAX_FRAME_BYTES,
        "ws_per_message_deflate": settings.server.ws_compression,
    }


if __name__ == "__main__":
    main()
