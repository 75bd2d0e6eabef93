import datetime as dt
import shlex
import subprocess
import tempfile
from pathlib import Path

from solution import archive_name, create_backup, list_backups, prune_backups

WHEN = dt.datetime(2024, 3, 9, 1, 30, 0)


def _argv_of(source_dir, dest_dir="/srv/backups", label="db"):
    """The argv tar would receive: a shell command line is split the way sh would split it."""
    calls = []

    def fake_run(command, **kwargs):
        if kwargs.get("shell"):
            argv = shlex.split(command)
        else:
            argv = [str(part) for part in command]
        calls.append((argv, bool(kwargs.get("check"))))
        return subprocess.CompletedProcess(command, 0)

    create_backup(source_dir, dest_dir, label, WHEN, run=fake_run)
    return calls


def test_plain_paths():
    return _argv_of("/var/lib/app")


def test_source_with_space_is_one_argument():
    return _argv_of("/mnt/shared/Team Photos")


def test_shell_metacharacters_are_literal():
    return _argv_of("/data/x; touch /tmp/pwned")


def test_command_substitution_is_literal():
    return _argv_of("/data/$(id -u)`whoami`")


def test_prune_keeps_newest():
    with tempfile.TemporaryDirectory() as tmp:
        for day in range(1, 6):
            name = archive_name("db", dt.datetime(2024, 3, day, 1, 30))
            Path(tmp, name).write_bytes(b"x")
        Path(tmp, archive_name("web", WHEN)).write_bytes(b"x")
        removed = prune_backups(tmp, "db", keep=2)
        left = [p.name for p in list_backups(tmp, "db")] + [p.name for p in list_backups(tmp, "web")]
        return [removed, left]


def test_prune_keep_zero_removes_all():
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, archive_name("db", WHEN)).write_bytes(b"x")
        Path(tmp, "notes.txt").write_text("keep me")
        return [prune_backups(tmp, "db", keep=0), sorted(p.name for p in Path(tmp).iterdir())]
