"""The warm sandbox worker: preloads the stdlib once, then forks one confined child per job.

Run as ``python -P -s -S -B worker.py CONFIG_JSON`` (optionally inside bubblewrap); standard
library only, so it never loads python_env, pydantic or the server. Protocol on the inherited
SOCK_SEQPACKET fd:

    worker -> parent   {"hello": ...layers...}              once, after start-up probes
    parent -> worker   {"id", "limits", "pytest", "early", "queued"} + 4 fds: payload, stdout,
                       stderr and results memfds
    worker -> parent   {"id", "status", "cpu_ms", ...}      the job's end: its last word or exit
    worker -> parent   {"id", "leaked", "tainted", "why"}   after its clean-up (the notice)

With ``"early": true`` in the request the reply goes out when the job's harness says its last
word (results and streams flushed), and the child's exit (a teardown of an address space forked
from a preloaded interpreter) and the slot's clean-up happen after it, off the caller's path,
ending with the notice. Otherwise one reply, with the notice's fields, follows the clean-up: it
costs less CPU, which is what counts when jobs queue for workers. With ``"queued": true`` (other
jobs were waiting for a worker) the next standby skips its idle warm-up: its job is at hand, and
the warm-up would only cost CPU, or make that job wait for it.

The worker never reads a payload or a result: the child reads the job from its memfd and writes
outcomes to memfds the parent reads, so no job's tests or reference values linger in the memory
that later jobs are forked from.
"""

from __future__ import annotations

import array
import ctypes
import errno
import gc
import importlib.util
import json
import os
import resource
import select
import socket
import sys
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

SETUP_FAILED = 121
WARMUP_AFTER_IDLE_S = 0.002


def _load(name: str) -> ModuleType:
    """Import a sibling module by path: importing python_env.sandbox would pull in pydantic."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"pyenv_sandbox_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from python_env.sandbox import (
        cgroups,
        checks,
        confine,
        forking,
        harness,
        landlock,
        preload,
        probes,
        protocol,
        stamps,
    )
    from python_env.sandbox import slot as slot_mod
    from python_env.sandbox import standby as standby_mod
else:  # order matters: later modules find earlier ones in sys.modules
    checks, protocol, landlock, seccomp, cgroups, confine, harness, stamps = map(
        _load,
        ("checks", "protocol", "landlock", "seccomp", "cgroups", "confine", "harness", "stamps"),
    )
    probes, forking, preload = _load("probes"), _load("forking"), _load("preload")
    for sibling in ("fstree", "uids", "repo_files"):  # what slot.py and pytest_runner.py use
        _load(sibling)
    slot_mod = _load("slot")
    standby_mod = _load("standby")


class Worker:
    """One slot: runs jobs one at a time, each in a freshly forked, confined child.

    The child for the next job is forked and confined right after the previous job is cleaned
    up, while the worker waits for work: a job only pays for the hand-over, not for fork().
    """

    def __init__(self, config: dict[str, Any], ctrl: socket.socket, forker: forking.Forker) -> None:
        self.config = config
        self.ctrl = ctrl
        self.forker = forker
        jobdir = jobdir_of(config)
        self.plan, self.report = probes.build_plan(config, jobdir)
        # What every job must start from; a worker that cannot restore it is retired.
        self.slot = slot_mod.Slot(config["slot_dir"], jobdir, config["scratch_root"], self.plan)
        self._oom_seen = self.plan.cgroup.oom_kills() if self.plan.cgroup is not None else 0
        self._standby: standby_mod.Standby | None = None
        self._ending: standby_mod.Standby | None = None  # the last job's child, until settle_job
        self.tracing = bool(config.get("trace"))
        self._warmup = harness.warmup_payload() if config.get("warmup", True) else b""
        self._queued = False  # jobs were waiting when the last one came: no warm-up then
        self.slot.reset_jobdir()
        self.report["selftest"] = results = self._self_test()
        failed = probes.failed_checks(results, self.report["categories"])
        if failed:
            self.report.update(ok=False, error=f"self-test failed: {', '.join(failed)}")

    def serve(self) -> None:
        self.ctrl.send(json.dumps({"hello": self.report}).encode())
        self._fork_standby()  # from this frame, which holds nothing of any job
        while True:
            try:
                data, ancdata, _, _ = self.ctrl.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
            except ConnectionResetError:
                return
            if not data:
                return  # the parent closed its end (or died): leave
            fds = protocol.received_fds(ancdata)
            mark = stamps.Stamps(self.tracing)
            mark("w_recv")
            request = json.loads(data)
            reply = self.run_job(request, fds, mark)
            if request.get("early"):  # answer now, clean up after, then say so
                self.ctrl.send(json.dumps(reply).encode())
                notice = self.settle_job(reply.get("id"))
                self.ctrl.send(json.dumps(notice).encode())
            else:  # one message once clean: less CPU when jobs queue anyway
                notice = self.settle_job(reply.get("id"))
                if "trace" in reply:  # the clean-up came before this reply
                    reply["trace"].update(notice.pop("trace", {}), w_reply=time.monotonic_ns())
                self.ctrl.send(json.dumps({**notice, **reply}).encode())
            if notice["tainted"]:
                return  # the parent retires a worker that could not restore its slot
            self._queued = bool(request.get("queued"))
            self._fork_standby()

    # -- one job -----------------------------------------------------------------------------
    def run_job(
        self, request: dict[str, Any], fds: list[int], mark: stamps.Stamps | None = None
    ) -> dict[str, Any]:
        mark = mark or stamps.Stamps(False)
        limits = request["limits"]
        if request.get("pytest") and self.report.get("pytest") == PYTEST_LAZY:
            self._load_pytest()
        reply: dict[str, Any] = {"id": request.get("id")}
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            return {**reply, "error": f"expected 4 descriptors, got {len(fds)}"}
        memory = int(limits["memory_mb"]) + 3 * int(limits["file_size_mb"]) + 64  # MiB
        if self.plan.cgroup is not None:
            self.plan.cgroup.configure(int(limits["processes"]), memory * 1024 * 1024)
        mark("w_cgroup")
        standby = self._take_standby()
        mark("w_taken")
        started = time.monotonic()
        try:
            standby.sock.sendmsg(
                [json.dumps(limits).encode()],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))],
            )
        except OSError:
            pass  # it died on the way: its status (and empty ready pipe) will say so
        finally:
            for fd in fds:
                os.close(fd)
        self._ending = standby
        end = self._wait(standby, float(limits["wall_seconds"]), mark, bool(request.get("early")))
        wall_ms = (time.monotonic() - started) * 1000
        os.set_blocking(standby.ready, False)
        try:
            said = os.read(standby.ready, 65536).decode("utf-8", "replace")
        except BlockingIOError:
            said = ""
        ready, *traced = said.split("\n")  # traced: the child's stamps (tracing only)
        setup_cpu_s = float(ready[3:] or 0) if ready.startswith("ok ") else 0.0
        cpu_s, maxrss_kb = end.cpu_s, end.maxrss_kb
        if end.word is not None:  # the job's own figures: the kernel's at least, its limit at most
            cpu_s = max(cpu_s, standby_mod.kernel_cpu_s(standby.pid))
            maxrss_kb = min(maxrss_kb, memory * 1024)
        if self.tracing:
            mark.marks.update(standby.marks, **_child_marks(traced))
            if end.word is not None:
                mark.marks["s_done"] = end.word.ns
        reply = {
            **reply,
            "status": end.status,
            "ready": ready.startswith("ok "),
            "setup_error": "" if ready.startswith("ok ") else ready[:2000] or "no word",
            "timed_out": end.timed_out,
            "cpu_ms": round(max(0.0, cpu_s - setup_cpu_s) * 1000, 3),
            "maxrss_kb": maxrss_kb,
            "wall_ms": round(wall_ms, 3),
            "oom": self._oom_happened(),
        }
        if self.tracing:
            mark("w_reply")
            reply["trace"] = mark.marks
        return reply

    def settle_job(self, job_id: object) -> dict[str, Any]:
        """After the reply: reap the job's child (its exit may still be tearing down memory),
        kill what the job left, restore the slot. The parent reads this notice before it hands
        the worker another job; a tainted worker is retired, the job's verdict stands."""
        mark = stamps.Stamps(self.tracing)
        standby, self._ending = self._ending, None
        if standby is not None:
            if not standby.reaped:
                standby.reap()  # killed at its last word: only its exit is left
            standby.close()
            mark("w_reaped")
        leaked, problems = self.slot.restore()
        if self.plan.cgroup is not None:  # an OOM kill after the last word is no later job's
            self._oom_seen = self.plan.cgroup.oom_kills()
        mark("w_restored")
        notice = {"id": job_id, "leaked": leaked, "tainted": bool(problems)}
        notice["why"] = "; ".join(problems)[:1000]
        if self.tracing:
            notice["trace"] = mark.marks
        return notice

    def _load_pytest(self) -> None:
        """The first pytest-style job: build the pytest session (``prepare_pytest``) and fork
        the standby anew from it. Workers that never see one stay small, and fork faster."""
        standby, self._standby = self._standby, None
        if standby is not None:
            self._discard(standby)
        with self.forker.recording():
            self.report["pytest"] = prepare_pytest(self.config)
        if why := self.forker.why_not():  # slower from now on, not less safe: say so in its log
            print(f"forks go through os.fork from now on: {why}", file=sys.stderr, flush=True)
        gc.freeze()  # as at start-up: children leave the session's objects untouched

    def _take_standby(self) -> standby_mod.Standby:
        standby = self._standby
        self._standby = None
        if standby is not None and not select.select([standby.pidfd], [], [], 0)[0]:
            return standby
        if standby is not None:  # it died while waiting (it should not): start over
            self._discard(standby)
        self._fork_standby()
        assert self._standby is not None
        standby, self._standby = self._standby, None
        return standby

    def _discard(self, standby: standby_mod.Standby) -> None:
        """A standby that will run no job: kill it (a no-op if it died), reap it, clean up."""
        standby.kill()
        standby.reap()
        standby.close()
        self.slot.cleanup()
        self.slot.reset_jobdir()

    def _fork_standby(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ready_r, ready_w = os.pipe()
        done_r, done_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        mark = stamps.Stamps(self.tracing)
        mark("s_fork")
        pid = self.forker.fork()
        if pid == 0:  # pragma: no cover - the job child
            os.close(done_r)
            self._standby_main(theirs.fileno(), ready_w, done_w)
        mark("s_forked")
        theirs.close()
        os.close(ready_w)
        os.close(done_w)
        self._standby = standby_mod.Standby(pid, mine, ready_r, done_r, mark.marks)

    def _standby_main(self, sock_fd: int, ready: int, done: int) -> None:
        """In the child: confine, wait for the job, take its descriptors, run it, exit."""
        mark = stamps.Stamps(self.tracing)
        mark("s_child")
        try:
            confine.prepare(self.plan, keep={sock_fd, ready, done}, mark=mark)
            self.forker.restore_sigint()
            os.set_blocking(done, False)  # a pipe the job filled never holds up its exit
            sock = socket.socket(fileno=sock_fd)
            # Warm up only when idle: on a busy server the next job is already waiting (or
            # queued for a worker), and the warm-up would cost CPU instead of saving latency.
            idle = not select.select([sock], [], [], WARMUP_AFTER_IDLE_S)[0]
            if idle and self._warmup and not self._queued:
                harness.warm_up(self._warmup)
                mark("s_warmed")
            data, ancdata, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
            mark("s_job")
            if not data:
                os._exit(0)  # the worker is shutting down
            payload_fd, *stdio = protocol.received_fds(ancdata)
            sock.close()
            box = [protocol.read_all(payload_fd)]  # emptied by run_harness: no frame keeps it
            os.close(payload_fd)
            mark("s_payload")
            confine.enter_job(self.plan, json.loads(data), stdio)
            mark("s_entered")
            usage = resource.getrusage(resource.RUSAGE_SELF)
            said = f"ok {usage.ru_utime + usage.ru_stime}"
            os.write(ready, (f"{said}\n{json.dumps(mark.marks)}" if mark.on else said).encode())
            os.close(ready)
        except BaseException as exc:  # never run candidate code half-confined
            try:
                os.write(ready, f"setup failed: {type(exc).__name__}: {exc}".encode())
            finally:
                os._exit(SETUP_FAILED)
        try:
            harness.run_harness(box, lambda code: standby_mod.say_last_word(done, code))
        finally:  # it ends in os._exit; a KeyboardInterrupt before its own try must end here too
            os._exit(SETUP_FAILED)

    def _wait(
        self, standby: standby_mod.Standby, wall_s: float, mark: stamps.Stamps, early: bool
    ) -> standby_mod.Ending:
        """Wait for the job's exit (or, ``early``, its last word), with a wall-clock deadline;
        then kill its process group (at the last word, what the job does after it is not part of
        it)."""
        deadline = time.monotonic() + wall_s
        ctrl = self.ctrl.fileno()
        watched = [standby.pidfd, ctrl, standby.done] if early else [standby.pidfd, ctrl]
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select(watched, [], [], remaining)
            if standby.done in ready:  # first: a child that said it, then exited, ends at it
                word = standby.last_word()
                if word is not None:
                    mark("w_done")
                    standby.kill()
                    return standby_mod.Ending(
                        word.code << 8, word.cpu_s, word.maxrss_kb, False, word
                    )
                if standby.deaf:
                    watched.remove(standby.done)
            if standby.pidfd in ready:
                break
            if ctrl in ready:  # the parent never writes during a job: it went away
                standby.kill()
                standby.reap()
                self.slot.cleanup()
                os._exit(0)
        mark("w_exited")
        standby.kill()
        status, cpu_s, maxrss_kb = standby.reap()
        mark("w_reaped")
        return standby_mod.Ending(status, cpu_s, maxrss_kb, timed_out, None)

    def _oom_happened(self) -> bool:
        """Whether the kernel's OOM killer fired in the slot during the last job."""
        if self.plan.cgroup is None:
            return False
        seen, self._oom_seen = self._oom_seen, self.plan.cgroup.oom_kills()
        return self._oom_seen > seen

    def _self_test(self) -> dict[str, Any]:
        """Run the containment checks as a real job, through the very path jobs take."""
        payload = json.dumps({"solution": "", "tests": probes.self_test_source(self.config)})
        fds = [os.memfd_create(name) for name in ("job", "stdout", "stderr", "results")]
        os.write(fds[0], payload.encode())
        os.lseek(fds[0], 0, os.SEEK_SET)
        limits = dict(probes.SELF_TEST_LIMITS)
        reply = self.run_job({"id": 0, "limits": limits}, [os.dup(fd) for fd in fds])
        notice = self.settle_job(0)
        results = os.pread(fds[3], 1 << 20, 0).decode()
        stderr = os.pread(fds[2], 4000, 0).decode("utf-8", "replace")
        for fd in fds:
            os.close(fd)
        if notice["tainted"]:
            return {"error": f"the self-test left the worker changed: {notice['why']}"}
        if not reply.get("ready"):
            return {"error": reply.get("setup_error") or reply.get("error", "setup failed")}
        found: dict[str, Any] = {}
        for line in results.splitlines():
            record = json.loads(line)
            if record.get("t") == "test":
                found[record["name"].removeprefix("test_")] = record.get("value")
            elif record.get("t") == "error":
                found["error"] = record.get("message")
        return found or {"error": f"no self-test results; stderr: {stderr.strip()[-500:]}"}


def _child_marks(traced: list[str]) -> dict[str, int]:
    """The child's stamps (a JSON line); {} when cut short."""
    try:
        return {str(k): int(v) for k, v in json.loads(traced[0]).items()}
    except (IndexError, ValueError, TypeError, AttributeError):
        return {}


PYTEST_LAZY = "on the first pytest-style job"


def prepare_pytest(config: dict[str, Any]) -> str:
    """Import pytest and build the session pytest-style jobs run in, in the worker (never
    confined itself); "ready", or why not (those jobs then report pytest missing)."""
    if not config.get("pytest_paths"):
        return "pytest is not installed"
    sys.path.extend(p for p in config["pytest_paths"] if p not in sys.path)
    os.makedirs(jobdir_of(config), mode=0o700, exist_ok=True)  # as build_plan makes it
    try:
        _load("pytest_runner").prepare(jobdir_of(config))
    except Exception as exc:
        sys.modules.pop("pyenv_sandbox_pytest_runner", None)
        return f"{type(exc).__name__}: {exc}"
    return "ready"


def jobdir_of(config: dict[str, Any]) -> str:
    """The directory every job of this worker runs in (and pytest's rootdir)."""
    return os.path.join(config["slot_dir"], "job")


def main() -> None:
    config = json.loads(sys.argv[1])
    ctrl = socket.socket(fileno=int(config["ctrl_fd"]))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER: orphans of jobs come back here
        raise OSError(ctypes.get_errno(), "PR_SET_CHILD_SUBREAPER failed")
    forker = forking.Forker()
    with forker.recording():
        failed = preload.preload(list(config.get("preload") or preload.PRELOAD))
    sys.path[:] = [p for p in sys.path if p and not p.startswith(config["scratch_root"])]
    gc.collect()
    gc.freeze()  # keeps the collector from touching (and copying) the preloaded objects
    try:
        worker = Worker(config, ctrl, forker)
    except Exception as exc:  # tell the parent why, then exit
        ctrl.send(json.dumps({"hello": {"ok": False, "error": f"{exc!r}"}}).encode())
        raise
    worker.report["preload_failed"] = failed
    worker.report["fork"] = forker.describe()
    worker.report["pytest"] = PYTEST_LAZY if config.get("pytest_paths") else "not installed"
    worker.serve()


if __name__ == "__main__":
    try:
        main()
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
