"""A validation provider for OpenEnv's ``run_validation`` that needs no Docker: a local process.

OpenEnv 0.10 runs its runtime graders only through a ``ValidationProvider``, and ships a Docker
one. This provider "builds" nothing (the subject is the python_env installed in this interpreter;
its image reference is the package's source digest) and starts the server as a child process:

- in a network namespace of its own (``unshare --net``; ``--map-root-user`` when not root), so
  the manifest's ``no-network`` is enforced, not just declared: the server has a loopback that is
  down and no other interface (``inspect()`` reads them from ``/proc/PID/net``);
- listening on a Unix socket, which a relay on 127.0.0.1 exposes to OpenEnv's collector.

It does not enforce the CPU, memory or disk declarations, and it measures no reachability (no
``network_policy`` capability), so ``runtime.network_policy`` is skipped. It is a protocol check
of the server, not a certificate of the isolation a container would add.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from openenv.validation import ExecResult, ProviderCapability
from openenv.validation.manifest import ExecutionDeclaration
from openenv.validation.providers import ProviderError, StartupError, UnsupportedCapability
from openenv.validation.runner import source_digest
from openenv.validation.runtime.contracts import LaunchSpec

from python_env.config import inherited_environment
from python_env.conformance.relay import UnixSocketRelay

_LOG_TAIL = 65_536


def _netns_prefix() -> list[str] | None:
    """The command prefix that gives a child a private network namespace, or None if none can."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [unshare, "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    try:
        ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return prefix if ok else None


def namespace_interfaces(pid: int) -> dict[str, Any]:
    """The interfaces and default route of the network namespace of ``pid`` (from /proc)."""
    base = Path(f"/proc/{pid}/net")
    lines = (base / "dev").read_text().splitlines()[2:]
    interfaces = sorted(line.split(":", 1)[0].strip() for line in lines)
    routes = (base / "route").read_text().splitlines()[1:]
    default_route = any(line.split()[1] == "00000000" for line in routes if line.split())
    return {"interfaces": interfaces, "default_route": default_route}


class LocalProcessProvider:
    """Starts ``python_env``'s server from this interpreter as a validation subject."""

    name = "local-process"
    # IMAGE_BUILD: the runner requires it; "building" here means using the installed package.
    capabilities = frozenset({ProviderCapability.IMAGE_BUILD})

    def __init__(self, env: dict[str, str] | None = None, startup_timeout_s: float = 120.0) -> None:
        self._env = env or {}
        # OpenEnv's runner always asks for 30 s; importing its server stack (gradio) alone takes
        # 3 s on a quiet 2-core machine and over 20 s on a busy one, so wait longer than asked.
        self._startup_timeout_s = startup_timeout_s
        self._netns = _netns_prefix()
        modes = {"public"} | ({"no-network"} if self._netns else set())
        self.supported_network_modes: frozenset[str] = frozenset(modes)
        self.inspections: list[dict[str, Any]] = []  # what each subject's inspect() measured

    def build(self, root: Path, execution: ExecutionDeclaration) -> str:
        """No image: the reference is the digest of the package's source tree."""
        del execution
        return "sha256:" + source_digest(Path(root))

    def start(self, spec: LaunchSpec) -> LocalSubject:
        """Start the server and wait for ``/health``; stop it again if it never answers."""
        mode = spec.network.mode
        if mode not in self.supported_network_modes:
            raise UnsupportedCapability(f"this host cannot give the server network mode {mode}")
        prefix = self._netns if mode == "no-network" and self._netns else []
        subject = LocalSubject(spec, prefix, self._env, self.inspections)
        try:
            subject.wait_healthy(max(spec.startup_timeout_s, self._startup_timeout_s))
        except BaseException:
            subject.stop()
            raise
        return subject


class LocalSubject:
    """A running server process behind a relay; only this process group is ever stopped."""

    def __init__(
        self,
        spec: LaunchSpec,
        prefix: list[str],
        env: dict[str, str],
        inspections: list[dict[str, Any]],
    ) -> None:
        self._inspections = inspections
        self._dir = tempfile.mkdtemp(prefix="python-env-validate-")
        self._log_path = Path(self._dir) / "server.log"
        socket_path = str(Path(self._dir) / "server.sock")
        self._mode = spec.network.mode
        command = [
            *prefix, sys.executable, "-m", "uvicorn", "python_env.server.app:build_app",
            "--factory", "--uds", socket_path, "--log-level", "info",
        ]  # fmt: skip
        environ = inherited_environment({**env, **spec.env_vars})
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command,
                env=environ,
                cwd=self._dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._socket_path = socket_path
        self._health: dict[str, Any] = {}
        self._relay = UnixSocketRelay(socket_path)
        self.base_url = f"http://127.0.0.1:{self._relay.port}"

    def wait_healthy(self, timeout_s: float) -> None:
        """Poll ``/health`` through the relay until it answers 200 (StartupError otherwise)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise StartupError(f"the server exited ({self._proc.returncode}):\n{self.logs()}")
            if os.path.exists(self._socket_path):
                try:
                    with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as reply:
                        self._health = json.loads(reply.read())
                    return
                except (OSError, ValueError):  # URLError is an OSError
                    pass
            time.sleep(0.1)
        raise StartupError(f"/health did not answer 200 within {timeout_s:.0f} s:\n{self.logs()}")

    def inspect(self) -> dict[str, Any]:
        """The process, its sandbox tier, its network namespace as measured in /proc, and the
        declared mode."""
        details: dict[str, Any] = {"provider": "local-process", "pid": self._proc.pid}
        details["sandbox_tier"] = self._health.get("sandbox", {}).get("tier")
        details["network"] = {"requested_mode": self._mode}
        try:
            details["network"].update(namespace_interfaces(self._proc.pid))
            subject_ns = os.readlink(f"/proc/{self._proc.pid}/ns/net")
            details["network"]["own_namespace"] = subject_ns != os.readlink("/proc/self/ns/net")
        except OSError as exc:
            details["network"]["error"] = str(exc)
        self._inspections.append(details)
        return details

    def logs(self, max_bytes: int = _LOG_TAIL) -> str:
        """The tail of the server's output."""
        try:
            data = self._log_path.read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode(errors="replace")

    def exec(self, argv: list[str], timeout_s: float) -> ExecResult:
        """Not offered (no EXEC capability): nothing runs "inside" a plain process."""
        raise ProviderError("the local-process provider cannot exec inside the subject")

    def stop(self) -> None:
        """SIGTERM the server (SIGKILL after 10 s) and then its process group; close the relay."""
        self._proc.terminate()  # the server stops its sandbox workers on SIGTERM
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its process group
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._relay.close()
        shutil.rmtree(self._dir, ignore_errors=True)
