"""``python-env validate``: OpenEnv's runtime graders against a real server process (in a network
namespace of its own), a plan that breaks the protocol failing them, and ``openenv validate --url``
against a running server. The relay that joins the two namespaces, on its own."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from python_env.conformance import stage
from python_env.conformance.relay import UnixSocketRelay

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_CHECKS = ("runtime.startup", "runtime.reward_well_formed", "runtime.observation_schema",
                  "runtime.state_contract")  # fmt: skip


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "python_env.cli", "validate", str(path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.timeout(660)
def test_validate_runs_openenv_runtime_graders_and_they_pass() -> None:
    out = validate(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    for check in ("static.manifest", *RUNTIME_CHECKS):
        assert re.search(rf"^PASS\s+{re.escape(check)}\s", out.stdout, re.M), out.stdout
    # What openenv only reserves is listed as skipped, with openenv's reason.
    assert re.search(r"^SKIP\s+semantic\.oracle_max\s+grader not implemented", out.stdout, re.M)
    assert "python-env validate: passed (5 checks)" in out.stdout
    if "its own network namespace" in out.stdout:  # where unshare works (always as root)
        assert "(interfaces: lo; default route: none)" in out.stdout


@pytest.mark.timeout(660)
def test_validate_fails_when_the_episode_breaks_the_protocol(tmp_path: Path) -> None:
    package = tmp_path / "package"
    stage(ROOT, package)
    plan_path = package / "validation" / "runtime.json"
    plan = json.loads(plan_path.read_text())
    plan["actions"].insert(0, {"kind": "review"})  # no findings: the server answers an error frame
    plan_path.write_text(json.dumps(plan))
    out = validate(package)
    assert out.returncode == 1, out.stdout + out.stderr
    failed = r"^FAIL\s+runtime\.startup\s+step failed \(VALIDATION_ERROR\)"
    assert re.search(failed, out.stdout, re.M), out.stdout
    assert "python-env validate: FAILED: runtime.startup" in out.stdout


@pytest.mark.timeout(300)
def test_openenv_validate_url_passes_against_a_running_server(server_url: str) -> None:
    openenv = Path(sys.executable).with_name("openenv")
    out = subprocess.run(
        [str(openenv), "validate", "--url", server_url, "--json"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["passed"] and report["summary"]["passed_count"] == 6
    assert report["mode"] == "simulation"


def test_relay_joins_tcp_on_loopback_to_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()

    def echo() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data.upper())

    threading.Thread(target=echo, daemon=True).start()
    relay = UnixSocketRelay(path)
    try:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as client:
            client.sendall(b"hello")
            client.shutdown(socket.SHUT_WR)  # the half-close travels through
            received = b""
            while chunk := client.recv(1024):
                received += chunk
        assert received == b"HELLO"
    finally:
        relay.close()
        server.close()
