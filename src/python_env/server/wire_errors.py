"""Error replies that fit: capped, typed, and never an echo of the input.

OpenEnv's WebSocket handler answers a bad frame with ``{"type": "error", "data": {...}}``, but it
copies pydantic's errors with their ``input`` (a 2 MB edit came back as a 2.4 MB frame, over the
1 MiB a default ``websockets`` client accepts, so the connection died) and reports every exception
of the environment as ``EXECUTION_ERROR``. ``ErrorFrameMiddleware`` sits in front of the app:

- every outgoing error frame is rewritten by ``compact_error``: the message cut to
  ``MAX_MESSAGE_CHARS``, at most ``MAX_ERRORS`` validation errors without their input, and a
  machine-readable ``kind`` (the name of a class of ``python_env.errors``) plus its ``details``;
  the protocol's own ``code`` is kept;
- an incoming frame OpenEnv would end the session on (over ``MAX_FRAME_BYTES``, binary, JSON
  it cannot parse without a JSONDecodeError, or JSON that is not an object) is answered with an
  error frame and never reaches the app, so the session goes on;
- an HTTP body announced larger than ``MAX_FRAME_BYTES`` gets a 413 before it is read; one sent
  without a length (chunked) gets the same 413 as soon as it grows past it, and the app, which
  was reading it, sees the client go away (its own reply is dropped).

The exception behind an error frame is the one being handled when the frame is sent
(``sys.exc_info()``): OpenEnv sends the frame from inside its ``except`` block, in the same task.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from python_env.errors import PythonEnvError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

MAX_FRAME_BYTES = 4 * 1024 * 1024  # the largest valid action is ~3 MB of JSON
MAX_MESSAGE_CHARS = 1_000
MAX_ERRORS = 3
MAX_DETAIL_CHARS = 200
MAX_DEPTH = 100  # brackets below which no frame can be too deep to parse
_LONG_NUMBER = re.compile(r"\d{4000}")  # near int()'s 4,300-digit limit
_OBJECT_START = re.compile(r"\s*\{")  # matched in place: no copy of a megabyte frame
_KIND_OF_CODE = {
    "VALIDATION_ERROR": "InvalidAction",
    "INVALID_JSON": "InvalidAction",
    "UNKNOWN_TYPE": "InvalidAction",
    "CAPACITY_REACHED": "ServerAtCapacity",
}
_KEPT_FIELDS = ("active_sessions", "max_sessions", "factory_name")


def _unparsable(text: str) -> str:
    """Why OpenEnv would end the session on this frame ("" when it would not).

    OpenEnv answers a JSONDecodeError, but not the other ways ``json.loads`` fails (deep
    nesting, a number of over 4,300 digits) nor valid JSON that is not an object (``[]``,
    ``1``): those end the session. Only a frame that might be one of them is parsed here."""
    suspect = (
        _OBJECT_START.match(text) is None
        or text.count("[") + text.count("{") > MAX_DEPTH
        or _LONG_NUMBER.search(text) is not None
    )
    if not suspect:
        return ""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return ""  # OpenEnv says INVALID_JSON and goes on
    except RecursionError:
        return "JSON nested too deeply to parse"
    except ValueError as exc:
        return f"JSON that cannot be parsed: {exc}"
    return "" if isinstance(parsed, dict) else 'a frame must be a JSON object: {"type": ...}'


def cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def compact_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """The first ``MAX_ERRORS`` pydantic errors: where, what, which rule; never the input."""
    compact = []
    for error in errors[:MAX_ERRORS]:
        if not isinstance(error, dict):
            continue
        loc = [p if isinstance(p, int) else cut(str(p), 100) for p in error.get("loc", ())]
        msg = cut(str(error.get("msg", "")), 300)
        compact.append({"loc": loc, "msg": msg, "type": error.get("type")})
    return compact


def _details(exc: PythonEnvError) -> dict[str, Any]:
    return {
        name: value if isinstance(value, int | float | bool) else cut(str(value), MAX_DETAIL_CHARS)
        for name, value in exc.details.items()
    }


def compact_error(data: dict[str, Any], exc: BaseException | None) -> dict[str, Any]:
    """The ``data`` of an error frame, capped and typed (see the module docstring)."""
    code = str(data.get("code", "EXECUTION_ERROR"))
    out: dict[str, Any] = {"message": cut(str(data.get("message", ""))), "code": code}
    out.update({name: data[name] for name in _KEPT_FIELDS if name in data})
    if isinstance(data.get("errors"), list):
        out["errors"] = compact_validation_errors(data["errors"])
        out["error_count"] = len(data["errors"])
        first = out["errors"][0] if out["errors"] else None
        if first:  # "Invalid message" alone does not say what was wrong
            where = ".".join(map(str, first["loc"]))
            out["message"] = f"invalid action: {where + ': ' if where else ''}{first['msg']}"
    if isinstance(exc, PythonEnvError):
        out["kind"], out["details"] = type(exc).__name__, _details(exc)
    else:
        out["kind"] = _KIND_OF_CODE.get(code, "ServerError")
    return out


def error_frame(message: str, kind: str, code: str = "VALIDATION_ERROR") -> str:
    """An error frame the server writes itself (the app never saw the message)."""
    data = {"message": cut(message), "code": code, "kind": kind}
    return json.dumps({"type": "error", "data": data})


async def _discard_body(receive: Receive, most: int) -> None:
    # A client still sending when the reply comes sees a reset, not the 413: read (and drop) the
    # body first, unless it is absurdly large.
    seen = 0
    while seen <= most:
        message = await receive()
        seen += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return


class _CappedBody:
    """A request body without a length, counted as the app reads it: past ``most`` bytes the
    client gets a 413 and the app a disconnect; the app's own reply is then dropped."""

    def __init__(
        self,
        receive: Receive,
        send: Send,
        most: int,
        refuse: Callable[[Send, int, bool], Awaitable[None]],
    ) -> None:
        self._receive, self._send, self._most, self._refuse = receive, send, most, refuse
        self.seen = 0
        self.over = False
        self.started = False

    async def receive(self) -> Message:
        if self.over:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self._most:
                self.over = True
                if message.get("more_body"):
                    await _discard_body(self._receive, 16 * self._most)
                if not self.started:
                    await self._refuse(self._send, self.seen, not message.get("more_body"))
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.over:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class ErrorFrameMiddleware:
    """ASGI middleware applying the rules of the module docstring to ``/ws`` and HTTP bodies."""

    def __init__(self, app: ASGIApp, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.app = app
        self.max_frame_bytes = max_frame_bytes

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.app(scope, self._ws_receive(receive, send), self._ws_send(send))
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        length = dict(scope.get("headers", ())).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_frame_bytes:
            await _discard_body(receive, 16 * self.max_frame_bytes)
            await self._too_large(send, int(length))
            return
        if length is not None:
            await self.app(scope, receive, send)
            return
        capped = _CappedBody(receive, send, self.max_frame_bytes, self._too_large)
        try:
            await self.app(scope, capped.receive, capped.send)
        except Exception:
            if not capped.over:
                raise
            # The app saw the client go away mid-body (our 413 already answered): not a fault.

    async def _too_large(self, send: Send, size: int, sent_whole: bool = True) -> None:
        body = {
            "detail": f"request body of {'' if sent_whole else 'at least '}{size} bytes is over "
            f"the limit of {self.max_frame_bytes} bytes",
            "error": "InvalidAction",
        }
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    def _ws_receive(self, receive: Receive, send: Send) -> Receive:
        limit = self.max_frame_bytes

        async def guarded() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return message
                text = message.get("text")
                if text is None:
                    reply = "binary frames are not part of the protocol: send JSON text frames"
                elif len(text) > limit // 4 and (size := len(text.encode())) > limit:
                    reply = (
                        f"frame of {size} bytes is over the limit of {self.max_frame_bytes} bytes"
                    )
                elif why := _unparsable(text):
                    reply = why
                else:
                    return message
                await send({"type": "websocket.send", "text": error_frame(reply, "InvalidAction")})

        return guarded

    def _ws_send(self, send: Send) -> Send:
        async def rewriting(message: Message) -> None:
            text = message.get("text")
            if message["type"] == "websocket.send" and text and text.startswith('{"type":"error"'):
                frame = json.loads(text)
                frame["data"] = compact_error(frame.get("data") or {}, sys.exc_info()[1])
                message = {**message, "text": json.dumps(frame)}
            await send(message)

        return rewriting
