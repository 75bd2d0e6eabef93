"""``PythonEnv``: the OpenEnv WebSocket client for python_env (async, or ``.sync()``).

Parsing is done by the wire models themselves (``model_validate``), so the client never repeats the
schema. An error frame raises the exception of ``python_env.errors`` that the server named
(``TaskNotFound``, ``InvalidAction``, ``EpisodeFinished``, ``ServerAtCapacity``...), not a bare
``RuntimeError``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from python_env.environment.models import CodeReviewAction, CodeReviewObservation, CodeReviewState
from python_env.environment.openenv_light import EnvClient, StepResult
from python_env.errors import SessionLost, error_from_wire

_GONE = (State.CLOSING, State.CLOSED)


def normalise_url(url: str) -> str:
    """A server's base URL as given, with ``http://`` added when it has no scheme and no
    trailing ``/``."""
    url = url.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


class PythonEnv(EnvClient[CodeReviewAction, CodeReviewObservation, CodeReviewState]):
    """Client for a python_env server.

    Example::

        async with PythonEnv(base_url="http://127.0.0.1:8000") as env:
            result = await env.reset(task_id="bill-split-lost-cents")
            result = await env.step(CodeReviewAction(kind="submit"))
    """

    _given_up = False  # a call got no answer in time: OpenEnv dropped the socket

    @property
    def _socket_closed(self) -> bool:
        """The server closed this session's socket (it may not have been opened yet)."""
        return self._ws is not None and self._ws.state in _GONE

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        gone = self._given_up or self._socket_closed
        if message.get("type") == "reset":
            self._given_up = False
        elif gone:
            # OpenEnv would reconnect, to a new session, and answer as if nothing happened.
            raise SessionLost("the session is gone; reset() to start a new one")
        # A refused session sends its error frame, then closes: read the frame.
        with contextlib.suppress(ConnectionClosed):
            await self._send(message)
        try:
            response: dict[str, Any] = await self._receive()
        except ConnectionClosed as exc:
            # OpenEnv reconnects on the next call, to a new session: this episode is gone.
            raise SessionLost(f"the server closed the session: {exc}") from exc
        except TimeoutError as exc:  # the socket is dropped (a late answer would desync it)
            self._given_up = True
            raise SessionLost(
                f"no answer from {self.base_url} within {self._message_timeout:g}s "
                "(message_timeout_s); the session was given up"
            ) from exc
        if response.get("type") == "error":
            raise error_from_wire(response.get("data") or {})
        return response

    def _step_payload(self, action: CodeReviewAction) -> dict[str, Any]:
        return action.model_dump(mode="json", exclude_none=True, exclude={"metadata"})

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[CodeReviewObservation]:
        observation = CodeReviewObservation.model_validate(
            {
                **payload.get("observation", {}),
                "reward": payload.get("reward"),
                "done": payload.get("done", False),
            }
        )
        return StepResult(
            observation=observation,
            reward=payload.get("reward"),
            done=bool(payload.get("done", False)),
        )

    def _parse_state(self, payload: dict[str, Any]) -> CodeReviewState:
        return CodeReviewState.model_validate(payload)
