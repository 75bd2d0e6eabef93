"""The task directory format: export and load back, format problems, the schema, the example."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from python_env.errors import InvalidRequest, InvalidTask
from python_env.tasks.catalog import default_catalog
from python_env.tasks.curated import load_curated
from python_env.tasks.directory import (
    load_task_dir,
    load_task_root,
    task_schema_json,
    write_task_dir,
)
from python_env.tasks.generate.dataset import write_dataset
from python_env.types import Task, TaskProblem, TestStyle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tasks" / "receipt-totals"


def _as_split(task: Task, split: str) -> Task:
    return task.model_copy(update={"info": task.info.model_copy(update={"split": split})})


def test_every_curated_task_exports_and_loads_back_the_same(tmp_path: Path) -> None:
    curated = load_curated()
    for task in curated:
        write_task_dir(task, tmp_path)
    loaded, problems = load_task_root(tmp_path, "mine")
    assert problems == []
    assert [t.id for t in loaded] == sorted(t.id for t in curated)
    by_id = {t.id: t for t in curated}
    for task in loaded:
        assert task.info.split == "mine"
        assert _as_split(task, "curated") == by_id[task.id]
        assert task.digest == by_id[task.id].digest


def test_generated_tasks_round_trip_too(tmp_path: Path) -> None:
    catalog = default_catalog()
    train = [catalog.at("train", i) for i in range(catalog.size("train"))]
    tasks = [*train[::700], next(t for t in train if t.benchmark)]
    for task in tasks:
        folder = write_task_dir(task, tmp_path)
        assert _as_split(load_task_dir(folder, "x"), task.info.split) == task
    assert any(t.benchmark for t in tasks)  # benchmark.py is written and read back


def test_the_example_is_a_pytest_task_that_round_trips(tmp_path: Path) -> None:
    task = load_task_dir(EXAMPLE, "examples")
    assert task.test_style is TestStyle.PYTEST and task.module == "receipts"
    assert "yield handle" in task.conftest
    folder = write_task_dir(task, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in EXAMPLE.iterdir())
    assert load_task_dir(folder, "examples") == task


@pytest.mark.parametrize(("code", "failures"), [("fix.py", 0), ("code.py", 7)])
def test_the_example_runs_under_real_pytest(tmp_path: Path, code: str, failures: int) -> None:
    """fix.py passes every test, code.py fails some (the planted bugs), under plain pytest."""
    for name in ("conftest.py", "visible_tests.py", "hidden_tests.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copy(EXAMPLE / code, tmp_path / "receipts.py")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "-c", "/dev/null",
         "visible_tests.py", "hidden_tests.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith(
        f"{failures} failed, {20 - failures} passed" if failures else "20 passed"
    ), run.stdout
    assert ("FAILED hidden_tests.py" in run.stdout) == bool(failures)


def _folder(root: Path, name: str = "tiny-task") -> Path:
    """A copy of the example task to break."""
    return Path(shutil.copytree(EXAMPLE, root / name))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("breakage", "evidence"),
    [
        (lambda f: (f / "hidden_tests.py").unlink(), "hidden_tests.py is missing"),
        (lambda f: (f / "code.py").write_text("  \n"), "code.py is empty"),
        (lambda f: (f / "helpers.py").write_text("x = 1\n"), "helpers.py: not a task file"),
        (lambda f: (f / "fix.py").write_bytes(b"\xff\xfe"), "fix.py: not UTF-8 text"),
        (lambda f: _edit(f / "task.toml", "title =", "tittle ="),
         "task.toml: title: missing (a required key); tittle: unknown key (did you mean 'title'?)"),
        (lambda f: _edit(f / "task.toml", 'severity = "high"', 'severity = "hihg"'),
         "task.toml: issues[0].severity: Input should be 'low', 'medium', 'high' or 'critical' "
         "(got 'hihg')"),
        (lambda f: _edit(f / "task.toml", 'tests = "pytest"', 'tests = "return"'),
         'conftest.py: only pytest-style tasks (tests = "pytest") have one'),
        (lambda f: _edit(f / "task.toml", 'module = "receipts"', 'module = "json"'),
         "task.toml: module 'json' is reserved"),
        (lambda f: _edit(f / "task.toml", 'kinds = ["review", "repair"]', 'kinds = ["optimize"]'),
         "benchmark.py is missing"),
        (lambda f: _edit(f / "task.toml", "max_steps = 8", "max_steps = 8\nmax_steps = 9"),
         "task.toml: Cannot overwrite a value (at line 6, column 14)"),
        (lambda f: _edit(f / "task.toml", 'id = "indented-comment-lines"',
                         'id = "tax-on-undiscounted-amount"'),
         "task.toml: issue ids list 'tax-on-undiscounted-amount' twice"),
    ],
)  # fmt: skip
def test_a_broken_folder_is_one_format_problem_naming_file_and_key(
    tmp_path: Path, breakage: Callable[[Path], object], evidence: str
) -> None:
    folder = _folder(tmp_path)
    _folder(tmp_path, "valid-one")
    breakage(folder)
    tasks, problems = load_task_root(tmp_path, "mine")
    assert [t.id for t in tasks] == ["valid-one"]
    assert len(problems) == 1 and problems[0].task == "tiny-task"
    assert problems[0].rule == "format" and problems[0].evidence.startswith(evidence)
    assert "\n" not in problems[0].line()
    with pytest.raises(InvalidTask, match=f"^{re.escape(str(folder))}: ") as raised:
        load_task_dir(folder, "mine")
    assert raised.value.details == {"task_id": "tiny-task"}


def test_folder_names_are_task_ids_and_loose_files_are_reported(tmp_path: Path) -> None:
    _folder(tmp_path, "Receipt_Totals")
    (tmp_path / "half-made").mkdir()
    (tmp_path / "half-made" / "code.py").write_text("x = 1\n")
    (tmp_path / "notes").mkdir()  # no task file at all: not a task folder
    (tmp_path / ".hidden").mkdir()
    tasks, problems = load_task_root(tmp_path, "mine")
    assert tasks == []
    assert [p.line() for p in problems] == [
        "Receipt_Totals: format: folder name 'Receipt_Totals' is not a task id "
        "(lowercase letters, digits, '-')",
        "half-made: format: task.toml is missing",
    ]


def test_a_root_may_be_one_task_folder_but_not_nothing(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    tasks, problems = load_task_root(folder, "one")
    assert [t.id for t in tasks] == ["tiny-task"] and problems == []
    with pytest.raises(InvalidTask, match="not a directory"):
        load_task_root(tmp_path / "absent", "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidTask, match="no task folder in it"):
        load_task_root(tmp_path / "empty", "x")


def test_write_refuses_an_occupied_folder_unless_forced(tmp_path: Path) -> None:
    curated = load_curated()
    optimize = next(t for t in curated if t.benchmark)
    plain = next(t for t in curated if not t.benchmark)
    folder = write_task_dir(optimize, tmp_path)
    with pytest.raises(InvalidRequest, match="already exists and is not empty"):
        write_task_dir(optimize, tmp_path)
    # Forced, the folder is replaced: no stale benchmark.py is left to be read back.
    (folder / "benchmark.py").rename(tmp_path / "keep.py")
    renamed = plain.model_copy(update={"info": plain.info.model_copy(update={"id": folder.name})})
    shutil.copy(tmp_path / "keep.py", folder / "benchmark.py")
    write_task_dir(renamed, tmp_path, force=True)
    assert not (folder / "benchmark.py").exists()
    assert _as_split(load_task_dir(folder, "x"), "curated") == renamed


def test_write_refuses_what_the_loader_would_refuse(tmp_path: Path) -> None:
    task = load_curated()[0]
    info = task.info
    broken = {
        "not a task id": task.model_copy(
            update={"info": info.model_copy(update={"id": "../Bad Id"})}
        ),
        'conftest.py: only pytest-style tasks (tests = "pytest") have one': task.model_copy(
            update={"conftest": "import pytest\n"}
        ),
        "task.toml: module 'json' is reserved": task.model_copy(update={"module": "json"}),
        "benchmark.py is missing": task.model_copy(
            update={"info": info.model_copy(update={"kinds": ("optimize",)})}
        ),
    }
    write_task_dir(task, tmp_path)
    before = sorted(p.name for p in (tmp_path / task.id).iterdir())
    for message, bad in broken.items():
        with pytest.raises(InvalidTask, match=re.escape(message)):
            write_task_dir(bad, tmp_path, force=True)
    assert [p.name for p in tmp_path.iterdir()] == [task.id]  # nothing staged is left behind
    assert sorted(p.name for p in (tmp_path / task.id).iterdir()) == before


def test_the_committed_schema_is_current() -> None:
    committed = (ROOT / "docs" / "task.schema.json").read_text()
    assert committed == task_schema_json(), (
        "docs/task.schema.json is stale: python -c 'from python_env.tasks.directory import "
        'task_schema_json; print(task_schema_json(), end="")\' > docs/task.schema.json'
    )
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"title", "kinds", "difficulty", "max_steps", "instructions"}
    assert {"tests", "module", "source", "license", "attribution", "issues"} <= set(
        schema["properties"]
    )


def test_the_docs_show_every_file_of_the_example() -> None:
    doc = (ROOT / "docs" / "task-format.md").read_text()
    for path in sorted(EXAMPLE.iterdir()):
        fence = "toml" if path.suffix == ".toml" else "python"
        assert f"```{fence}\n{path.read_text()}```" in doc, f"{path.name} differs from the docs"


def test_a_generated_dataset_root_is_two_splits(tmp_path: Path) -> None:
    curated = load_curated()[:3]
    meta = {"injections": [], "source": "s", "group": "g"}
    records = [{**t.model_dump(mode="json"), "meta": meta} for t in curated]
    broken = {**records[2], "code": 5}
    write_dataset(tmp_path, {"train": records[:1], "test": [records[1], broken]}, {})
    tasks, problems = load_task_root(tmp_path, "gen")
    assert [(t.id, t.info.split) for t in tasks] == [
        (curated[0].id, "gen-train"), (curated[1].id, "gen-test")
    ]  # fmt: skip
    assert problems == [
        TaskProblem(
            curated[2].id, "format", "test.jsonl.gz: code: Input should be a valid string (got 5)"
        )
    ]
