"""Worker start-up: detect which layers this host allows, decide the plan, verify it works.

Standard library only (runs in the worker). Every mechanism is tried in a throwaway forked child,
because applying one is irreversible; then one child applies the whole plan and checks that the
forbidden things really fail. A layer that does not hold is reported missing, never assumed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from python_env.sandbox import cgroups, confine, landlock, seccomp
else:  # loaded by file path in the sandbox worker, after these siblings (see worker.py)
    landlock, seccomp, cgroups, confine = (
        sys.modules[f"pyenv_sandbox_{n}"] for n in ("landlock", "seccomp", "cgroups", "confine")
    )

EXEC_ROOTS = ["/usr/bin", "/bin", "/usr/local/bin", "/usr/lib", "/usr/lib64", "/lib", "/lib64"]
READ_ROOTS = ["/usr/share/zoneinfo"]
READ_FILES = ["/etc/localtime", "/etc/timezone", "/etc/mime.types", "/etc/ld.so.cache"]
DEVICES = ["/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"]
# Which layers protect what; a category with no active layer is reported as unprotected.
CATEGORIES = {
    "network": ("bwrap", "netns", "seccomp", "landlock-net"),
    "filesystem": ("bwrap", "landlock-fs", "chroot"),
    "processes": ("pids-cgroup", "rlimit-nproc"),
    "signals": ("bwrap", "landlock-scope", "setuid"),
    "memory": ("rlimit-as", "memory-cgroup"),
    # chmod/chown/utime/xattrs on host files: a uid that owns none, a read-only host, or seccomp
    "host-files": ("setuid", "bwrap", "seccomp-metadata"),
    # prlimit/renice/affinity of the worker or the server: seccomp (pid 0 only) or another uid
    "process-limits": ("seccomp", "setuid"),
}
ALWAYS = ["rlimit-as", "rlimit-cpu", "rlimit-fsize", "rlimit-nofile", "new-session",
          "wall-clock-kill", "clean-env", "closed-fds", "output-cap", "subreaper"]  # fmt: skip
# Self-test check -> the category whose layers must make it fail.
_CHECKS = {"read_canaries": "filesystem", "write_outside": "filesystem",
           "tcp_connect": "network", "signal_worker": "signals",
           "chmod_outside": "host-files", "limit_worker": "process-limits"}  # fmt: skip
SELF_TEST_LIMITS = {"cpu_seconds": 5, "memory_mb": 512, "file_size_mb": 1, "open_files": 64,
                     "processes": 8, "wall_seconds": 10}  # fmt: skip


def build_plan(config: dict[str, Any], jobdir: str) -> tuple[confine.Plan, dict[str, Any]]:
    """Probe each allowed mechanism and pick the strongest working set (the worker self-tests)."""
    allow = set(config["mechanisms"])
    os.makedirs(jobdir, mode=0o700, exist_ok=True)
    plan = confine.Plan(jobdir=jobdir, null_fd=os.open("/dev/null", os.O_RDWR))
    plan.cap_last = confine.cap_last()
    active: list[str] = []
    missing: dict[str, str] = {}

    def attempt(layer: str, mechanism: str, func: Any) -> bool:
        if mechanism not in allow:
            missing[layer] = f"disabled by tier {config['tier']!r}"
            return False
        try:
            ok, detail = func()
        except OSError as exc:
            ok, detail = False, str(exc)
        if ok:
            active.append(layer)
        else:
            missing[layer] = detail
        return bool(ok)

    if config.get("outer") == "bwrap":
        active += ["bwrap", "netns"]  # bwrap gave the worker fresh mount/net/pid/ipc/uts namespaces
    else:
        missing["bwrap"] = config.get("bwrap_missing", "not requested")
        attempt("netns", "netns", _try_netns)
    exposed = ""
    if "landlock" in allow and config.get("outer") != "bwrap" and os.geteuid() == 0:
        exposed = _expose_interpreter()  # spare-uid jobs must reach the stdlib (bwrap does it)
    abi = landlock.abi_version()
    ruleset = None
    if attempt("landlock-fs", "landlock", lambda: _try_landlock(abi, config, jobdir)):
        ruleset = make_ruleset(abi, config)
        plan.ruleset = ruleset
        for layer, present in (("landlock-net", ruleset.net), ("landlock-scope", ruleset.scoped)):
            if present:
                active.append(layer)
            else:
                missing[layer] = f"Landlock ABI {abi} is too old"
    else:
        for layer in ("landlock-net", "landlock-scope"):
            missing[layer] = missing["landlock-fs"]
    if config.get("cgroup") and "cgroup" in allow:
        slot = cgroups.SlotCgroup(**config["cgroup"])
        if attempt("pids-cgroup", "cgroup", lambda: confine.in_child(slot.attach_self)):
            plan.cgroup = slot
            (active.append("memory-cgroup") if slot.memory else missing.update(
                {"memory-cgroup": "no memory controller"}))  # fmt: skip
        else:
            missing["memory-cgroup"] = missing["pids-cgroup"]
    else:
        why = "disabled by tier" if "cgroup" not in allow else "cgroups cannot be created here"
        missing.update({"pids-cgroup": why, "memory-cgroup": why})
    if ruleset is None and attempt("chroot", "chroot", lambda: _try_chroot(config["slot_dir"])):
        plan.chroot, plan.jail = True, config["slot_dir"]
        _make_jail_devices(config["slot_dir"])
    # A root worker's jobs run as the slot's spare uid on every tier: it owns nothing on the host.
    if os.geteuid() == 0:
        uid = int(config["uid"])
        become = lambda: confine.in_child(lambda: os.setresuid(uid, uid, uid))  # noqa: E731
        if attempt("setuid", "setuid", become):
            plan.uid = uid
            active.append("rlimit-nproc")
    elif "pids-cgroup" not in active:
        plan.nproc_relative = True
        active.append("rlimit-nproc")
    # A job with the worker's own uid could chmod what that uid owns; bwrap mounts it read-only.
    deny_metadata = plan.uid is None and config.get("outer") != "bwrap"
    if "seccomp" in allow:
        prepared = seccomp.Filter(seccomp.build_filter(deny_metadata=deny_metadata))
        if attempt("seccomp", "seccomp", lambda: _try_seccomp(prepared)):
            plan.seccomp = prepared
    else:
        missing["seccomp"] = f"disabled by tier {config['tier']!r}"
    if deny_metadata:  # needed: present, or missing for the reason seccomp is
        if plan.seccomp is not None:
            active.append("seccomp-metadata")
        else:
            missing["seccomp-metadata"] = missing["seccomp"]
    try:
        confine.restrict_worker_capabilities(plan.cap_last)
        active.append("no-capabilities")
    except OSError as exc:
        missing["no-capabilities"] = str(exc)
    if plan.seccomp is not None:
        plan.seccomp.install()  # on the worker itself, after its last unshare: jobs inherit it
    confine.clean_environment(jobdir)  # inherited by every job; a chroot job redoes it
    report = _report(config, active, missing, abi)
    report["interpreter_exposed"] = exposed
    return plan, report


def _report(
    config: dict[str, Any], active: list[str], missing: dict[str, str], abi: int
) -> dict[str, Any]:
    layers = active + ALWAYS
    categories = {name: [x for x in opts if x in layers] for name, opts in CATEGORIES.items()}
    return {
        "ok": True,
        "pid": os.getpid(),
        "tier": config["tier"],
        "layers": layers,
        "missing": missing,
        "categories": categories,
        "unprotected": sorted(name for name, used in categories.items() if not used),
        "landlock_abi": abi,
        "uid": os.geteuid(),
    }


def make_ruleset(abi: int, config: dict[str, Any]) -> landlock.Ruleset:
    """Read-only stdlib and system libraries, exec of system binaries, read-write slot dir."""
    ruleset = landlock.Ruleset(abi)
    denied = [*config["deny"], config["scratch_root"]]
    stdlib = [p for p in sys.path if p and os.path.isdir(p)]
    for path in landlock.expand_allowed(stdlib + READ_ROOTS, denied):
        ruleset.allow(path, landlock.READ)
    for path in landlock.expand_allowed(EXEC_ROOTS, denied):
        ruleset.allow(path, landlock.READ_EXEC)
    for path in config.get("pytest_shown") or ():  # public packages inside the hidden venv
        ruleset.allow(path, landlock.READ if os.path.isdir(path) else landlock.READ_FILE)
    for path in READ_FILES + DEVICES:
        ruleset.allow(path, landlock.READ_FILE)
    ruleset.allow("/dev/null", landlock.READ_FILE | landlock.WRITE_FILE | landlock.TRUNCATE)
    ruleset.allow(config["slot_dir"], ruleset.handled_fs)
    return ruleset


def _try_netns() -> tuple[bool, str]:
    confine.unshare(confine.CLONE_NEWNET | confine.CLONE_NEWIPC | confine.CLONE_NEWUTS)
    return True, ""


def _expose_interpreter() -> str:
    """A private mount namespace for the worker, with the interpreter reachable by any uid."""
    try:
        confine.unshare(confine.CLONE_NEWNS)
        return confine.expose_interpreter(os.path.realpath(sys.base_prefix))
    except OSError as exc:  # jobs keep the preloaded modules; lazy stdlib imports may fail
        return f"failed: {exc}"


def _try_seccomp(prepared: seccomp.Filter) -> tuple[bool, str]:
    def check() -> None:
        prepared.install()
        try:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
        except PermissionError:
            return
        raise RuntimeError("an AF_INET socket was still allowed")

    return confine.in_child(check)


def _try_landlock(abi: int, config: dict[str, Any], jobdir: str) -> tuple[bool, str]:
    if abi < 1:
        return False, "Landlock is not available in this kernel"

    def check() -> None:
        make_ruleset(abi, config).restrict_self()
        with open(os.path.join(jobdir, "probe"), "w") as f:
            f.write("ok")
        try:
            os.listdir(config["scratch_root"])
        except PermissionError:
            return
        raise RuntimeError("the ruleset did not restrict reads")

    return confine.in_child(check)


def _try_chroot(jail: str) -> tuple[bool, str]:
    return confine.in_child(lambda: os.chroot(jail))


def _make_jail_devices(jail: str) -> None:
    """/dev/null inside the chroot (subprocess.DEVNULL, os.devnull); the job cannot touch dev/."""
    dev = os.path.join(jail, "dev")
    os.makedirs(dev, mode=0o755, exist_ok=True)
    null = os.path.join(dev, "null")
    if not os.path.exists(null):
        try:
            os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod(null, 0o666)
        except OSError:
            pass  # no CAP_MKNOD: os.devnull is simply missing in the jail


def self_test_source(config: dict[str, Any]) -> str:
    """A test module that tries what a job must not do; each test returns True if it failed."""
    canaries = [c for c in config.get("canaries", []) if c]
    outside = os.path.join(config["scratch_root"], "escape-attempt")
    port = int(config.get("probe_port") or 0)  # a listener the executor opened on the host
    root = config["scratch_root"]
    return f"""import os, resource, socket

def _fails(action):
    try:
        action()
    except OSError:
        return True
    return False

def test_read_canaries():
    return all(_fails(lambda c=c: open(c, "rb").close()) for c in {canaries!r})

def test_write_outside():
    return _fails(lambda: open({outside!r}, "w").close())

def test_tcp_connect():
    conn = lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    return bool({port}) and _fails(conn)

def test_signal_worker():
    return _fails(lambda: os.kill(os.getppid(), 0))

def test_chmod_outside():
    return _fails(lambda: os.chmod({root!r}, 0o755))  # its mode already: harmless if allowed

def test_limit_worker():
    return _fails(lambda: resource.prlimit(os.getppid(), resource.RLIMIT_CORE))  # a read
"""


def failed_checks(results: dict[str, Any], categories: dict[str, list[str]]) -> list[str]:
    """Checks that did not hold although their category claims a protecting layer."""
    if "error" in results:
        return [f"error: {results['error']}"]
    protected = {name for name, used in categories.items() if used}
    return [check for check, category in _CHECKS.items()
            if category in protected and results.get(check) is not True]  # fmt: skip


def descendants(root: int | None = None) -> list[int]:
    """Every process below ``root`` (default: this one), via /proc/<pid>/task/<tid>/children."""
    found: list[int] = []
    stack = [os.getpid() if root is None else root]
    while stack:
        pid = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            stack += kids
    return found


def has_children() -> bool:
    """Reap what has exited; True if some child is still running."""
    cgroups.reap_children()
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def kill_descendants(rounds: int = 200) -> int:
    """SIGKILL all descendants (orphans come back to us as subreaper) until none is left."""
    most = 0
    for _ in range(rounds):
        cgroups.reap_children()
        pids = descendants()
        if not pids:
            break
        most = max(most, len(pids))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.0002)
    return most


def wait_no_children(timeout_s: float) -> bool:
    """Reap until this process has no child left; False if some survive ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)
