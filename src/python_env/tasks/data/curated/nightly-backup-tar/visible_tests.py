import datetime as dt
import subprocess

from solution import archive_name, create_backup


def _recorder(calls):
    def fake_run(command, **kwargs):
        calls.append((command, kwargs))
        return subprocess.CompletedProcess(command, 0)
    return fake_run


def test_archive_name():
    when = dt.datetime(2024, 3, 9, 1, 30, 0)
    assert archive_name("db", when) == "backup-db-20240309-013000.tar.gz"


def test_create_backup_runs_tar_once():
    calls = []
    when = dt.datetime(2024, 3, 9, 1, 30, 0)
    dest = create_backup("/var/lib/app", "/srv/backups", "db", when, run=_recorder(calls))
    assert dest.name == "backup-db-20240309-013000.tar.gz"
    assert len(calls) == 1
    assert calls[0][1].get("check") is True
