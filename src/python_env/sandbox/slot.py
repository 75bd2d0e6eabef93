"""A worker's slot between jobs: kill what a job left, empty its directory, check the worker.

Standard library only (the sandbox worker loads it by path, after ``probes``, ``fstree`` and
``uids``). A job runs in ``<slot>/job``; whatever it changes there, or in the worker's limits,
priority or CPU set, is undone or found here before the next job, and a slot that cannot be
put back retires its worker.
"""

from __future__ import annotations

import os
import resource
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING or __package__:
    from python_env.sandbox import fstree, probes, uids
    from python_env.sandbox.confine import Plan
else:  # loaded by file path in the sandbox worker, after these siblings (see worker.py)
    fstree, probes, uids = (sys.modules[f"pyenv_sandbox_{n}"] for n in ("fstree", "probes", "uids"))

_RLIMITS = sorted({getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")})


def process_state() -> tuple[object, ...]:
    """What a forked job inherits from its worker beyond memory: limits, priority, CPUs."""
    return (
        tuple(resource.getrlimit(limit) for limit in _RLIMITS),
        os.getpriority(os.PRIO_PROCESS, 0),
        tuple(sorted(os.sched_getaffinity(0))),
        os.sched_getscheduler(0),
    )


class Slot:
    """The job directory of one worker, and what every job must find as the first one did."""

    def __init__(self, slot_dir: str, jobdir: str, scratch_root: str, plan: Plan) -> None:
        self.slot_dir = slot_dir
        self.jobdir = jobdir
        self.plan = plan
        self._baseline = process_state()
        self._dirs = {p: _identity(os.lstat(p)) for p in (scratch_root, slot_dir)}
        self._pristine: os.stat_result | None = None

    def restore(self) -> tuple[int, list[str]]:
        """After a job: kill what it left, empty the slot, check the worker is as it started.

        Returns how many processes were left and the problems found; any problem (or any
        exception, whatever the job built) retires the worker instead of serving another job.
        """
        try:
            leaked, clean = self.cleanup()
            problems = [] if clean else ["processes of the job survived clean-up"]
            self.reset_jobdir()
        except BaseException as exc:
            return 0, [f"clean-up failed: {type(exc).__name__}: {exc}"[:500]]
        if process_state() != self._baseline:
            problems.append("the worker's limits, priority or CPU set changed")
        for path, identity in self._dirs.items():
            try:
                if _identity(os.lstat(path)) != identity:
                    problems.append(f"{path} changed owner, mode or identity")
            except OSError as exc:
                problems.append(f"{path}: {exc}")
        return leaked, problems

    def cleanup(self) -> tuple[int, bool]:
        """Kill everything the job left behind; (how many were left, whether all are gone)."""
        if not probes.has_children():
            # The usual case. We are a subreaper: any process the job left alive is our child
            # or below one, so having no child at all means nothing is left (cgroup included).
            return 0, True
        leaked = probes.kill_descendants()
        if self.plan.cgroup is not None:
            leaked += len(self.plan.cgroup.members())
            self.plan.cgroup.kill_all()
        if self.plan.uid is not None:
            uids.kill_uid(self.plan.uid)
        leaked += probes.kill_descendants()
        clean = probes.wait_no_children(timeout_s=5.0)
        if self.plan.cgroup is not None:
            clean = clean and not self.plan.cgroup.members()
        return leaked, clean

    def reset_jobdir(self) -> None:
        """Empty the slot (never following links the job planted) and make a fresh job dir."""
        if self._jobdir_untouched():
            return
        fstree.empty_dir(self.slot_dir, keep=("dev",) if self.plan.chroot else ())
        os.mkdir(self.jobdir, 0o700)
        if self.plan.uid is not None:
            os.chown(self.jobdir, self.plan.uid, self.plan.uid)
        self._pristine = os.lstat(self.jobdir)

    def _jobdir_untouched(self) -> bool:
        """True when the last job left the slot exactly as it was made (the usual case)."""
        pristine = self._pristine
        try:
            now = os.lstat(self.jobdir)
            expected = ["dev", "job"] if self.plan.chroot else ["job"]
            unchanged = sorted(os.listdir(self.slot_dir)) == expected
            unchanged = unchanged and not os.listdir(self.jobdir)
        except OSError:
            return False
        return unchanged and pristine is not None and _identity(now) == _identity(pristine)


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_ino, st.st_dev, st.st_mode, st.st_uid, st.st_gid)
