import os
import subprocess
import tempfile

from solution import generations, rotate


def fake_run(calls):
    """Stands in for subprocess.run: 'gzip -f X' renames X to X.gz, rsync just succeeds."""
    def run(command, **kwargs):
        argv = command.split() if isinstance(command, str) else list(command)
        calls.append(argv[0])
        if argv[0] == "gzip":
            os.replace(argv[-1], argv[-1] + ".gz")
        return subprocess.CompletedProcess(argv, 0)
    return run


def _touch(path, text=""):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def test_first_rotation():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log"), "line 1\n")
        calls = []
        result = rotate(tmp, run=fake_run(calls))
        assert result == {"deleted": [], "shipped": True}
        assert sorted(os.listdir(tmp)) == ["app.log", "app.log.1.gz"]
        assert calls == ["gzip", "rsync"]


def test_generations_shift_and_expire():
    with tempfile.TemporaryDirectory() as tmp:
        _touch(os.path.join(tmp, "app.log"), "now")
        for n in (1, 2, 3):
            _touch(os.path.join(tmp, f"app.log.{n}.gz"), f"gen {n}")
        result = rotate(tmp, keep=3, run=fake_run([]))
        assert result["deleted"] == ["app.log.3.gz"]
        assert [name for _, name in generations(tmp, "app.log")] == [
            "app.log.3.gz", "app.log.2.gz", "app.log.1.gz"]
