import os
import shlex
import subprocess
import tempfile

from solution import generations, rotate, ship


def fake_run(calls, rsync_error=None):
    """Stands in for subprocess.run. A command line run through a shell is split the way sh
    would split it; 'gzip -f X' renames X to X.gz (and fails like gzip if X does not exist)."""
    def run(command, **kwargs):
        argv = shlex.split(command) if kwargs.get("shell") else [str(a) for a in command]
        calls.append(argv)
        if argv[0] == "gzip":
            if not os.path.exists(argv[-1]):
                raise subprocess.CalledProcessError(1, argv)
            os.replace(argv[-1], argv[-1] + ".gz")
        if argv[0] == "rsync" and rsync_error is not None:
            raise rsync_error
        return subprocess.CompletedProcess(argv, 0)
    return run


def _touch(path, text=""):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _snapshot(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as fh:
            out.append([name, fh.read()])
    return out


def test_generation_order_past_nine():
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 2, 9, 10, 11):
            _touch(os.path.join(tmp, f"app.log.{n}.gz"))
        _touch(os.path.join(tmp, "other.log.3.gz"))
        return [name for _, name in generations(tmp, "app.log")]


def test_full_rotation_keeps_every_generation():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log"), "current")
        for n in range(1, 15):
            _touch(os.path.join(tmp, f"app.log.{n}.gz"), f"gen {n}")
        result = rotate(tmp, keep=14, run=fake_run([]))
        return [result, _snapshot(tmp)]


def test_rotation_with_eleven_generations():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log"), "current")
        for n in range(1, 12):
            _touch(os.path.join(tmp, f"app.log.{n}.gz"), f"gen {n}")
        result = rotate(tmp, keep=20, run=fake_run([]))
        return [result, _snapshot(tmp)]


def test_log_dir_with_shell_characters():
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = os.path.join(tmp, "svc logs;echo hi")
        os.mkdir(log_dir)
        _touch(os.path.join(log_dir, "app.log"), "x")
        calls = []
        try:
            result = rotate(log_dir, run=fake_run(calls))
        except subprocess.CalledProcessError:
            result = "CalledProcessError"
        gzip_argv = [[a.replace(tmp, "<tmp>") for a in c] for c in calls if c[0] == "gzip"]
        return [result, gzip_argv]


def test_failed_upload_reports_false():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log"), "x")
        error = subprocess.CalledProcessError(10, ["rsync"])
        result = rotate(tmp, run=fake_run([], rsync_error=error))
        return [result, sorted(os.listdir(tmp))]


def test_missing_rsync_reports_false():
    calls = []
    shipped = ship("/var/log/app/app.log.1.gz", run=fake_run(calls, FileNotFoundError("rsync")))
    return [shipped, calls]


def test_nothing_to_rotate():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log.1.gz"), "old")
        calls = []
        return [rotate(tmp, run=fake_run(calls)), calls, sorted(os.listdir(tmp))]
