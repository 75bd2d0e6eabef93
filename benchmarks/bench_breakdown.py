"""Where a graded step's time goes, stage by stage (issue 18's breakdown).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_breakdown.py [--tier auto] [--runs 300]

Runs the sandbox with tracing on (``ForkServerExecutor(trace=True)``: the caller, the worker and
the job's child note ``CLOCK_MONOTONIC`` as a job passes each stage) and prints, for a trivial
job and for a graded run of a typical task, the median and p95 of every stage on the critical
path, then the confinement layers each standby child applies before its job arrives (off the
critical path while a worker waits for work), then the server's own stages of one graded
``run_tests`` step, played in-process the way OpenEnv's ``/ws`` handler plays it (frame parse,
action validation, environment step, observation serialisation), each timed around the real
functions. The fork+exit floor and the load average come from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench_sandbox import TRIVIAL, fork_floor_ms, throughput, typical_task
from openenv.core.env_server.serialization import deserialize_action, serialize_observation
from openenv.core.env_server.types import WSObservationResponse, WSStepMessage

from python_env.environment import env as env_module
from python_env.environment import task_runner
from python_env.environment.baselines import Baselines
from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction
from python_env.sandbox import ForkServerExecutor, Job
from python_env.tasks.catalog import default_catalog
from python_env.types import Limits, Suite

# What the worker does after its reply, while the caller reads the outcome.
AFTER_REPLY = [
    ("w_reply", "w_reaped", "the child's exit (address space torn down), wait4"),
    ("w_reaped", "w_restored", "slot restored, state checked, OOM count"),
]
# (from, to, what happens in between), in the order a job meets them.
CRITICAL_PATH = [
    ("c_call", "c_acquired", "caller: waits for an idle worker"),
    ("c_acquired", "c_payload", "caller: encodes the job into memfds"),
    ("c_payload", "w_recv", "hand-off (sendmsg, 4 fds); worker wakes"),
    ("w_recv", "w_cgroup", "worker: decodes, writes cgroup limits"),
    ("w_cgroup", "w_taken", "worker: checks its standby child is alive"),
    ("w_taken", "s_job", "hand-off to the standby; it wakes"),
    ("s_job", "s_payload", "child: reads the job's memfd"),
    ("s_payload", "s_entered", "child: stdio and rlimits (enter_job)"),
    ("s_entered", "s_done", "child: harness: imports, tests, results"),
    ("s_done", "w_done", "child's last word reaches the worker"),
    ("w_done", "w_reply", "worker: kills the group, counts OOM, replies"),
    ("w_reply", "c_replied", "reply reaches the caller"),
    ("c_replied", "c_read", "caller: reads the output memfds"),
    ("c_read", "c_parsed", "caller: validates results (ExecReport)"),
]
STANDBY = [  # stages a standby child goes through while the worker waits for work
    ("s_fork", "s_forked", "worker: fork()"),
    ("s_forked", "s_child", "child first runs"),
    ("s_child", "l_setsid", "setsid (own process group)"),
    ("l_setsid", "l_nproc_count", "tasks of its uid counted (no pids cgroup)"),
    ("*", "l_cgroup", "joins the slot cgroup"),
    ("*", "l_fds", "stdio to /dev/null, inherited fds closed"),
    ("*", "l_chroot", "chdir (+ chroot on that tier)"),
    ("*", "l_no_new_privs", "no_new_privs"),
    ("*", "l_landlock", "Landlock ruleset (built once per worker)"),
    ("*", "l_uid", "spare uid (setgroups, setresgid, setresuid)"),
    ("*", "l_capabilities", "capabilities dropped (seccomp: inherited)"),
    ("*", "s_warmed", "2 ms idle wait, then the warm-up job"),
]
LAYER_ORDER = ["s_child", *(to for _, to, _ in STANDBY[2:])]


def quantiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.95) - 1)]


def print_stages(title: str, traces: list[dict[str, int]]) -> None:
    """Median and p95 of each stage of the critical path, then of the standby's layers."""
    print(f"\n{title}: {len(traces)} jobs")
    print(f"  {'stage':46}{'median us':>11}{'p95 us':>10}")
    total = 0.0
    for start, end, what in CRITICAL_PATH:
        spans = [(t[end] - t[start]) / 1000 for t in traces if start in t and end in t]
        if spans:
            median, p95 = quantiles(spans)
            total += median
            print(f"  {what:46}{median:11.0f}{p95:10.0f}")
    whole = quantiles([(t["c_parsed"] - t["c_call"]) / 1000 for t in traces])
    print(f"  {'sum of stage medians / whole job':46}{total:11.0f}{whole[0]:10.0f} (median)")
    print(f"  {'after the reply, off the critical path':46}{'median us':>11}{'p95 us':>10}")
    for start, end, what in AFTER_REPLY:  # jobs answered early (a worker was spare)
        early = [t for t in traces if t.get("w_reaped", 0) > t.get("w_reply", 0)]
        spans = [(t[end] - t[start]) / 1000 for t in early if start in t and end in t]
        if spans:
            median, p95 = quantiles(spans)
            print(f"  {what:46}{median:11.0f}{p95:10.0f}")
    print(f"  {'standby child, before its job':46}{'median us':>11}{'p95 us':>10}{'jobs':>7}")
    for start, end, what in STANDBY:
        spans = []
        for trace in traces:
            if end not in trace:
                continue
            if start == "*":  # the layer before it that this tier applies
                before = LAYER_ORDER[: LAYER_ORDER.index(end)]
                start_at = max((trace[k] for k in before if k in trace), default=None)
            else:
                start_at = trace.get(start)
            if start_at is not None:
                spans.append((trace[end] - start_at) / 1000)
        if spans:
            median, p95 = quantiles(spans)
            print(f"  {what:46}{median:11.0f}{p95:10.0f}{len(spans):7}")


def traced_jobs(
    executor: ForkServerExecutor, run: Callable[[], object], jobs: int, callers: int
) -> list[dict[str, int]]:
    for _ in range(20):  # warm-up
        run()
    executor.traces.clear()
    throughput(run, callers, jobs)
    return list(executor.traces)


class Timers:
    """Wall time spent in named functions of the server, wrapped in place for this run."""

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent.setdefault(name, []).append((time.perf_counter_ns() - started) / 1000)

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        started = time.perf_counter_ns()
        yield
        self.spent.setdefault(name, []).append((time.perf_counter_ns() - started) / 1000)

    def undo(self) -> None:
        for undo in reversed(self._undo):
            undo()


def server_stages(executor: ForkServerExecutor, task_id: str, steps: int) -> None:
    """One graded ``run_tests`` step as OpenEnv's /ws handler runs it, stage by stage."""
    timers = Timers()
    runner = task_runner.TaskRunner(executor, Limits())
    env = PythonEnvironment(default_catalog(), runner)
    env.reset(task_id=task_id)
    frame = json.dumps({"type": "step", "data": {"kind": "run_tests"}})
    timers.wrap(task_runner.TaskRunner, "prepare", "grader: reference runs looked up (cached)")
    timers.wrap(Job, "of", "job built (Job.of)")
    timers.wrap(executor, "run", "sandbox run (executor.run, stages above)")
    timers.wrap(Baselines, "grade", "grader: verdicts against the reference")
    timers.wrap(task_runner, "repair_score", "grader: score")
    timers.wrap(PythonEnvironment, "_observe", "observation built")
    timers.wrap(PythonEnvironment, "_apply_rubric", "reward (rubric)")
    try:
        for step in range(steps + 20):
            if step == 20:
                timers.spent.clear()
                executor.traces.clear()
            if env.state.done or env.state.step_count > 40:
                env.reset(task_id=task_id)
            with timers.span("whole step, as the /ws handler does it"):
                with timers.span("frame parsed (json.loads)"):
                    message = json.loads(frame)
                with timers.span("action validated (WSStepMessage, deserialize_action)"):
                    action = deserialize_action(WSStepMessage(**message).data, CodeReviewAction)
                with timers.span("environment step (env.step)"):
                    observation = env.step(action)
                with timers.span("observation serialised (model + JSON)"):
                    WSObservationResponse(data=serialize_observation(observation)).model_dump_json()
    finally:
        timers.undo()
    print(f"\nserver, one graded run_tests step on {task_id}, in-process: {steps} steps")
    print(f"  {'stage':56}{'median us':>11}{'p95 us':>10}")
    for name, spans in timers.spent.items():
        median, p95 = quantiles(spans)
        print(f"  {name:56}{median:11.0f}{p95:10.0f}")
    assert env_module  # the module whose functions were timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="auto", help="auto, bwrap, native or fallback")
    parser.add_argument("--workers", type=int, default=0, help="pool size (0: 2 x cores)")
    parser.add_argument("--split", default="test", help="the typical task's split")
    parser.add_argument("--task", default=None, help="task id (default: the split's median task)")
    parser.add_argument("--runs", type=int, default=300, help="jobs per table")
    args = parser.parse_args()

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"fork+exit of a preloaded interpreter: {fork_floor_ms():.2f} ms median")
    task = typical_task(args.task, args.split)
    executor = ForkServerExecutor(tier=args.tier, pool_size=args.workers, trace=True)
    try:
        info = executor.describe()
        print(f"tier {info['tier']}, {info['pool_size']} workers, {len(info['layers'])} layers: "
              f"{', '.join(info['layers'])}")  # fmt: skip
        graded = Job.of(task, Suite.HIDDEN, task.code, Limits())
        for callers in (1, 16):
            for label, job in (("trivial job", TRIVIAL), (f"graded run of {task.id}", graded)):
                traces = traced_jobs(executor, lambda j=job: executor.run(j), args.runs, callers)
                print_stages(f"{label}, {callers} caller(s)", traces)
        server_stages(executor, task.id, args.runs)
    finally:
        executor.close()
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
