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
import itertools
import logging
import os
import queue
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from python_env.errors import SandboxError
from python_env.sandbox import cgroups, fstree, isolation, scratch
from python_env.sandbox.base import Job
from python_env.sandbox.handle import (
    SETTLE_TIMEOUT_S,
    Outputs,
    WorkerFailure,
    WorkerHandle,
    build_report,
)
from python_env.sandbox.launch import Resources, TierSetup, WorkerOptions
from python_env.sandbox.pool import WorkerPool
from python_env.sandbox.settler import Settler
from python_env.sandbox.stamps import Stamps
from python_env.sandbox.uids import UidBlock, kill_uid
from python_env.types import ExecReport

log = logging.getLogger("python_env.sandbox")

REPLY_GRACE_S = 15.0  # on top of the job's wall limit: clean-up of what the job left behind
# A result channel larger than this (a test returned a large value) is parsed in a thread by
# run_async, so that one job's parsing (up to ~100 ms for 8 MiB) does not hold up the loop.
PARSE_ON_LOOP_MAX = 64 * 1024


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
        pytest_files = isolation.pytest_files()
        self._options = WorkerOptions(
            preload, warmup, trace, hash_seed, reply_grace_s, pytest_files
        )
        # early_reply: answer at the job's last word, clean up after (None: when a worker is
        # spare; the latency then drops, while under a queue the single reply costs less CPU)
        self.early_reply = early_reply
        # trace: every job's stage times (``stamps``) kept here, for the benchmarks' breakdown
        self.traces: deque[dict[str, int]] = deque(maxlen=100_000)
        self._traced: dict[int, dict[str, int]] = {}  # each slot's last trace, until it settles
        self.tier = ""
        self.tried: dict[str, str] = {}
        self._res = Resources()
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
            self._settler = Settler(self._settled, self._retire_later, SETTLE_TIMEOUT_S)
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
        self._setup = TierSetup.prepare(
            tier, self.bwrap_setting, self.pool_size, self._res, self._options
        )
        started = self._spawn(list(range(self.pool_size)))
        for worker in started:
            self._pool.add(worker)
        self._hello = started[0].hello

    def _spawn(self, slots: list[int]) -> list[WorkerHandle]:
        """Start workers and wait until each has passed its self-test."""
        # before each start: a retired worker's job may have run last
        self._res.open_scratch().check()
        with socket.socket() as listener:  # the self-test must fail to reach this from a job
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            port = listener.getsockname()[1]
            started = []
            for slot in slots:
                worker = self._setup.launch(slot, next(self._generations), port)
                self._res.workers[slot] = worker
                started.append(worker)
            for worker in started:
                self._await_hello(worker)
        return started

    def _await_hello(self, worker: WorkerHandle) -> None:
        if not self._setup.await_hello(worker):
            worker.kill()
            self._reclaim.append(worker.slot_dir)
            why = self._setup.why_not_started(worker)
            raise SandboxError(f"sandbox worker {worker.slot} failed to start: {why}")

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
        mark, failures = self._begin(job), list[WorkerFailure]()
        while True:
            worker = self._acquire(job.limits.wall_seconds + self._options.grace_s)
            with self._attempt(worker, mark, failures, self._retire):
                outputs, notice = worker.execute(job, next(self._ids), mark, *self._dispatch())
                break
        trace = self._hand_back(worker, outputs, notice, mark)
        return self._traced_report(build_report(outputs, job.limits), trace, mark)

    async def run_async(self, job: Job) -> ExecReport:
        """``run`` for a coroutine: it queues and waits on its event loop, not in a thread.
        Cancelled while its job runs, it retires the worker (whose state it no longer knows)."""
        mark, failures = self._begin(job), list[WorkerFailure]()
        while True:
            worker = await self._acquire_async(job.limits.wall_seconds + self._options.grace_s)
            with self._attempt(worker, mark, failures, self._retire_later):
                answer = await worker.execute_async(job, next(self._ids), mark, *self._dispatch())
                break
        outputs, notice = answer
        trace = self._hand_back(worker, outputs, notice, mark)  # here: a cancel cannot skip it
        if len(outputs.results) > PARSE_ON_LOOP_MAX:  # ms of parsing: the loop gets turns
            report = await asyncio.to_thread(build_report, outputs, job.limits)
        else:
            report = build_report(outputs, job.limits)
        return self._traced_report(report, trace, mark)

    @contextlib.contextmanager
    def _attempt(
        self,
        worker: WorkerHandle,
        mark: Stamps,
        failures: list[WorkerFailure],
        retire: Callable[[WorkerHandle, str], None],
    ) -> Iterator[None]:
        """One try of a job on ``worker``: a worker that fails is retired (with ``retire``) and
        the job tried once more elsewhere; anything else retires it and propagates."""
        mark("c_acquired")
        try:
            yield
        except WorkerFailure as exc:
            failures.append(exc)
            if len(failures) < 2:
                log.warning("sandbox worker failed, retrying the job: %s", exc)
            retire(worker, str(exc))
            if len(failures) == 2:
                raise SandboxError(f"the sandbox failed twice for this job: {exc}") from exc
        except BaseException as exc:
            retire(worker, repr(exc))
            raise

    def _begin(self, job: Job) -> Stamps:
        mark = Stamps(self._options.trace)
        mark("c_call")
        self._check_space(job)
        return mark

    def _dispatch(self) -> tuple[bool, bool]:
        """(early, queued): the worker answers at the job's last word when a worker is spare,
        and its next standby skips the idle warm-up while other jobs wait for a worker."""
        spare, queued = self._pool.outlook()
        return (spare if self.early_reply is None else self.early_reply), queued

    def _hand_back(
        self, worker: WorkerHandle, outputs: Outputs, notice: dict[str, Any] | None, mark: Stamps
    ) -> dict[str, int] | None:
        """The worker answered: to the settler, or back to the pool; the job's trace so far."""
        trace = {**outputs.reply.get("trace", {}), **mark.marks} if mark.on else None
        if notice is None:  # the worker still cleans up: back once its notice is read
            if trace is not None:
                self._traced[worker.slot] = trace  # the settler adds the later stages
            self._pool.settling(worker, SETTLE_TIMEOUT_S)
            self._settler.add(worker)
        else:  # before the (GIL-bound) parsing of the report
            self._after_clean_up(worker, notice)
        return trace

    def _traced_report(
        self, report: ExecReport, trace: dict[str, int] | None, mark: Stamps
    ) -> ExecReport:
        if trace is not None:
            mark("c_parsed")
            trace.update(mark.marks)
            self.traces.append(trace)
        return report

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

    def _acquire(self, hold_s: float) -> WorkerHandle:
        """The next live worker: one that died while idle is retired without costing a retry."""
        while True:
            worker: WorkerHandle = self._pool.acquire(hold_s)
            if worker.alive():
                return worker
            self._retire(worker, "the worker died while idle")

    async def _acquire_async(self, hold_s: float) -> WorkerHandle:
        while True:
            worker: WorkerHandle = await self._pool.acquire_async(hold_s)
            if worker.alive():
                return worker
            self._retire_later(worker, "the worker died while idle")

    def _settled(self, worker: WorkerHandle, notice: dict[str, Any]) -> None:
        """The settler read the worker's clean-up notice, sent after its early answer."""
        if "trace" in notice:  # the stages after the reply, for the benchmarks' breakdown
            self._traced.pop(worker.slot, {}).update(notice["trace"])
        self._after_clean_up(worker, notice)

    def _after_clean_up(self, worker: WorkerHandle, notice: dict[str, Any]) -> None:
        """Back to the pool, or retired if the worker could not restore its slot."""
        if notice["tainted"]:
            self._retire_later(worker, notice["why"] or "tainted")
        else:
            self._pool.release(worker)

    def _retire_later(self, worker: WorkerHandle, problem: str) -> None:
        """``_retire`` in a thread of its own, as killing a worker and what it left can take
        seconds: for the settler (a slot not restored after a job whose verdict stands), which
        must go on reading the other workers' notices, and for an event loop."""
        log.warning("retiring sandbox worker %d: %s", worker.slot, problem)
        self._traced.pop(worker.slot, None)  # no later stages will come for that trace
        threading.Thread(
            target=self._retire, args=(worker, problem), name="sandbox-retire", daemon=True
        ).start()

    def _retire(self, worker: WorkerHandle, problem: str) -> None:
        """Kill a worker and whatever its jobs left, and have it replaced in a fresh slot."""
        worker.kill()
        if self._setup.slots:
            self._setup.slots[worker.slot].kill_all(reap=False, timeout_s=2.0)
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
        return self._res.open_scratch().path

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
