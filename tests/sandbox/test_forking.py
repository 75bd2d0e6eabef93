"""The worker's fork: through libc only while CPython's at-fork hooks would do nothing.

Each case runs in a fresh ``python -P -s -S -B``, as the worker does, so the hooks and modules it
sees are a worker's and not pytest's.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from python_env.sandbox import forking, isolation

SANDBOX = Path(forking.__file__).parent
AUDITED = (sys.implementation.name, sys.version_info[:2]) == forking.AUDITED
only_audited = pytest.mark.skipif(not AUDITED, reason="at-fork hooks audited for 3.11 only")

# Loads the worker by path (so its preload, its siblings and its pytest session are the real
# ones), starts a Forker and records the preload, then runs CASE and forks once: the child
# reports whether the threading module's at-fork hook ran, which replaced its lock.
PRELUDE = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("w", {worker!r})
w = importlib.util.module_from_spec(spec)
sys.modules["w"] = w
spec.loader.exec_module(w)
forker = w.forking.Forker()
with forker.recording():
    w.preload.preload(w.preload.PRELOAD)
import threading
"""
FORK = """
described = forker.describe()
lock = id(threading._active_limbo_lock)
r, wr = os.pipe()
pid = forker.fork()
if pid == 0:
    os.write(wr, json.dumps(id(threading._active_limbo_lock) != lock).encode())
    {child}
    os._exit(7)
os.close(wr)
hooks_ran = json.loads(os.read(r, 100))
status = os.waitpid(pid, 0)[1]
print(json.dumps({"described": described, "hooks_ran": hooks_ran, "code": status >> 8}))
"""


def run_as_worker(script: str, cwd: Path) -> str:
    """What ``script`` printed, run as the worker runs (``python -P -s -S -B``)."""
    done = subprocess.run(
        [isolation.python_executable(), "-P", "-s", "-S", "-B", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def fork_once(case: str, tmp_path: Path, child: str = "pass") -> dict[str, object]:
    script = PRELUDE.format(worker=str(SANDBOX / "worker.py")) + textwrap.dedent(case)
    script += FORK.replace("{child}", textwrap.indent(textwrap.dedent(child), "    ").strip())
    result: dict[str, object] = json.loads(run_as_worker(script, tmp_path).splitlines()[-1])
    assert result["code"] == 7  # the child ran on, whichever way it was forked
    return result


@only_audited
def test_a_preloaded_worker_with_its_pytest_session_forks_through_libc(tmp_path: Path) -> None:
    paths, _ = isolation.pytest_files()
    case = f"""
    config = {{"pytest_paths": {paths!r}, "slot_dir": {str(tmp_path)!r}}}
    with forker.recording():
        assert w.prepare_pytest(config) == "ready"
        import concurrent.futures.thread
    """
    result = fork_once(case, tmp_path)
    assert result == {"described": "libc", "hooks_ran": False, "code": 7}


@only_audited
def test_a_child_forked_through_libc_runs_threads_processes_and_imports(tmp_path: Path) -> None:
    child = """
    import colorsys, logging, subprocess
    seen = []
    worker = threading.Thread(target=seen.append, args=(threading.get_ident(),))
    worker.start()
    worker.join()
    assert seen and threading.active_count() == 1
    assert subprocess.run(["true"]).returncode == 0
    grandchild = os.fork()
    if grandchild == 0:
        os._exit(3)
    assert os.waitpid(grandchild, 0)[1] >> 8 == 3
    logging.getLogger("x").warning("logged")
    """
    result = fork_once("", tmp_path, child)
    assert result == {"described": "libc", "hooks_ran": False, "code": 7}


@only_audited
def test_a_failed_libc_fork_raises_what_os_fork_would(tmp_path: Path) -> None:
    case = """
    import ctypes, errno
    def refused():
        ctypes.set_errno(errno.EAGAIN)
        return -1
    w.forking._libc_fork = refused
    try:
        forker.fork()
    except BlockingIOError as exc:
        print(json.dumps({"described": str(exc), "hooks_ran": False, "code": 7}))
    raise SystemExit(0)
    """
    result = fork_once(case, tmp_path)
    assert result["described"] == f"[Errno {errno.EAGAIN}] {os.strerror(errno.EAGAIN)}"


@pytest.mark.parametrize(
    ("case", "why"),
    [
        (  # a hook of a module nobody audited: os.fork, which runs it
            """
            with forker.recording():
                os.register_at_fork(after_in_child=lambda: None)
            """,
            "os.fork: an at-fork hook of another module",
        ),
        (  # the same, past os, and after the recording stopped
            """
            import posix
            with forker.recording():
                register = posix.register_at_fork
            register(after_in_child=lambda: None)
            """,
            "os.fork: an at-fork hook of another module",
        ),
        (  # a hook that says it equals anything is still not an audited one
            """
            class Anything:
                def __eq__(self, other):
                    return True
                def __call__(self):
                    pass
            with forker.recording():
                os.register_at_fork(after_in_child=Anything())
            """,
            "os.fork: an at-fork hook of another module",
        ),
        (  # an import nobody recorded: its hooks are unknown
            "import colorsys",
            "os.fork: a module was imported while no hook was recorded",
        ),
        (  # another thread may hold any lock
            """
            threading.Thread(target=threading.Event().wait, daemon=True).start()
            """,
            "os.fork: 2 threads",
        ),
        (  # a signal delivered just before the fork would be handled in the child too
            """
            import signal
            signal.signal(signal.SIGUSR1, lambda *_: None)
            """,
            f"os.fork: a Python handler for signal {int(signal.SIGUSR1)}",
        ),
    ],
)
def test_anything_a_hook_might_be_needed_for_sends_the_fork_through_os_fork(
    case: str, why: str, tmp_path: Path
) -> None:
    result = fork_once(case, tmp_path)
    if not AUDITED:
        why = "os.fork: at-fork hooks are audited"
    assert str(result["described"]).startswith(why)
    assert result["hooks_ran"] is True


def test_a_module_from_outside_the_stdlib_loaded_before_recording_is_not_trusted(
    tmp_path: Path,
) -> None:
    (tmp_path / "stranger.py").write_text("import os\n")
    script = f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
import stranger
sys.path.insert(0, {str(SANDBOX)!r})
import forking
print(forking.Forker().describe())
"""
    said = run_as_worker(script, tmp_path)
    assert "stranger was loaded before recording began" in said or not AUDITED


@only_audited
def test_the_audited_registrants_are_all_the_standard_library_has() -> None:
    stdlib = Path(os.__file__).parent
    found = set()
    for path in stdlib.rglob("*.py"):
        relative = path.relative_to(stdlib)
        if relative.parts[0] in {"test", "idlelib", "lib2to3", "site-packages"}:
            continue
        if re.search(r"\bregister_at_fork\(", path.read_text(errors="replace")):
            found.add(".".join(relative.with_suffix("").parts).removesuffix(".__init__"))
    assert found == set(forking.REGISTRANTS), sys.version
    for name, hooks_of in forking.REGISTRANTS.items():  # each names hooks its module has
        assert all(callable(hook) for hook in hooks_of(importlib.import_module(name)))
