"""Issue 20: the Kubernetes manifests (deploy/kubernetes), rendered without a cluster, validated
against the Kubernetes schemas offline (kubernetes-validate, strict), and held to what the server
needs; then the readiness check and the drain they rely on, against a real server."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from python_env.agents.launcher import free_port, server_process
from python_env.cli import main
from python_env.client import PythonEnv
from python_env.config import ExecutorKind, SandboxSettings, Settings
from python_env.errors import ServerAtCapacity
from python_env.server.app import build_app
from tests.server.test_integration import http

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
TREES = {"base": KUBE / "base", "strong-sandbox": KUBE / "overlays" / "strong-sandbox"}
# 1.33: user namespaces on by default (the overlay's hostUsers: false); 1.37: the newest the
# dev extra's kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")


# -- rendering: the part of kustomize these trees use ------------------------------------------
def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as far as the overlays need it: maps merge key by key, lists of named
    maps (containers, env, ports, volumes) merge by name, any other list is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        return {**base, **{k: _merge(base[k], v) if k in base else v for k, v in patch.items()}}
    named = isinstance(base, list) and isinstance(patch, list)
    if named and all(isinstance(i, dict) and "name" in i for i in base + patch):
        patches = {i["name"]: i for i in patch}
        merged = [_merge(i, patches.pop(i["name"])) if i["name"] in patches else i for i in base]
        return merged + list(patches.values())
    return patch


def render(folder: Path) -> list[dict[str, Any]]:
    """The resources of a kustomization: its resources (files, or folders rendered first), with
    its patches applied to the resource of the same kind and name."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert set(spec) <= {"apiVersion", "kind", "resources", "patches"}, "renderer: unsupported"
    docs: list[dict[str, Any]] = []
    for entry in spec["resources"]:
        path = folder / entry
        docs += render(path) if path.is_dir() else list(yaml.safe_load_all(path.read_text()))
    for entry in spec.get("patches", []):
        patch = yaml.safe_load((folder / entry["path"]).read_text())
        key = (patch["kind"], patch["metadata"]["name"])
        index = next(i for i, d in enumerate(docs) if (d["kind"], d["metadata"]["name"]) == key)
        docs[index] = _merge(docs[index], patch)
    return docs


def _canonical(value: Any) -> Any:
    """Order-free form for comparing with kustomize (which puts patched-in list items first)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = {d["kind"]: d for d in docs}
    assert len(kinds) == len(docs), "one resource of each kind"
    return kinds


def _kustomize_version() -> tuple[int, ...] | None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    out = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True)
    found = re.search(r"Kustomize Version: v(\d+)\.(\d+)", out.stdout)
    return tuple(int(n) for n in found.groups()) if found else None


@pytest.mark.parametrize("tree", TREES)
def test_the_renderer_agrees_with_kubectl_kustomize(tree: str) -> None:
    if (_kustomize_version() or (0,)) < (4,):  # Debian's kubectl 1.20 embeds kustomize 2
        pytest.skip("no kubectl with kustomize 4 or later on this machine")
    out = subprocess.run(
        ["kubectl", "kustomize", str(TREES[tree])], capture_output=True, text=True, check=True
    )
    theirs = list(yaml.safe_load_all(out.stdout))
    assert _canonical(sorted(theirs, key=lambda d: d["kind"])) == _canonical(
        sorted(render(TREES[tree]), key=lambda d: d["kind"])
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("tree", TREES)
def test_every_manifest_is_valid_kubernetes(tree: str, version: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")  # the dev extra's
    for doc in render(TREES[tree]):
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any error


# -- what the server needs from its pod ----------------------------------------------------------
@pytest.fixture(scope="module")
def app_paths() -> set[tuple[str, str]]:
    """(method, path) of every route of the app the image serves (no sandbox: routes only)."""
    app = build_app(Settings(sandbox=SandboxSettings(executor=ExecutorKind.SUBPROCESS)))
    return {(m, r.path) for r in app.routes for m in getattr(r, "methods", ()) or ()}


def _server(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = _by_kind(docs)["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


@pytest.mark.parametrize("tree", TREES)
def test_the_pod_runs_unprivileged_with_a_read_only_root(tree: str) -> None:
    docs = render(TREES[tree])
    pod = _by_kind(docs)["Deployment"]["spec"]["template"]["spec"]
    container = _server(docs)
    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000  # the image's user
    assert re.search(r"^USER 1000$", (ROOT / "Dockerfile").read_text(), re.M)
    assert security["allowPrivilegeEscalation"] is False and not security.get("privileged")
    assert security["capabilities"] == {"drop": ["ALL"]} and security["readOnlyRootFilesystem"]
    assert pod["automountServiceAccountToken"] is False
    env = {e["name"]: e["value"] for e in container["env"]}
    scratch = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}[env["TMPDIR"]]
    assert "emptyDir" in {v["name"]: v for v in pod["volumes"]}[scratch]  # writable scratch
    assert (
        set(container["resources"]["requests"])
        == set(container["resources"]["limits"])
        == {
            "cpu",
            "memory",
        }
    )
    if tree == "base":  # the Restricted Pod Security Standard's seccomp rule
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert "seccompProfile" not in security and "hostUsers" not in pod
    else:  # what bubblewrap needs, and the tier pinned so that nothing weaker serves instead
        assert pod["hostUsers"] is False and security["procMount"] == "Unmasked"
        assert security["seccompProfile"] == security["appArmorProfile"] == {"type": "Unconfined"}
        assert env["PYTHON_ENV_SANDBOX_TIER"] == "bwrap"


@pytest.mark.parametrize("tree", TREES)
def test_probes_ports_and_selectors_fit_the_server(
    tree: str, app_paths: set[tuple[str, str]]
) -> None:
    docs = render(TREES[tree])
    kinds = _by_kind(docs)
    deployment, container = kinds["Deployment"], _server(docs)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HOST"] == "0.0.0.0" and env["WORKERS"] == "1" and int(env["MAX_CONCURRENT_ENVS"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(env["PORT"])}
    service_port = kinds["Service"]["spec"]["ports"][0]["targetPort"]
    assert ports.get(service_port, service_port) == int(env["PORT"])
    probes = {k: container[k]["httpGet"] for k in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = container["readinessProbe"]["httpGet"]
    assert {p["port"] for p in probes.values()} == {"http"}
    assert probes["livenessProbe"]["path"] == "/health"  # never fails because sessions are full
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert {("GET", p["path"]) for p in probes.values()} <= app_paths
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels
    assert kinds["Service"]["spec"]["selector"] == labels
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert kinds["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"] == labels
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"]  # the autoscaler owns it


@pytest.mark.parametrize("tree", TREES)
def test_egress_is_denied_and_ingress_reaches_only_the_server_port(tree: str) -> None:
    policy = _by_kind(render(TREES[tree]))["NetworkPolicy"]["spec"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert "egress" not in policy  # Egress listed with no rule: nothing goes out
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}] and "from" not in rule


@pytest.mark.parametrize("tree", TREES)
def test_the_grace_period_outlasts_the_drain(tree: str, app_paths: set[tuple[str, str]]) -> None:
    docs = render(TREES[tree])
    pod = _by_kind(docs)["Deployment"]["spec"]["template"]["spec"]
    command = _server(docs)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["python-env", "drain"]
    drain_s = int(command[command.index("--timeout") + 1])
    assert pod["terminationGracePeriodSeconds"] >= drain_s + 20  # and time for SIGTERM after
    assert ("POST", "/health/drain") in app_paths


def test_drain_is_refused_from_another_host_or_through_a_proxy() -> None:
    app = build_app(Settings(sandbox=SandboxSettings(executor=ExecutorKind.SUBPROCESS)))
    with TestClient(app) as remote:  # its client host is "testclient"
        assert remote.post("/health/drain").status_code == 403
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        relayed = local.post("/health/drain", headers={"X-Forwarded-For": "203.0.113.9"})
        assert relayed.status_code == 403
        assert local.get("/health").json()["draining"] is False
        assert local.post("/health/drain").status_code == 202
        assert local.get("/health").json()["draining"] is True
    assert ("POST", "/health/drain") not in {
        (m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops
    }  # an operator's control: not published for clients or fuzzers


def test_drain_says_when_no_server_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drain", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "0"]) == 2
    assert "cannot reach the python_env server at http://127.0.0.1:" in capsys.readouterr().err


# -- readiness and drain, against a real server --------------------------------------------------
def _until(check: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _drain(url: str, timeout_s: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "python_env.cli", "drain", "--url", url]
    return subprocess.Popen(
        [*command, "--timeout", str(timeout_s)], stdout=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def two_slot_server() -> Iterator[str]:
    with server_process(max_concurrent_envs=2) as (url, _proc):
        yield url


def test_readiness_follows_the_session_limit_and_the_drain(two_slot_server: str) -> None:
    url = two_slot_server

    async def play() -> None:
        async with PythonEnv(base_url=url) as first:
            await first.reset()
            async with PythonEnv(base_url=url) as second:
                await second.reset()
                status, body = http(f"{url}/health/ready")
                assert status == 503 and body["ready"] is False
                assert body["reason"].startswith("session limit reached: 2 of 2 sessions open")
                assert http(f"{url}/health")[0] == 200  # liveness: full is not dead
            _until(lambda: http(f"{url}/health/ready")[0] == 200)
            started = time.monotonic()
            drain = _drain(url, 3)
            _until(lambda: http(f"{url}/health/ready")[1]["reason"] is not None, 15)
            status, body = http(f"{url}/health/ready")
            assert status == 503 and body["reason"].startswith("draining")
            assert http(f"{url}/health")[0] == 200  # still alive while it drains
            async with PythonEnv(base_url=url) as late:  # a client that kept our address
                with pytest.raises(ServerAtCapacity, match="draining") as refused:
                    await late.reset()
            assert "another replica" in str(refused.value)
            status, body = http(f"{url}/reset", "POST", {})  # HTTP's one-call environments too
            assert status == 503 and body["error"] == "ServerAtCapacity", body
            assert http(f"{url}/metadata")[0] == 200  # read-only calls still answer
            assert http(f"{url}/python_env/splits")[0] == 200
            assert (await first.reset(seed=5)).observation.task is not None  # it plays on
            out, _ = drain.communicate(timeout=30)
            assert drain.returncode == 0, out
            assert time.monotonic() - started >= 3
            assert out.splitlines()[-1] == "drain timed out after 3 s: 1 session still open"
        started = time.monotonic()
        drain = _drain(url, 30)
        out, _ = drain.communicate(timeout=30)
        assert drain.returncode == 0 and out.splitlines()[-1] == "drained: no session open", out
        assert time.monotonic() - started < 10  # it returns once the last session is gone

    asyncio.run(play())
    assert http(f"{url}/health/ready")[1]["reason"].startswith("draining")  # for good
