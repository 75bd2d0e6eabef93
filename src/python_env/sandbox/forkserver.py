"""The warm executor: a pool of long-lived sandbox workers, each forking one confined child per job.

Each run() queues for an idle worker (``pool.WorkerPool``: first come, first served, for as long
as the pool makes progress), hands it the job as memfds over a UNIX socket, and blocks, with the
GIL released, until the worker replies with the exit status. A worker that dies, stops answering
or cannot restore its slot after a job is retired: killed with everything its jobs left, replaced
in the background in a fresh slot directory (the old one is reclaimed, never reused), and the job
is retried once elsewhere. Executor faults never become verdicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import queue
import socket
import subprocess
import threading
import time
import weakref
from collections import deque
from typing import Any

from python_env.errors import SandboxError
from python_env.sandbox import cgroups, fstree, isolation, scratch
from python_env.sandbox.base import Job
from python_env.sandbox.handle import SETTLE_TIMEOUT_S, WorkerFailure, WorkerHandle, build_report
from python_env.sandbox.pool import WorkerPool
from python_env.sandbox.scratch import ScratchRoot
from python_env.sandbox.settler import Settler
from python_env.sandbox.stamps import Stamps
from python_env.sandbox.uids import UidBlock, kill_uid
from python_env.types import ExecReport

log = logging.getLogger("python_env.sandbox")

REPLY_GRACE_S = 15.0  # on top of the job's wall limit: clean-up of what the job left behind
HELLO_TIMEOUT_S = 60.0
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
_instances = itertools.count()


class _Resources:
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

    def release(self) -> None:
        self.drop_workers()
        if self.scratch is not None:
            self.scratch.release()
            self.scratch = None
        if self.uids is not None:
            self.uids.release()
            self.uids = None


class ForkServerExecutor:
    """Warm, isolated execution: ~2 ms per job on 2 cores instead of ~27 ms for a fresh process."""

    name = "forkserver"

    def __init__(
        self,
        pool_size: int = 0,
        tier: str = "auto",
        bwrap: str = "",
        queue_timeout_s: float = 60.0,
        max_queued: int = 4096,
        preload: list[str] | None = None,
        reply_grace_s: float = REPLY_GRACE_S,
        warmup: bool = True,
        hash_seed: int = 0,
        trace: bool = False,
        early_reply: bool | None = None,
    ) -> None:
        # 0: twice the cores. A worker idles between jobs (reply, fork of the next child,
        # dispatch), and a second one per core fills those gaps. Verdicts use CPU time, so
        # sharing a core does not change them.
        self.pool_size = pool_size or 2 * (os.cpu_count() or 1)
        self.requested_tier = isolation.requested_tier(tier)
        self.bwrap_setting = bwrap
        self.preload = preload
        self.reply_grace_s = reply_grace_s
        self.warmup = warmup
        self.hash_seed = hash_seed
        # trace: every job's stage times (``stamps``) kept here, for the benchmarks' breakdown
        self.trace = trace
        # early_reply: answer at the job's last word, clean up after (None: when a worker is
        # spare; the latency then drops, while under a queue the single reply costs less CPU)
        self.early_reply = early_reply
        self.traces: deque[dict[str, int]] = deque(maxlen=100_000)
        self._traced: dict[int, dict[str, int]] = {}  # each slot's last trace, until it settles
        self._pytest_paths, self._pytest_shown = isolation.pytest_files()
        self.tier = ""
        self.tried: dict[str, str] = {}
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        # queue_timeout_s: how long a queued job waits while no worker can make progress.
        self._pool = WorkerPool(self.pool_size, queue_timeout_s, max_queued)
        self._respawn: queue.Queue[int | None] = queue.Queue()
        self._reclaim: list[str] = []  # slot dirs of retired workers, removed by the supervisor
        self._unreclaimed: dict[str, str] = {}
        self._generations = itertools.count(1)
        self._ids = itertools.count(1)
        self._closed = False
        self._hello: dict[str, Any] = {}
        try:
            self._settler = Settler(self._settled, self._settle_failed, SETTLE_TIMEOUT_S)
            self._start()
        except BaseException:
            self._res.release()
            raise
        self._supervisor = threading.Thread(
            target=self._supervise, name="sandbox-supervisor", daemon=True
        )
        self._supervisor.start()

    # -- start-up --------------------------------------------------------------------------
    def _start(self) -> None:
        cgroups.remove_stale()
        scratch.remove_stale()
        res = self._res
        spare_uids = os.geteuid() == 0  # only root can switch jobs to a spare uid
        res.scratch = scratch.ScratchRoot(spare_uids)
        if spare_uids:
            res.uids = UidBlock.claim(self.pool_size)
        for tier in isolation.candidate_tiers(self.requested_tier):
            try:
                self._start_tier(tier)
            except (SandboxError, OSError) as exc:
                self.tried[tier] = str(exc)
                log.warning("sandbox tier %r unavailable: %s", tier, exc)
                res.drop_workers(graceful=False)
                continue
            self.tier = tier
            self._log_layers()
            return
        raise SandboxError(
            f"no sandbox tier could start: {self.tried}. Fix: install bubblewrap "
            "(apt-get install bubblewrap) or allow another tier (PYTHON_ENV_SANDBOX_TIER=auto); "
            "for local experiments only, PYTHON_ENV_EXECUTOR=subprocess runs jobs UNISOLATED"
        )

    def _start_tier(self, tier: str) -> None:
        self._tier_try = tier
        bwrap, why = isolation.bwrap_binary(self.bwrap_setting)
        if tier == "bwrap" and bwrap is None:
            raise SandboxError(why)
        self._bwrap = bwrap if tier == "bwrap" else None
        self._bwrap_missing = why or f"not used by tier {tier!r}"
        self._slots: list[cgroups.SlotCgroup] = []
        if "cgroup" in isolation.MECHANISMS[tier]:
            instance = f"{os.getpid()}-{next(_instances)}-{os.urandom(3).hex()}"
            self._slots = cgroups.create_slots(instance, self.pool_size)
            self._res.cgroup_instance = instance if self._slots else ""
        started = self._spawn(list(range(self.pool_size)))
        for worker in started:
            self._pool.add(worker)
        self._hello = started[0].hello

    def _spawn(self, slots: list[int]) -> list[WorkerHandle]:
        """Start workers and wait until each has passed its self-test."""
        self._scratch().check()  # before each start: a retired worker's job may have run last
        with socket.socket() as listener:  # the self-test must fail to reach this from a job
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            self._probe_port = listener.getsockname()[1]
            started = [self._launch(slot) for slot in slots]
            for worker in started:
                self._await_hello(worker)
        return started

    def _launch(self, slot: int) -> WorkerHandle:
        res = self._res
        generation = next(self._generations)
        slot_dir = os.path.join(self.scratch_root, f"slot-{slot}-{generation}")
        os.mkdir(slot_dir, 0o755)
        cgroup = dataclasses.asdict(self._slots[slot]) if self._slots else None
        code_dir = os.path.join(self.scratch_root, "code")
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "tier": self._tier_try,
            "mechanisms": list(isolation.MECHANISMS[self._tier_try]),
            "outer": "bwrap" if self._bwrap else None,
            "bwrap_missing": self._bwrap_missing,
            "slot_dir": slot_dir,
            "scratch_root": self.scratch_root,
            "cgroup": cgroup,
            "uid": res.uids.uid(slot) if res.uids else None,
            "deny": isolation.denied_paths(),
            "canaries": isolation.canaries(),
            "probe_port": self._probe_port,
            "ctrl_fd": child_end.fileno(),
            "preload": self.preload,
            "warmup": self.warmup,
            "trace": self.trace,
            "pytest_paths": self._pytest_paths,
            "pytest_shown": self._pytest_shown,
        }
        script = str(isolation.SANDBOX_DIR / "worker.py")
        # Not -I: it implies -E, which ignores PYTHONHASHSEED (every worker would hash with its
        # own random seed). -P -s -S with the built environment isolate as much.
        command = [isolation.python_executable(), "-P", "-s", "-S", "-B"]
        if self._bwrap:
            dirs = [d for d in (cgroup or {}).values() if isinstance(d, str) and d]
            wrap = isolation.bwrap_command(
                self._bwrap, self.scratch_root, slot_dir, code_dir, dirs, self._pytest_shown
            )
            command = wrap + command
            script = os.path.join(code_dir, "worker.py")
        with open(os.path.join(self.scratch_root, f"worker-{slot}.log"), "ab") as errors:
            proc = subprocess.Popen(
                [*command, script, json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env={**WORKER_ENV, "PYTHONHASHSEED": str(self.hash_seed)},
                pass_fds=(child_end.fileno(),),
                start_new_session=True,
            )
        child_end.close()
        worker = WorkerHandle(slot, generation, slot_dir, proc, parent_end, self.reply_grace_s)
        res.workers[slot] = worker
        return worker

    def _await_hello(self, worker: WorkerHandle) -> None:
        worker.sock.settimeout(HELLO_TIMEOUT_S)
        try:
            data = worker.sock.recv(1 << 20)
        except OSError as exc:
            data = b""
            log.debug("no hello from worker %d: %s", worker.slot, exc)
        hello = json.loads(data).get("hello", {}) if data else {}
        if not hello.get("ok"):
            worker.kill()
            self._reclaim.append(worker.slot_dir)
            detail = hello.get("error") or self._worker_log(worker.slot) or "no hello"
            raise SandboxError(f"sandbox worker {worker.slot} failed to start: {detail}")
        worker.hello = hello

    def _worker_log(self, slot: int) -> str:
        path = os.path.join(self.scratch_root, f"worker-{slot}.log")
        with contextlib.suppress(OSError), open(path, errors="replace") as f:
            return f.read()[-2000:].strip()
        return ""

    def _log_layers(self) -> None:
        info = self.describe()
        log.info("sandbox tier %s, %d workers, layers: %s", self.tier, self.pool_size,
                 ", ".join(info["layers"]))  # fmt: skip
        for layer, why in sorted(info["missing_reasons"].items()):
            chosen = why.startswith(("disabled by tier", "not used by tier"))
            level = logging.INFO if chosen else logging.WARNING  # unavailable, not a choice
            log.log(level, "sandbox layer %s is missing: %s", layer, why)
        for category in info["unprotected"]:
            log.error("sandbox runs WITHOUT %s isolation: no layer for it on this host", category)

    # -- the pool --------------------------------------------------------------------------
    def run(self, job: Job) -> ExecReport:
        """Run one job in a confined child; thread-safe; raises only for executor faults."""
        last: WorkerFailure | None = None
        mark = Stamps(self.trace)
        mark("c_call")
        self._check_space(job)
        hold_s = job.limits.wall_seconds + self.reply_grace_s
        for _attempt in range(2):
            worker = self._acquire(hold_s)
            mark("c_acquired")
            early = self.early_reply if self.early_reply is not None else self._pool.spare()
            try:
                outputs, notice = worker.execute(job, next(self._ids), mark, early)
            except WorkerFailure as exc:
                log.warning("sandbox worker failed, retrying the job: %s", exc)
                last = exc
                self._retire(worker, str(exc))
                continue
            except BaseException as exc:
                self._retire(worker, repr(exc))
                raise
            trace = {**outputs.reply.get("trace", {}), **mark.marks} if mark.on else None
            if notice is None:  # the worker still cleans up: back once its notice is read
                if trace is not None:
                    self._traced[worker.slot] = trace  # the settler adds the later stages
                self._pool.settling(worker, SETTLE_TIMEOUT_S)
                self._settler.add(worker)
            else:  # before the (GIL-bound) parsing below
                self._after_clean_up(worker, notice)
            report = build_report(outputs, job.limits)
            if trace is not None:
                mark("c_parsed")
                trace.update(mark.marks)
                self.traces.append(trace)
            return report
        raise SandboxError(f"the sandbox failed twice for this job: {last}")

    def _check_space(self, job: Job) -> None:
        # A job that cannot write its files would fail its tests for the host's fault, not
        # the candidate's: no verdict then, an executor fault.
        need = job.limits.file_size_mb * 1024 * 1024
        try:
            stat = os.statvfs(self.scratch_root)
        except OSError as exc:
            raise SandboxError(f"the sandbox scratch area is unreadable: {exc}") from exc
        free = stat.f_bavail * stat.f_frsize
        if free < need:
            raise SandboxError(
                f"the sandbox scratch area {self.scratch_root} has {free} bytes free, less "
                f"than one job may write ({job.limits.file_size_mb} MiB): free space there"
            )

    async def run_async(self, job: Job) -> ExecReport:
        """run() in a thread, for callers on an event loop."""
        return await asyncio.to_thread(self.run, job)

    def _acquire(self, hold_s: float) -> WorkerHandle:
        """The next live worker: one that died while idle is retired without costing a retry."""
        while True:
            worker: WorkerHandle = self._pool.acquire(hold_s)
            if worker.alive():
                return worker
            self._retire(worker, "the worker died while idle")

    def _settled(self, worker: WorkerHandle, notice: dict[str, Any]) -> None:
        """The settler read the worker's clean-up notice, sent after its early answer."""
        if "trace" in notice:  # the stages after the reply, for the benchmarks' breakdown
            self._traced.pop(worker.slot, {}).update(notice["trace"])
        self._after_clean_up(worker, notice)

    def _after_clean_up(self, worker: WorkerHandle, notice: dict[str, Any]) -> None:
        """Back to the pool, or retired if the worker could not restore its slot."""
        if notice["tainted"]:
            self._settle_failed(worker, notice["why"] or "tainted")
        else:
            self._pool.release(worker)

    def _settle_failed(self, worker: WorkerHandle, problem: str) -> None:
        """The worker could not restore its slot after a job (whose verdict stands): retired in
        a thread of its own, as killing it and what it left can take seconds, and the settler
        must go on reading the other workers' notices."""
        log.warning("retiring sandbox worker %d: %s", worker.slot, problem)
        self._traced.pop(worker.slot, None)  # no later stages will come for that trace
        threading.Thread(
            target=self._retire, args=(worker, problem), name="sandbox-retire", daemon=True
        ).start()

    def _retire(self, worker: WorkerHandle, problem: str) -> None:
        """Kill a worker and whatever its jobs left, and have it replaced in a fresh slot."""
        worker.kill()
        if self._slots:
            self._slots[worker.slot].kill_all(reap=False, timeout_s=2.0)
        if self._res.uids is not None:  # leftovers of its jobs, before a new worker takes the uid
            kill_uid(self._res.uids.uid(worker.slot))
        if self._res.workers.get(worker.slot) is worker:
            del self._res.workers[worker.slot]
        self._pool.retire(worker, problem)
        self._reclaim.append(worker.slot_dir)
        if not self._closed:
            self._respawn.put(worker.slot)

    def _supervise(self) -> None:
        """Replace retired workers in the background; back off while spawning keeps failing."""
        delay = 0.5
        while (slot := self._respawn.get()) is not None:
            if self._closed:
                return
            self._reclaim_slot_dirs()
            try:
                (worker,) = self._spawn([slot])
            except (SandboxError, OSError) as exc:
                log.error("cannot replace sandbox worker %d: %s", slot, exc)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                self._respawn.put(slot)
                continue
            delay = 0.5
            if self._closed:  # close() ran while this one was starting
                worker.stop()
                return
            self._pool.add(worker)

    def _reclaim_slot_dirs(self) -> None:
        """Remove the slot dirs of retired workers; one that cannot be removed is reported."""
        while self._reclaim:
            path = self._reclaim.pop()
            try:
                fstree.remove_tree(path)
            except OSError as exc:
                log.error("cannot reclaim sandbox slot %s: %s", path, exc)
                self._unreclaimed[path] = str(exc)

    @property
    def scratch_root(self) -> str:
        """The executor's directory under TMPDIR: the workers' slots and logs."""
        return self._scratch().path

    def _scratch(self) -> ScratchRoot:
        if self._res.scratch is None:  # a replacement started while close() released it
            raise SandboxError("the executor is closed")
        return self._res.scratch

    def worker_pids(self) -> list[int]:
        """PIDs of the worker processes (or of their bwrap wrappers), for health checks."""
        return [w.proc.pid for w in list(self._res.workers.values())]

    def health(self) -> dict[str, Any]:
        """Live workers, queue depth, retired slots; ``serving`` is False when it cannot serve."""
        pool = self._pool.snapshot()
        pids = {w.slot: w.proc.pid for w in list(self._res.workers.values())}
        for record in pool.get("workers", ()):
            record["pid"] = pids.get(record["slot"])  # the process group an operator can signal
        pool["unreclaimed_slot_dirs"] = dict(self._unreclaimed)
        return pool

    def describe(self) -> dict[str, Any]:
        """The tier, its active and missing layers (with reasons) and the self-test's checks."""
        hello = self._hello
        missing = dict(hello.get("missing", {}))
        return {
            "executor": self.name,
            "tier": self.tier,
            "requested_tier": self.requested_tier,
            "tiers_unavailable": dict(self.tried),
            "pool_size": self.pool_size,
            "layers": list(hello.get("layers", [])),
            "missing": sorted(missing),
            "missing_reasons": missing,
            "categories": hello.get("categories", {}),
            "unprotected": hello.get("unprotected", []),
            "landlock_abi": hello.get("landlock_abi", 0),
            "selftest": hello.get("selftest", {}),
            "preload_failed": hello.get("preload_failed", []),
            "pytest": hello.get("pytest", "unknown"),
            "fork": hello.get("fork", "unknown"),
            "interpreter_exposed": hello.get("interpreter_exposed", ""),
        }

    def close(self) -> None:
        """Stop every worker and remove the scratch directory, cgroups and uid lock."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()
        self._settler.close()
        self._respawn.put(None)
        self._supervisor.join(timeout=5)
        self._finalizer()
