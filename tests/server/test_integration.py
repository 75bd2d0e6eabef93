"""End-to-end: a real server process on 127.0.0.1, driven over real sockets (WebSocket and HTTP)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import connect

from python_env.client import PythonEnv
from python_env.config import Settings
from python_env.environment.models import CodeReviewAction
from python_env.server.app import _ws_options

FINDING = {"start_line": 1, "end_line": 1, "category": "bug", "severity": "low", "message": "?"}


def http(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def first_task(server_url: str) -> dict[str, Any]:
    status, body = http(f"{server_url}/python_env/task", "POST", {"split": "curated", "index": 0})
    assert status == 200
    return dict(body["task"])


def test_full_episode_over_websocket(server_url: str) -> None:
    task = first_task(server_url)
    with PythonEnv(base_url=server_url).sync() as env:
        result = env.reset(task_id=task["id"], seed=1)
        obs = result.observation
        assert obs.task is not None and obs.task.id == task["id"] and obs.code
        rewards = []
        for action in (
            CodeReviewAction(kind="review", findings=[FINDING]),
            CodeReviewAction(kind="edit", code=obs.code + "\n# reviewed\n"),
            CodeReviewAction(kind="run_tests"),
            CodeReviewAction(kind="submit"),
        ):
            result = env.step(action)
            rewards.append(result.reward)
        assert result.done and result.observation.evaluation is not None
        assert 0.0 <= result.observation.evaluation.score <= 1.0
        assert sum(rewards) == pytest.approx(result.observation.evaluation.score, abs=1e-5)
        assert result.observation.test_report is not None
        state = env.state()
        assert state.task_id == task["id"] and state.step_count == 4 and state.done


async def _episode(server_url: str, task_id: str, code: str) -> tuple[str, float]:
    async with PythonEnv(base_url=server_url) as env:
        result = await env.reset(task_id=task_id)
        assert result.observation.task is not None
        await env.step(CodeReviewAction(kind="edit", code=code))
        final = await env.step(CodeReviewAction(kind="submit"))
        assert final.done and final.observation.evaluation is not None
        return final.observation.code, final.observation.evaluation.score


def test_sixteen_concurrent_sessions_do_not_cross_talk(server_url: str) -> None:
    task = first_task(server_url)

    async def main() -> list[tuple[str, float]]:
        codes = [f"# session {i}\nraise SystemExit({i})\n" for i in range(16)]
        return await asyncio.gather(*(_episode(server_url, task["id"], c) for c in codes))

    results = asyncio.run(main())
    assert [code for code, _ in results] == [
        f"# session {i}\nraise SystemExit({i})\n" for i in range(16)
    ]
    assert all(score == 0.0 for _, score in results)


def test_same_seed_same_task_and_same_code_same_score(server_url: str) -> None:
    with PythonEnv(base_url=server_url).sync() as env:
        first = env.reset(seed=42).observation
        second = env.reset(seed=42).observation
        assert first.task == second.task
    task = first_task(server_url)
    runs = [asyncio.run(_episode(server_url, task["id"], "x = 1\n")) for _ in range(2)]
    assert runs[0] == runs[1]


def ws_exchange(server_url: str, messages: list[Any]) -> list[dict[str, Any]]:
    with connect(server_url.replace("http", "ws") + "/ws") as ws:
        replies = []
        for message in messages:
            ws.send(message if isinstance(message, str) else json.dumps(message))
            replies.append(json.loads(ws.recv(timeout=30)))
        return replies


def test_websocket_frames_are_not_deflated_unless_asked(server_url: str) -> None:
    # The client offers permessage-deflate (websockets does by default); the server declines it
    # unless WS_COMPRESSION is set: deflating a few-kilobyte observation cost more CPU than the
    # rest of a review step.
    with connect(server_url.replace("http", "ws") + "/ws") as ws:
        assert ws.response is not None
        assert "permessage-deflate" not in str(ws.response.headers.get("Sec-WebSocket-Extensions"))
        ws.send(json.dumps({"type": "reset", "data": {}}))
        assert json.loads(ws.recv(timeout=30))["type"] == "observation"
    settings = Settings.from_env({"WS_COMPRESSION": "1"})
    assert _ws_options(settings)["ws_per_message_deflate"] is True
    assert _ws_options(Settings.from_env({}))["ws_per_message_deflate"] is False


def test_bad_input_gets_error_frames_and_the_session_survives(server_url: str) -> None:
    task = first_task(server_url)
    replies = ws_exchange(
        server_url,
        [
            {"type": "step", "data": {"kind": "submit"}},  # before reset
            {"type": "reset", "data": {"task_id": "no-such-task"}},  # unknown task
            {"type": "reset", "data": {"task_id": task["id"]}},
            {"type": "step", "data": {"kind": "review", "findings": []}},  # malformed
            {"type": "step", "data": {"kind": "edit", "code": 5}},  # malformed
            "not json",
            {"type": "step", "data": {"kind": "submit"}},
            {"type": "step", "data": {"kind": "submit"}},  # after done
            {"type": "state"},
        ],
    )
    kinds = [r["type"] for r in replies]
    assert kinds == [
        "error",
        "error",
        "observation",
        "error",
        "error",
        "error",
        "observation",
        "error",
        "state",
    ]
    assert "reset()" in replies[0]["data"]["message"]
    assert "no-such-task" in replies[1]["data"]["message"]
    assert replies[3]["data"]["code"] == "VALIDATION_ERROR"
    assert "done=True" in replies[7]["data"]["message"]
    assert replies[5]["data"]["code"] == "INVALID_JSON"
    assert replies[6]["data"]["done"] is True
    assert replies[8]["data"]["step_count"] == 1


def test_http_errors_are_4xx_with_a_message(server_url: str) -> None:
    status, body = http(f"{server_url}/reset", "POST", {"task_id": "no-such-task"})
    assert status == 404 and "no-such-task" in body["detail"]
    status, body = http(f"{server_url}/step", "POST", {"action": {"kind": "submit"}})
    assert status == 409 and "/ws" in body["detail"]
    status, body = http(f"{server_url}/step", "POST", {"action": {"kind": "nope"}})
    assert status == 422
    status, body = http(
        f"{server_url}/python_env/task", "POST", {"split": "curated", "index": 10**6}
    )
    assert status == 400


def test_schema_metadata_and_task_api(server_url: str) -> None:
    status, schema = http(f"{server_url}/schema")
    assert status == 200
    assert "kind" in schema["action"]["properties"]
    assert "evaluation" in schema["observation"]["properties"]
    assert "task_id" in schema["state"]["properties"]
    status, meta = http(f"{server_url}/metadata")
    assert status == 200 and meta["name"] == "python_env"
    status, splits = http(f"{server_url}/python_env/splits")
    assert status == 200 and {"name": "curated", "type": "validation"} in splits
    status, count = http(f"{server_url}/python_env/num_tasks", "POST", {"split": "curated"})
    assert status == 200 and count["num_tasks"] >= 1
    status, listing = http(f"{server_url}/python_env/tasks", "POST", {"split": "curated"})
    assert status == 200 and len(listing["tasks"]) == count["num_tasks"]
    status, health = http(f"{server_url}/health")
    assert status == 200 and health["status"] == "healthy"
    assert health["sandbox"]["layers"] and "missing" in health["sandbox"]
