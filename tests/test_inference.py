"""inference.py as a process: its stdout is checked line by line against the hackathon contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from python_env.agents.launcher import free_port
from python_env.tasks.catalog import default_catalog
from tests.agents.fake_openai import FakeOpenAI, Reply, answer_key_review, scripted

SCRIPT = Path(__file__).resolve().parents[1] / "inference.py"
START = re.compile(r"^\[START\] task=(?P<task>\S+) env=python_env model=(?P<model>\S+)$")
STEP = re.compile(
    r"^\[STEP\] step=(?P<step>\d+) action=(?P<action>\S+) reward=(?P<reward>-?\d+\.\d{2}) "
    r"done=(?P<done>true|false) error=(?P<error>.+)$"
)
END = re.compile(
    r"^\[END\] success=(?P<success>true|false) steps=(?P<steps>\d+) "
    r"score=(?P<score>\d\.\d{3}) rewards=(?P<rewards>(-?\d+\.\d{2})(,-?\d+\.\d{2})*|)$"
)


def run_inference(env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"ENV_BASE_URL", "HF_TOKEN"}}
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=SCRIPT.parent,
    )


def parse_blocks(stdout: str) -> list[dict]:  # type: ignore[type-arg]
    """Split stdout into [START] … [END] blocks, asserting every line follows the contract."""
    blocks: list[dict] = []  # type: ignore[type-arg]
    current: dict | None = None  # type: ignore[type-arg]
    for line in stdout.splitlines():
        if m := START.match(line):
            assert current is None, f"[START] before [END]: {line}"
            current = {"start": m.groupdict(), "steps": []}
        elif m := STEP.match(line):
            assert current is not None, f"[STEP] outside a task: {line}"
            current["steps"].append(m.groupdict())
        elif m := END.match(line):
            assert current is not None, f"[END] without [START]: {line}"
            current["end"] = m.groupdict()
            blocks.append(current)
            current = None
        else:
            raise AssertionError(f"stdout line breaks the contract: {line!r}")
    assert current is None, "a task has no [END]"
    for block in blocks:
        steps, end = block["steps"], block["end"]
        assert [int(s["step"]) for s in steps] == list(range(1, len(steps) + 1))
        assert int(end["steps"]) == len(steps)
        rewards = end["rewards"].split(",") if end["rewards"] else []
        assert rewards == [s["reward"] for s in steps]
        assert all(s["done"] == "false" for s in steps[:-1])
    return blocks


def test_stdout_follows_the_contract_line_by_line(server_url: str) -> None:
    good, bad = "userstore-sqlite-lookup", "token-bucket-refill"
    fix = json.dumps({"kind": "edit", "code": default_catalog().get(good).fix})
    script = scripted(
        [
            answer_key_review(good), fix, '{"kind": "submit"}',  # task 1: a perfect episode
            "not json", "{still not", Reply(status=500), '{"kind": "submit"}',  # task 2
        ]
    )  # fmt: skip
    with FakeOpenAI(script) as llm:
        proc = run_inference(
            {"API_BASE_URL": llm.base_url, "MODEL_NAME": "scripted/model-1",
             "HF_TOKEN": "test-token", "ENV_BASE_URL": server_url, "TASK_NAME": f"{good},{bad}"}
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, second = parse_blocks(proc.stdout)
    assert first["start"] == {"task": good, "model": "scripted/model-1"}
    assert [s["action"] for s in first["steps"]] == [
        "review(findings=1)",
        f"edit(chars={len(json.loads(fix)['code'])})",
        "submit()",
    ]
    assert [s["done"] for s in first["steps"]] == ["false", "false", "true"]
    assert all(s["error"] == "null" for s in first["steps"])
    assert first["end"]["success"] == "true" and first["end"]["score"] == "1.000"
    assert sum(float(s["reward"]) for s in first["steps"]) == 1.0

    assert second["start"]["task"] == bad
    invalid, submit = second["steps"]
    assert invalid["action"] == "invalid" and invalid["reward"] == "0.00"
    assert invalid["done"] == "false" and "malformed JSON" in invalid["error"]
    assert submit == {"step": "2", "action": "submit()", "reward": "0.00", "done": "true",
                      "error": "null"}  # fmt: skip
    assert second["end"] == {"success": "false", "steps": "2", "score": "0.000",
                             "rewards": "0.00,0.00"}  # fmt: skip
    auth = llm.requests[0]
    assert auth["model"] == "scripted/model-1"


def test_an_unreachable_llm_still_ends_with_end_and_a_clear_message() -> None:
    # No ENV_BASE_URL: the script starts its own server on 127.0.0.1, then finds no LLM.
    llm_url = f"http://127.0.0.1:{free_port()}/v1"
    proc = run_inference({"API_BASE_URL": llm_url, "TASK_NAME": "userstore-sqlite-lookup,x"})
    assert proc.returncode == 1
    (block,) = parse_blocks(proc.stdout)  # stops after the first task
    assert block["steps"] == []
    assert block["end"] == {"success": "false", "steps": "0", "score": "0.000", "rewards": ""}
    assert f"cannot reach the LLM endpoint {llm_url}" in proc.stderr
    assert "starting a python_env server on 127.0.0.1" in proc.stderr


def test_an_unreachable_environment_server_is_reported_per_task() -> None:
    env_url = f"http://127.0.0.1:{free_port()}"
    with FakeOpenAI(scripted([])) as llm:
        proc = run_inference(
            {"API_BASE_URL": llm.base_url, "ENV_BASE_URL": env_url, "TASK_NAME": "a,b"}
        )
    assert proc.returncode == 1
    blocks = parse_blocks(proc.stdout)
    assert [b["start"]["task"] for b in blocks] == ["a", "b"]
    assert all(b["end"]["success"] == "false" for b in blocks)
    assert "cannot reach the python_env server" in proc.stderr
    assert llm.requests == []
