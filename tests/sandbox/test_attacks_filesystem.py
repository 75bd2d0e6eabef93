"""Filesystem attacks: hidden tests, reference fixes, server code, host secrets, escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from python_env.sandbox import ForkServerExecutor, isolation
from tests.sandbox.conftest import SERVER_SECRET
from tests.sandbox.helpers import attack, run, value

PACKAGE = isolation.PACKAGE_DIR
TASKS = PACKAGE / "tasks" / "data" / "curated"
READ_PROBE = """
import os
def _read(path):
    try:
        with open(path, "rb") as f:
            return "READ:" + f.read(200).decode("utf-8", "replace")
    except OSError as exc:
        return type(exc).__name__
def _list(path):
    try:
        return "LISTED:" + ",".join(sorted(os.listdir(path))[:20])
    except OSError as exc:
        return type(exc).__name__
"""


def _a_task() -> Path:
    tasks = sorted(p for p in TASKS.iterdir() if (p / "hidden_tests.py").is_file())
    if not tasks:
        pytest.skip("no curated task on disk")
    return tasks[0]


def _denied(result: object) -> bool:
    return isinstance(result, str) and not result.startswith(("READ:", "LISTED:"))


def test_read_hidden_tests(executor: ForkServerExecutor) -> None:
    task = _a_task()
    code = f"""
def test_file():
    return _read({str(task / "hidden_tests.py")!r})
def test_dir():
    return _list({str(task)!r})
def test_walk_up_from_cwd():
    return _list(os.path.join(os.getcwd(), "..", "..", ".."))
"""
    report = attack(executor, READ_PROBE, code)
    assert _denied(value(report, "test_file"))
    assert _denied(value(report, "test_dir"))
    # In a chroot, "up" from the scratch dir ends at the job's own jail: its dev/ and job/.
    assert value(report, "test_walk_up_from_cwd") in ("LISTED:dev,job", "PermissionError")


def test_read_the_reference_fix(executor: ForkServerExecutor) -> None:
    fix = _a_task() / "fix.py"
    code = f"""
def test_fix():
    return _read({str(fix)!r})
"""
    report = attack(executor, READ_PROBE, code)
    assert _denied(value(report, "test_fix"))


def test_read_the_package_and_server_source(executor: ForkServerExecutor) -> None:
    paths = [
        PACKAGE / "types.py",
        PACKAGE / "sandbox" / "harness.py",
        PACKAGE.parent.parent / "pyproject.toml",
    ]
    code = f"""
def test_files():
    return [_read(p) for p in {[str(p) for p in paths]!r}]
def test_package_dir():
    return _list({str(PACKAGE)!r})
def test_import_it():
    try:
        import python_env.tasks
        return "imported"
    except ImportError as exc:
        return type(exc).__name__
"""
    report = attack(executor, READ_PROBE, code)
    assert all(_denied(r) for r in value(report, "test_files"))  # type: ignore[attr-defined]
    assert _denied(value(report, "test_package_dir"))
    assert value(report, "test_import_it") in ("ModuleNotFoundError", "ImportError")


def test_read_host_secrets(executor: ForkServerExecutor) -> None:
    code = """
def test_shadow():
    return [_read("/etc/shadow"), _read("/etc/gshadow")]
def test_home():
    return [_list("/root"), _read("/root/.bash_history"), _list("/home")]
def test_ssh_keys():
    return _list("/etc/ssh")
"""
    report = attack(executor, READ_PROBE, code)
    assert all(_denied(r) for r in value(report, "test_shadow"))  # type: ignore[attr-defined]
    assert all(_denied(r) for r in value(report, "test_home"))  # type: ignore[attr-defined]
    assert _denied(value(report, "test_ssh_keys"))


def test_read_the_servers_environment(executor: ForkServerExecutor) -> None:
    code = f"""
def test_environ():
    return sorted(os.environ.items())
def test_proc():
    pids = ["self", str(os.getppid()), "1", {str(os.getpid())!r}]
    return [_read(f"/proc/{{p}}/environ") for p in pids]
"""
    report = attack(executor, READ_PROBE, code)
    assert SERVER_SECRET not in repr(report)
    assert all(_denied(r) or SERVER_SECRET not in r for r in value(report, "test_proc"))  # type: ignore[attr-defined]
    keys = [k for k, _ in value(report, "test_environ")]  # type: ignore[attr-defined]
    assert set(keys) <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "PYTHONHASHSEED",
        "HOME",
        "TMPDIR",
        "SQLITE_TMPDIR",
    }


def test_write_outside_the_scratch_dir(executor: ForkServerExecutor, tmp_path: Path) -> None:
    token = os.urandom(4).hex()
    targets = [
        tmp_path / "escape.txt",
        Path("/tmp") / f"escape-{token}",
        Path("/etc") / f"escape-{token}",
        PACKAGE.parent.parent / f"escape-{token}",
        Path("/dev/shm") / f"escape-{token}",
    ]
    code = f"""
def test_write():
    results = []
    for path in {[str(t) for t in targets]!r}:
        try:
            with open(path, "w") as f:
                f.write("owned")
            results.append("WROTE")
        except OSError as exc:
            results.append(type(exc).__name__)
    return results
"""
    report = attack(executor, code)
    assert "WROTE" not in value(report, "test_write")  # type: ignore[operator]
    assert [t for t in targets if t.exists()] == []


def test_symlinks_out_of_the_scratch_dir(executor: ForkServerExecutor) -> None:
    hidden = _a_task() / "hidden_tests.py"
    code = f"""
def test_links():
    results = []
    for name, target in [("shadow", "/etc/shadow"), ("hidden", {str(hidden)!r}), ("root", "/")]:
        try:
            os.symlink(target, name)
        except OSError as exc:
            results.append("no symlink: " + type(exc).__name__)
            continue
        results.append(_read(name) if name != "root" else _list(name + "/etc"))
    return results
def test_hardlink():
    try:
        os.link("/etc/passwd", "passwd")
        return "linked"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, READ_PROBE, code)
    assert all(_denied(r) for r in value(report, "test_links"))  # type: ignore[attr-defined]
    assert value(report, "test_hardlink") != "linked"


def test_planted_symlink_for_the_next_job(executor: ForkServerExecutor, tmp_path: Path) -> None:
    """A job swaps its scratch dir for a symlink to a host dir; later jobs must not follow it."""
    os.chmod(tmp_path, 0o777)
    code = f"""
import os
def test_plant():
    here = os.getcwd()
    os.chdir("..")
    try:
        os.rename(here, "gone")
        os.symlink({str(tmp_path)!r}, here)
        return "planted"
    except OSError as exc:
        return type(exc).__name__
"""
    report = attack(executor, code)
    assert value(report, "test_plant") in ("planted", "PermissionError", "OSError")
    for _ in range(executor.pool_size * 2):  # every worker gets a job after the planting one
        code = """
import os
def test_write_here():
    with open("planted.txt", "w") as f:
        f.write("x")
    return sorted(os.listdir("."))
"""
        later = run(executor, code)
        assert value(later, "test_write_here") == ["planted.txt"]
    assert list(tmp_path.iterdir()) == []


def test_files_do_not_survive_into_the_next_job(executor: ForkServerExecutor) -> None:
    run(executor, 'def test_leave():\n    open("note.txt", "w").write("for the next one")\n')
    for _ in range(executor.pool_size * 2):
        later = run(executor, "import os\ndef test_look():\n    return os.listdir('.')\n")
        assert value(later, "test_look") == []


def test_other_sessions_scratch_dirs(executor: ForkServerExecutor) -> None:
    slots = [w.slot_dir for w in executor._res.workers.values()]
    code = f"""
def test_siblings():
    here = os.getcwd()
    root = os.path.dirname(os.path.dirname(here))
    others = [os.path.join(slot, "job") for slot in {slots!r}]
    mine = os.path.realpath(here)
    return [_list(root)] + [_list(p) for p in others if os.path.realpath(p) != mine]
"""
    report = attack(executor, READ_PROBE, code)
    results = value(report, "test_siblings")
    # In a chroot the "root" is the job's own jail: its dev/ and job/, nothing of other sessions.
    assert _denied(results[0]) or results[0] == "LISTED:dev,job", results  # type: ignore[index]
    assert all(_denied(r) for r in results[1:]), results  # type: ignore[index]


def test_scratch_dir_tempfile_and_sqlite_still_work(executor: ForkServerExecutor) -> None:
    code = """
import os, sqlite3, tempfile, json
def test_tempfile():
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("data")
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "x"), "w").write("y")
    return open(f.name).read()
def test_sqlite_memory():
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.executemany("insert into t values (?)", [(i,) for i in range(5)])
    return db.execute("select sum(x) from t").fetchone()[0]
def test_sqlite_file():
    db = sqlite3.connect("data.db")
    db.execute("create table t (x)")
    db.execute("insert into t values (41)")
    db.commit()
    return sqlite3.connect("data.db").execute("select x + 1 from t").fetchone()[0]
def test_devnull_and_urandom():
    open(os.devnull, "w").write("discarded")
    return len(os.urandom(8))
"""
    report = run(executor, code)
    assert value(report, "test_tempfile") == "data"
    assert value(report, "test_sqlite_memory") == 10
    assert value(report, "test_sqlite_file") == 42
    assert value(report, "test_devnull_and_urandom") == 8


def test_no_inherited_file_descriptors(executor: ForkServerExecutor) -> None:
    # Beyond stdio and the result channel, only the write end of the pipe the harness says its
    # last word on (test_attacks_integrity forges, floods and closes it).
    code = """
import fcntl, os, stat
def test_fds():
    open_fds = []
    for fd in range(4, 1024):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        open_fds.append([stat.S_ISFIFO(mode), access == os.O_WRONLY])
    return open_fds
"""
    report = attack(executor, code)
    assert value(report, "test_fds") == [[True, True]]
