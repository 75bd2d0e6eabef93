import subprocess
import sys
from pathlib import Path

import pytest

from python_env.cli import main


def test_tasks_lists_the_curated_bank(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--markdown"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| id | title") and len(out) >= 3


def test_unknown_split_is_a_clear_cli_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--split", "nope"]) == 2
    assert "unknown split 'nope'" in capsys.readouterr().err


def test_console_help_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "python_env.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "serve" in out.stdout


def test_readme_task_table_matches_the_bank(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--markdown"]) == 0
    table = capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("<!-- tasks:curated -->\n", 1)[1].split("<!-- /tasks:curated -->", 1)[0]
    assert section == table
