"""Starting sandbox workers, and what to release when the executor stops.

``TierSetup`` is what every worker of one executor starts with on the tier it tries: the command
line (inside bubblewrap or not), the config the worker reads, and the hello it must answer with
after its self-test. ``Resources`` holds everything to give back at close or interpreter exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import subprocess
from dataclasses import dataclass
from itertools import count

from python_env.errors import SandboxError
from python_env.sandbox import cgroups, isolation
from python_env.sandbox.handle import WorkerHandle
from python_env.sandbox.scratch import ScratchRoot
from python_env.sandbox.uids import UidBlock

log = logging.getLogger("python_env.sandbox")

HELLO_TIMEOUT_S = 60.0
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
_instances = count()  # cgroup instances of this process


class Resources:
    """Everything to release at close() or interpreter exit (held apart from the executor)."""

    def __init__(self) -> None:
        self.workers: dict[int, WorkerHandle] = {}
        self.scratch: ScratchRoot | None = None
        self.cgroup_instance = ""
        self.uids: UidBlock | None = None

    def drop_workers(self, graceful: bool = True) -> None:
        """Stop (or kill) every worker and remove their cgroups."""
        for worker in list(self.workers.values()):
            worker.stop() if graceful else worker.kill()
        self.workers.clear()
        if self.cgroup_instance:
            cgroups.remove_instance(self.cgroup_instance)
            self.cgroup_instance = ""

    def open_scratch(self) -> ScratchRoot:
        """The scratch directory; ``SandboxError`` once ``release`` gave it back (a
        replacement worker starting while the executor closes)."""
        if self.scratch is None:
            raise SandboxError("the executor is closed")
        return self.scratch

    def release(self) -> None:
        """Stop the workers, remove the scratch directory and give back the uid block."""
        self.drop_workers()
        if self.scratch is not None:
            self.scratch.release()
            self.scratch = None
        if self.uids is not None:
            self.uids.release()
            self.uids = None


@dataclass(frozen=True)
class WorkerOptions:
    """What every worker of an executor starts with, whatever its tier."""

    preload: list[str] | None
    warmup: bool
    trace: bool
    hash_seed: int
    grace_s: float  # on top of a job's wall limit, for its reply
    pytest_files: tuple[list[str], list[str]]  # (paths, the ones shown in the sandbox)


@dataclass(frozen=True)
class TierSetup:
    """How the workers of one executor start on ``tier``."""

    tier: str
    bwrap: str | None  # the bubblewrap binary, on the bwrap tier
    bwrap_missing: str  # why not, on any other
    slots: tuple[cgroups.SlotCgroup, ...]  # one per slot; empty without the cgroup layer
    res: Resources
    options: WorkerOptions

    @classmethod
    def prepare(
        cls, tier: str, bwrap_setting: str, size: int, res: Resources, options: WorkerOptions
    ) -> TierSetup:
        """The setup of ``tier`` for ``size`` workers, its cgroups created (and noted in
        ``res``); ``SandboxError`` if the tier needs bubblewrap and there is none."""
        bwrap, why = isolation.bwrap_binary(bwrap_setting)
        if tier == "bwrap" and bwrap is None:
            raise SandboxError(why)
        slots: tuple[cgroups.SlotCgroup, ...] = ()
        if "cgroup" in isolation.MECHANISMS[tier]:
            instance = f"{os.getpid()}-{next(_instances)}-{os.urandom(3).hex()}"
            slots = tuple(cgroups.create_slots(instance, size))
            res.cgroup_instance = instance if slots else ""
        missing = why or f"not used by tier {tier!r}"
        return cls(tier, bwrap if tier == "bwrap" else None, missing, slots, res, options)

    @property
    def scratch_root(self) -> str:
        """The executor's directory under TMPDIR: the workers' slots and logs."""
        return self.res.open_scratch().path

    def launch(self, slot: int, generation: int, probe_port: int) -> WorkerHandle:
        """Start the worker of ``slot`` in a fresh slot directory (it then runs its self-test,
        which must fail to reach ``probe_port``); ``await_hello`` reads how that went."""
        options, scratch_root, uids = self.options, self.scratch_root, self.res.uids
        slot_dir = os.path.join(scratch_root, f"slot-{slot}-{generation}")
        os.mkdir(slot_dir, 0o755)
        cgroup = dataclasses.asdict(self.slots[slot]) if self.slots else None
        code_dir = os.path.join(scratch_root, "code")
        pytest_paths, pytest_shown = options.pytest_files
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "tier": self.tier,
            "mechanisms": list(isolation.MECHANISMS[self.tier]),
            "outer": "bwrap" if self.bwrap else None,
            "bwrap_missing": self.bwrap_missing,
            "slot_dir": slot_dir,
            "scratch_root": scratch_root,
            "cgroup": cgroup,
            "uid": uids.uid(slot) if uids else None,
            "deny": isolation.denied_paths(),
            "canaries": isolation.canaries(),
            "probe_port": probe_port,
            "ctrl_fd": child_end.fileno(),
            "preload": options.preload,
            "warmup": options.warmup,
            "trace": options.trace,
            "pytest_paths": pytest_paths,
            "pytest_shown": pytest_shown,
        }
        script = str(isolation.SANDBOX_DIR / "worker.py")
        # Not -I: it implies -E, which ignores PYTHONHASHSEED (every worker would hash with its
        # own random seed). -P -s -S with the built environment isolate as much.
        command = [isolation.python_executable(), "-P", "-s", "-S", "-B"]
        if self.bwrap:
            dirs = [d for d in (cgroup or {}).values() if isinstance(d, str) and d]
            wrap = isolation.bwrap_command(
                self.bwrap, scratch_root, slot_dir, code_dir, dirs, pytest_shown
            )
            command = wrap + command
            script = os.path.join(code_dir, "worker.py")
        with open(self._log_path(slot), "ab") as errors:
            proc = subprocess.Popen(
                [*command, script, json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env={**WORKER_ENV, "PYTHONHASHSEED": str(options.hash_seed)},
                pass_fds=(child_end.fileno(),),
                start_new_session=True,
            )
        child_end.close()
        return WorkerHandle(slot, generation, slot_dir, proc, parent_end, options.grace_s)

    def await_hello(self, worker: WorkerHandle) -> bool:
        """Wait for the worker's hello: whether its self-test passed (``worker.hello`` is then
        set); if not, ``why_not_started`` says why, once the worker is killed."""
        worker.sock.settimeout(HELLO_TIMEOUT_S)
        try:
            data = worker.sock.recv(1 << 20)
        except OSError as exc:
            data = b""
            log.debug("no hello from worker %d: %s", worker.slot, exc)
        worker.hello = json.loads(data).get("hello", {}) if data else {}
        return bool(worker.hello.get("ok"))

    def why_not_started(self, worker: WorkerHandle) -> str:
        """The error its hello gave, or the end of its log (read once the worker is gone)."""
        if worker.hello.get("error"):
            return str(worker.hello["error"])
        log_end = ""
        # SandboxError: the executor closed meanwhile (no scratch directory left)
        with (
            contextlib.suppress(OSError, SandboxError),
            open(self._log_path(worker.slot), errors="replace") as f,
        ):
            log_end = f.read()[-2000:].strip()
        return log_end or "no hello"

    def _log_path(self, slot: int) -> str:
        return os.path.join(self.scratch_root, f"worker-{slot}.log")
