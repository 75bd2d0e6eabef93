"""``python-env tasks`` (list, export, validate), ``serve --tasks`` and ``generate --out``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from python_env import CodeReviewAction, PythonEnv
from python_env.agents.launcher import free_port, list_splits, list_tasks, wait_healthy
from python_env.cli import main
from python_env.config import inherited_environment
from python_env.tasks.curated import load_curated
from python_env.tasks.directory import load_task_root

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tasks" / "receipt-totals"


def test_export_writes_task_folders_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["tasks", "export", "bill-split-lost-cents", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote 1 task folder to {out}\n"
    assert main(["tasks", "export", "bill-split-lost-cents", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bill-split-lost-cents already exists; pass --force to replace it" in err
    assert main(["tasks", "export", "--all", "--split", "curated", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["tasks", "export", "--all", "--force", str(out)]) == 0
    tasks, problems = load_task_root(out, "out")
    assert problems == [] and [t.id for t in tasks] == [t.id for t in load_curated()]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bil-split-lost-cents", "d"], "unknown task id 'bil-split-lost-cents' (did you mean "
                                        "'bill-split-lost-cents'?)"),
        (["--all", "--split", "trian", "d"], "unknown split 'trian' (did you mean 'train'?)"),
        (["d"], "export a TASK_ID, or --all tasks of a --split"),
        (["--all", "bill-split-lost-cents", "d"], "export a TASK_ID, or --all"),
    ],
)  # fmt: skip
def test_export_mistakes_are_one_line_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tasks", "export", *[str(tmp_path / a) if a == "d" else a for a in argv]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python-env: error: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_listing_includes_the_task_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "mine" / "receipt-totals")
    (tmp_path / "mine" / "broken").mkdir()
    (tmp_path / "mine" / "broken" / "task.toml").write_text("title = 'x'\n")
    monkeypatch.setenv("TASKS_DIRS", str(tmp_path / "mine"))
    assert main(["tasks", "list", "--split", "mine", "--markdown"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[2].startswith("| receipt-totals | Till receipt totals | review, repair")
    assert err.startswith("python-env: left out: broken: format: task.toml: kinds: missing")
    assert main(["tasks", "--split", "mine"]) == 0
    assert capsys.readouterr().out.endswith("1 tasks in split 'mine'\n")


def test_validate_passes_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "validate", str(EXAMPLE.parent)]) == 0
    assert capsys.readouterr().out == f"1 task(s) checked in {EXAMPLE.parent}: all valid\n"


def test_validate_prints_a_line_per_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "receipt-totals")
    fix = tmp_path / "receipt-totals" / "fix.py"
    fix.write_text(fix.read_text().replace("before_tax * TAX_RATE", "before_tax * TAX_RATE * 2"))
    shutil.copytree(EXAMPLE, tmp_path / "no-hidden")
    (tmp_path / "no-hidden" / "hidden_tests.py").unlink()
    assert main(["tasks", "validate", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "no-hidden: format: hidden_tests.py is missing"
    assert lines[1].startswith("receipt-totals: reference-passes: ")
    assert all(line.startswith("receipt-totals: ") for line in lines[1:-1])
    assert (
        lines[-1].startswith(f"2 task(s) checked in {tmp_path}: ") and "in 2 task(s)" in lines[-1]
    )

    assert main(["tasks", "validate", "--json", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    problems = json.loads(out)
    assert [p["task"] for p in problems[:2]] == ["no-hidden", "receipt-totals"]
    assert set(problems[0]) == {"task", "rule", "evidence"} and len(problems) == len(lines) - 1
    assert err == lines[-1] + "\n"


def test_validate_of_no_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tasks", "validate", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"python-env: error: {tmp_path / 'nope'}: not a directory\n"


def test_generate_writes_nowhere_unless_told(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--max-sources", "1"]) == 2
    assert "say where to write: --out DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["generate", "--out", "x", "--into-package"])
    assert "not allowed with argument --out" in capsys.readouterr().err


def _serve(*args: str) -> subprocess.Popen[bytes]:
    env = inherited_environment({"PYTHON_ENV_SANDBOX_WORKERS": "2"})
    return subprocess.Popen(
        [sys.executable, "-m", "python_env.cli", "serve", "--host", "127.0.0.1", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_serve_refuses_invalid_tasks_when_asked(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "receipt-totals")
    (tmp_path / "receipt-totals" / "conftest.py").unlink()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "code.py").write_text("x = 1\n")
    proc = _serve("--port", str(free_port()), "--tasks", str(tmp_path), "--invalid-tasks", "refuse")
    out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2, out
    assert "invalid task: broken: format: task.toml is missing" in out
    assert "invalid task: receipt-totals: reference-passes: " in out  # its fixtures are gone
    assert f"python-env: error: 3 problem(s) with the tasks of {tmp_path}" in out
    assert "Uvicorn running" not in out


def test_serve_tasks_serves_a_directory_as_a_split(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "receipt-totals")
    (tmp_path / "empty-one").mkdir()
    (tmp_path / "empty-one" / "task.toml").write_text("")
    port = free_port()
    proc = _serve("--port", str(port), "--tasks", f"mine={tmp_path}")
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(url, proc, 120), proc.communicate(timeout=5)[0].decode()
        assert list_splits(url)[-1] == "mine"
        assert [t.id for t in list_tasks(url, "mine")] == ["receipt-totals"]
        with PythonEnv(base_url=url).sync() as env:
            obs = env.reset(split="mine", seed=1).observation
            assert obs.task.id == "receipt-totals" and obs.task.split == "mine"
            fix = (EXAMPLE / "fix.py").read_text()
            env.step(CodeReviewAction(kind="edit", code=fix))
            result = env.step(CodeReviewAction(kind="submit"))
            assert result.observation.evaluation is not None
            assert result.observation.evaluation.components["tests"] == 1.0
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert "invalid task: empty-one: format: task.toml is empty" in out


def test_validate_prints_exactly_the_broken_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """One fixture task per rule, each breaking only its own: one line each, nothing else."""
    broken = ROOT / "tests" / "fixtures" / "broken_tasks"
    assert main(["tasks", "validate", str(broken)]) == 1
    lines = capsys.readouterr().out.splitlines()[:-1]
    found = sorted(tuple(line.split(": ", 2)[:2]) for line in lines)
    expected = sorted(
        (d.name, d.name.removeprefix("breaks-")) for d in broken.iterdir() if d.name != "valid-task"
    )
    assert found == expected, lines
