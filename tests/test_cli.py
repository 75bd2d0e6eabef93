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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--limit", "0"], "argument --limit: must be at least 1, got 0"),
        (["eval", "--limit", "-3"], "must be at least 1"),
        (["eval", "--concurrency", "0"], "must be at least 1"),
        (
            ["eval", "--agnt", "x"],
            "unrecognized arguments: --agnt x; --agnt (did you mean '--agent'?)",
        ),
        (["eval", "--agent", "heurstic"], "unknown agent 'heurstic' (did you mean 'heuristic'?)"),
        (["eval", "--kind", "reveiw"], "(did you mean 'review'?); choose from review, repair"),
        (["eval", "--category", "secuirty"], "did you mean 'security'?"),
        (["rollouts", "--min-score", "2"], "must be within 0..1"),
        (["evl"], "unknown command 'evl' (did you mean 'eval'?)"),
    ],
)
def test_bad_arguments_are_refused_by_their_command_with_a_suggestion(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and message in err
    assert err.startswith(f"usage: python-env {argv[0]}" if argv[0] != "evl" else "usage:")


def test_help_is_plain_text_with_defaults() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "python_env.cli", "eval", "--help"], capture_output=True, text=True
    ).stdout
    assert "``" not in out and "(default: 16)" in out and "choose" not in out
    assert "review, repair, optimize" in out and "--allow-errors" in out


def test_tasks_prints_an_aligned_table_with_a_header(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "title", "kinds", "difficulty", "categories", "issues"]
    column = lines[0].index("title")
    assert all(line[column - 2 : column] == "  " for line in lines[1:31])
    assert lines[-1] == "30 tasks in split 'curated'"


def test_generate_refuses_to_replace_the_shipped_dataset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["generate", "--into-package", "--max-sources", "1"]) == 2
    assert "already holds a dataset; pass --force" in capsys.readouterr().err
