"""Bad input over real sockets: capped, typed errors; the session, and the server, go on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from python_env import errors
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.server.wire_errors import MAX_FRAME_BYTES
from tests.sandbox.test_protocol import FORGERIES
from tests.server.test_integration import first_task, http

SMALL_CLIENT = 1024 * 1024  # the `websockets` default a client in any language may keep
CAP = 4096  # no error reply is larger than this


def _ws(server_url: str) -> ClientConnection:
    return connect(server_url.replace("http", "ws") + "/ws", max_size=SMALL_CLIENT)


def _ask(ws: ClientConnection, frame: str | bytes) -> dict[str, Any]:
    ws.send(frame)
    reply = ws.recv(timeout=60)
    assert len(reply) <= CAP or json.loads(reply)["type"] != "error", len(reply)
    return dict(json.loads(reply))


def _step(kind: str, **fields: Any) -> str:
    return json.dumps({"type": "step", "data": {"kind": kind, **fields}})


def test_bad_frames_get_small_error_frames_and_the_session_goes_on(server_url: str) -> None:
    task = first_task(server_url)
    huge_edit = _step("edit", code="x" * 2_000_000)  # over the action's limit, under the frame's
    bad = {
        "huge edit": huge_edit,
        "frame over the limit": "x" * (MAX_FRAME_BYTES + 1),
        "binary frame": b"\x00\x01\x02",
        "deeply nested": "[" * 100_000,
        "not json": "{{",
        "unknown type": json.dumps({"type": "teleport"}),
        "findings of the wrong shape": _step("review", findings=[{"line": "one"}] * 500),
    }
    with _ws(server_url) as ws:
        reset = json.dumps({"type": "reset", "data": {"task_id": task["id"]}})
        assert _ask(ws, reset)["type"] == "observation"
        for name, frame in bad.items():
            reply = _ask(ws, frame)
            assert reply["type"] == "error", name
            data = reply["data"]
            assert data["kind"] == "InvalidAction" and data["message"], name
            assert "xxxxxxxxxx" not in json.dumps(data), f"{name}: the input came back"
        reply = _ask(ws, huge_edit)["data"]
        assert reply["code"] == "VALIDATION_ERROR" and reply["errors"][0]["loc"] == ["code"]
        assert "at most 100000 characters" in reply["message"]
        many = _ask(ws, _step("review", findings=[{"line": "one"}] * 40))["data"]
        assert many["error_count"] > len(many["errors"]) == 3
        after = _ask(ws, _step("submit"))  # the same session, unharmed
        assert after["type"] == "observation" and after["data"]["done"] is True


def test_http_bodies_are_capped_and_never_echoed(server_url: str) -> None:
    edit = {"action": {"kind": "edit", "code": "y" * 2_000_000}}
    status, body = http(f"{server_url}/step", "POST", edit)
    assert status == 422 and len(json.dumps(body)) <= CAP
    assert body["error"] == "InvalidAction" and "yyyy" not in json.dumps(body)
    assert body["detail"][0]["loc"][-1] == "code"
    req = urllib.request.Request(
        f"{server_url}/step",
        data=b"{" + b" " * (MAX_FRAME_BYTES + 10) + b"}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code == 413 and "over the limit" in refused.value.read().decode()
    assert http(f"{server_url}/health")[0] == 200


def test_the_client_raises_the_class_the_server_names(server_url: str) -> None:
    with PythonEnv(base_url=server_url).sync() as env:
        with pytest.raises(errors.ResetNeeded):
            env.step(CodeReviewAction(kind="submit"))
        with pytest.raises(errors.TaskNotFound) as unknown:
            env.reset(task_id="no-such-task")
        assert unknown.value.details["task_id"] == "no-such-task"
        with pytest.raises(errors.TaskNotFound) as split:
            env.reset(split="no-such-split")
        assert split.value.details["split"] == "no-such-split"
        with pytest.raises(errors.InvalidRequest):
            env.reset(difficulty="impossible")
        env.reset(task_id=first_task(server_url)["id"])
        assert env.step(CodeReviewAction(kind="submit")).done
        with pytest.raises(errors.EpisodeFinished):
            env.step(CodeReviewAction(kind="submit"))
        assert not env.reset(seed=1).done  # and the session goes on


def test_a_candidate_cannot_make_its_own_episode_unfinishable(server_url: str) -> None:
    """Whatever the candidate writes to the result channel, run_tests and submit answer with an
    observation (a verdict), never an error frame."""
    task = first_task(server_url)
    with PythonEnv(base_url=server_url).sync() as env:
        for name, raw in sorted(FORGERIES.items()):
            original = env.reset(task_id=task["id"]).observation.code
            code = f"import os\nos.write(3, {raw!r})\n" + original
            env.step(CodeReviewAction(kind="edit", code=code))
            ran = env.step(CodeReviewAction(kind="run_tests")).observation
            assert ran.test_report is not None, name
            final = env.step(CodeReviewAction(kind="submit")).observation
            assert final.evaluation is not None and final.score < 1.0, name


def test_a_chunked_http_body_is_capped_as_it_arrives(server_url: str) -> None:
    """No Content-Length: the 413 comes once the body grows past the limit, and the server goes
    on (the app that was reading it sees the client leave)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"action": {"kind": "edit", "code": "'
        for _ in range(MAX_FRAME_BYTES // 65_536 + 2):
            yield b"z" * 65_536
        yield b'"}}'

    with httpx.Client(timeout=60) as client:
        reply = client.post(f"{server_url}/step", content=chunks())
        assert reply.status_code == 413, reply.text[:200]
        assert "over the limit" in reply.text and "zzzz" not in reply.text
        json_type = {"content-type": "application/json"}
        small = client.post(f"{server_url}/reset", content=iter([b"{}"]), headers=json_type)
        assert small.status_code == 200
    assert http(f"{server_url}/health")[0] == 200
