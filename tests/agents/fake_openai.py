"""A tiny OpenAI-compatible chat server on 127.0.0.1 that answers from a script.

It speaks just enough of ``POST /v1/chat/completions`` for the ``openai`` package; a reply is either
text for the assistant message or an HTTP status to fail with.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import default_catalog


@dataclass(frozen=True)
class Reply:
    content: str = ""
    status: int = 200


Responder = Callable[[dict[str, Any]], Reply]


def answer_key_review(task_id: str) -> str:
    """A scripted reply: the review action that reports the task's whole answer key, each
    finding with its part of the reference fix."""
    task = default_catalog().get(task_id)
    findings = [reference_finding(task, i).model_dump(mode="json") for i in task.issues]
    return json.dumps({"kind": "review", "findings": findings})


def scripted(replies: Iterable[Reply | str], then: Reply | str = '{"kind": "submit"}') -> Responder:
    """Replies in order, then ``then`` forever (thread-safe)."""
    queue = [r if isinstance(r, Reply) else Reply(r) for r in replies]
    last = then if isinstance(then, Reply) else Reply(then)
    lock = threading.Lock()

    def respond(_request: dict[str, Any]) -> Reply:
        with lock:
            return queue.pop(0) if queue else last

    return respond


class FakeOpenAI:
    """``with FakeOpenAI(responder) as llm:`` serves on ``llm.base_url`` (…/v1)."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                reply = outer.responder(body)
                if reply.status != 200:
                    error = {"message": "scripted failure", "type": "server_error"}
                    return self._send(reply.status, {"error": error})
                return self._send(200, completion(body.get("model", "scripted"), reply.content))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
