"""examples/node: a Node client (npm ``ws``) plays a full episode over the raw ``/ws`` protocol,
an expected error frame included, against a real server on 127.0.0.1. CI installs Node and runs
``npm ci --prefix examples/node`` first; elsewhere the test says what is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(
    not (EXAMPLE / "node_modules" / "ws").is_dir(),
    reason="the example's dependencies are not installed: npm ci --prefix examples/node",
)
def test_node_client_plays_an_episode_over_raw_websocket(server_url: str) -> None:
    out = subprocess.run(
        ["node", str(EXAMPLE / "play.mjs"), server_url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"connected: {server_url.replace('http', 'ws')}/ws"
    assert lines[1].startswith("reset: task=http-retry-backoff lines=")
    assert lines[2].startswith("error: code=VALIDATION_ERROR kind=InvalidAction message=")
    assert "a review action needs 'findings'" in lines[2]
    assert [line.split(" reward=")[0] for line in lines[3:7]] == [
        "step: review", "step: edit", "step: run_tests", "step: submit"
    ]  # fmt: skip
    assert "done=true score=" in lines[6]
    assert lines[7].endswith("equals the score")
    assert lines[8] == "state: episode_id=node-example step_count=4"
    assert lines[9] == "closed"
