"""Isolation tiers: which mechanisms a worker may use, what it must hide, and the bwrap wrapper.

Tiers, strongest first (``SandboxSettings.tier``; ``auto`` picks the strongest that starts):

- ``bwrap``: the worker runs inside bubblewrap (own mount, pid, net, ipc and uts namespaces; the
  repo, the package, home directories and /etc/shadow are not even mounted), plus every per-job
  layer of ``native``.
- ``native``: worker-wide network namespace; per job Landlock (filesystem allow-list, no TCP,
  signals scoped to the job), seccomp, pids+memory cgroup, rlimits, no capabilities.
- ``fallback``: what a stock container allows: seccomp, chroot into the scratch dir, a spare uid
  with RLIMIT_NPROC, rlimits. The stdlib is still importable for the preloaded modules only.

Within a tier a mechanism the host lacks is replaced by the next one and reported missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from python_env.errors import ConfigError

TIERS = ("bwrap", "native", "fallback")
MECHANISMS = {
    "bwrap": ("netns", "seccomp", "landlock", "cgroup", "chroot", "setuid"),
    "native": ("netns", "seccomp", "landlock", "cgroup", "chroot", "setuid"),
    "fallback": ("seccomp", "chroot", "setuid"),
}
PACKAGE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_DIR = Path(__file__).resolve().parent
HOST_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers")
# Capabilities the worker itself keeps inside bwrap: removing what jobs leave behind, killing
# them, switching each job to its slot's spare uid, and dropping the bounding set in each job
# child. Jobs end up with none at all.
WORKER_CAPS = ("CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETPCAP", "CAP_CHOWN",
               "CAP_SETUID", "CAP_SETGID")  # fmt: skip


def requested_tier(value: str = "auto") -> str:
    """``auto`` or a tier name (settings validate it first; this guards direct callers)."""
    tier = str(value).strip().lower()
    if tier != "auto" and tier not in TIERS:
        raise ConfigError(
            f"the sandbox tier must be auto or one of {', '.join(TIERS)}; got {tier!r}"
        )
    return tier


def candidate_tiers(requested: str) -> list[str]:
    """The tiers to try in order: ``auto`` tries all, strongest first."""
    return list(TIERS) if requested == "auto" else [requested]


def bwrap_binary(configured: str = "") -> tuple[str | None, str]:
    """The bwrap executable, or None and the reason it is unavailable.

    ``configured``: a path, "" to look it up on PATH, or "0"/"off"/"none" to act as if absent.
    """
    if configured in ("0", "none", "off"):
        return None, f"disabled by the settings (bwrap={configured!r})"
    path = configured or shutil.which("bwrap")
    if not path or not os.access(path, os.X_OK):
        return None, "bubblewrap is not installed (apt-get install bubblewrap)"
    return path, ""


def python_executable() -> str:
    """The real interpreter (not a venv symlink): workers run it with -P -s -S, without site."""
    return os.path.realpath(sys.executable)


def denied_paths() -> list[str]:
    """Paths no job may read even where an ancestor directory is allowed.

    Only what is secret: the package (hidden tests, reference fixes), the repository, the venv
    and the server's working directory. Denying more (every site-packages) would split the
    stdlib into ~200 Landlock rules and cost 0.5 ms per job for no protection.
    """
    paths = {str(PACKAGE_DIR), os.getcwd()}
    if sys.prefix != sys.base_prefix:
        paths.add(sys.prefix)
    if PACKAGE_DIR.parent.name == "src":  # a source checkout: hide the whole repository
        paths.add(str(PACKAGE_DIR.parent.parent))
    # Never deny the stdlib or a directory above it (say a server started from /root).
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    real = {os.path.realpath(p) for p in paths if p}
    return sorted(p for p in real if not _beneath(stdlib, p))


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


PYTEST_DISTRIBUTION = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py")


def pytest_files() -> tuple[list[str], list[str]]:
    """What a worker needs to run pytest-style jobs: the directories to put on its sys.path,
    and pytest's packages (and its dependencies') to show it, read-only, inside the hidden
    venv. Public packages only: nothing of python_env or of anything else installed.
    Empty when pytest is not installed (pytest-style jobs then report it)."""
    exposed, roots = [], []
    for name in PYTEST_DISTRIBUTION:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            continue
        locations = list(spec.submodule_search_locations or [])
        path = locations[0] if locations else spec.origin
        exposed.append(os.path.realpath(path))
        roots.append(os.path.dirname(os.path.realpath(path)))
    if "pytest" not in {Path(p).stem for p in exposed}:
        return [], []
    return sorted(set(roots)), sorted(set(exposed))


def canaries() -> list[str]:
    """Files the start-up self-test must fail to read: the package's own source."""
    return [str(PACKAGE_DIR / "errors.py"), str(SANDBOX_DIR / "harness.py")]


_TMPFS_TOPS = ("/root/", "/home/", "/tmp/")  # each an empty tmpfs in the worker's view


def _reachable(path: str) -> list[str]:
    """bwrap arguments making the directories leading to ``path`` in a tmpfs 0755 (bwrap's
    default is 0700), so the spare uid that jobs run as can reach it (a TMPDIR below /tmp)."""
    if not path.startswith(_TMPFS_TOPS):
        return []
    parts = path.strip("/").split("/")
    return [
        arg
        for depth in range(2, len(parts))
        for arg in ("--perms", "0755", "--dir", "/" + "/".join(parts[:depth]))
    ]


def bwrap_command(
    bwrap: str,
    scratch_root: str,
    slot_dir: str,
    code_dir: str,
    cgroup_dirs: list[str],
    shown: Sequence[str] = (),
) -> list[str]:
    """Wrap a worker in bubblewrap: the host read-only, secrets hidden, its slot dir writable;
    ``shown`` (pytest's packages) bound back, read-only, into the hidden paths.

    Only the slot is writable: a job cannot change the scratch root or another slot, and the
    rest of the host is a read-only mount, where chmod, chown, utime and xattrs fail too.
    """
    python_prefix = os.path.realpath(sys.base_prefix)
    args = [bwrap, "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid"]
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for home in ("/root", "/home"):
        if os.path.isdir(home):
            args += ["--tmpfs", home]
    if python_prefix.startswith(_TMPFS_TOPS):  # the interpreter stays visible
        args += [*_reachable(python_prefix), "--ro-bind", python_prefix, python_prefix]
    for path in denied_paths():  # sorted, so a parent is hidden before its children
        hidden_anyway = path.startswith(_TMPFS_TOPS)
        if os.path.isdir(path) and (not hidden_anyway or _beneath(path, python_prefix)):
            args += ["--tmpfs", path]
    for path in shown:
        args += ["--ro-bind", path, path]
    for secret in HOST_SECRETS:
        if os.path.exists(secret):
            args += ["--ro-bind", "/dev/null", secret]
    args += [*_reachable(scratch_root), "--ro-bind", scratch_root, scratch_root]
    args += ["--bind", slot_dir, slot_dir]
    args += ["--ro-bind", str(SANDBOX_DIR), code_dir]
    for directory in cgroup_dirs:
        args += ["--bind", directory, directory]
    if os.geteuid() == 0:  # only root may choose capabilities; others get none anyway
        args += ["--cap-drop", "ALL"]
        for cap in WORKER_CAPS:
            args += ["--cap-add", cap]
    return [*args, "--chdir", "/", "--"]
