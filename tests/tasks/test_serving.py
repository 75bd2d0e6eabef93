"""Task directories as splits: TASKS_DIRS in the settings, and the catalog a server serves."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from python_env.config import Settings
from python_env.errors import ConfigError, InvalidTask
from python_env.tasks.catalog import serving_catalog
from python_env.tasks.curated import load_curated
from python_env.tasks.directory import write_task_dir
from python_env.tasks.generate.dataset import write_dataset
from python_env.types import Task, TaskProblem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "receipt-totals"


def test_tasks_dirs_are_named_splits_and_round_trip(tmp_path: Path) -> None:
    env = {"TASKS_DIRS": f"{tmp_path / 'mine'}{os.pathsep}exam={tmp_path / 'b'}, ~/c/"}
    settings = Settings.from_env(env)
    dirs = [(d.split, d.path) for d in settings.catalog.task_dirs]
    assert dirs == [
        ("mine", tmp_path / "mine"), ("exam", tmp_path / "b"), ("c", Path.home() / "c")
    ]  # fmt: skip
    assert Settings.from_env(settings.to_env()) == settings
    more = settings.with_task_dirs(("extra=relative/dir",))
    assert more.catalog.task_dirs[-1].path == Path.cwd() / "relative" / "dir"
    assert more.catalog.task_dirs[:3] == settings.catalog.task_dirs
    assert Settings.from_env({}).catalog.task_dirs == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/data/curated", "cannot be the split 'curated' (a built-in split's name)"),
        ("test=/data/x", "cannot be the split 'test'"),
        ("/a/tasks:/b/tasks", "two directories would be the split 'tasks': name them, NAME=DIR"),
        ("my tasks=/data/x", "cannot be the split 'my tasks' (a name is letters, digits"),
    ],
)
def test_a_split_name_that_clashes_is_a_config_error(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="TASKS_DIRS: ") as raised:
        Settings.from_env({"TASKS_DIRS": value})
    assert message in str(raised.value)
    with pytest.raises(ConfigError, match="built-in split"):
        Settings.from_env({}).with_task_dirs(("/x/train",))


def _root(tmp_path: Path, name: str, *tasks: Task) -> Path:
    root = tmp_path / name
    for task in tasks:
        write_task_dir(task, root)
    return root


def test_each_directory_is_a_split_and_bad_tasks_are_left_out(tmp_path: Path) -> None:
    curated = load_curated()
    renamed = [
        t.model_copy(update={"info": t.info.model_copy(update={"id": f"my-{t.id}"})})
        for t in curated[:3]
    ]
    mine = _root(tmp_path, "mine", *renamed, curated[3])  # the curated one: an id served already
    shutil.copytree(EXAMPLE, mine / "receipt-totals")
    (mine / "receipt-totals" / "task.toml").write_text("title = 1\n")
    other = _root(tmp_path, "other", renamed[0])  # served by "mine" already
    shutil.copytree(EXAMPLE, other / "receipt-totals")
    checked: list[str] = []

    def check(tasks: Sequence[Task]) -> list[TaskProblem]:
        checked.extend(t.id for t in tasks)
        return [TaskProblem(renamed[1].id, "reference-passes", "fix.py fails test_x")]

    settings = Settings.from_env({"TASKS_DIRS": f"{mine},theirs={other}"})
    catalog, problems = serving_catalog(settings.catalog, check)
    assert catalog.split_names() == ["curated", "train", "test", "mine", "theirs"]
    assert [t.id for t in catalog.infos("mine")] == [renamed[0].id, renamed[2].id]
    assert [t.id for t in catalog.infos("theirs")] == ["receipt-totals"]
    assert catalog.get("receipt-totals").info.split == "theirs"
    assert checked == [renamed[0].id, renamed[1].id, renamed[2].id, "receipt-totals"]
    assert [(p.task, p.rule) for p in problems] == [
        ("receipt-totals", "format"), (curated[3].id, "format"), (renamed[0].id, "format"),
        (renamed[1].id, "reference-passes"),
    ]  # fmt: skip
    assert problems[0].evidence.startswith("task.toml: title: Input should be a valid string")
    assert problems[1].evidence == "id already served by split 'curated'"
    assert problems[2].evidence == "id already served by split 'mine'"


def test_a_directory_left_empty_is_still_a_split(tmp_path: Path) -> None:
    root = _root(tmp_path, "mine", load_curated()[0])  # an id curated serves
    settings = Settings.from_env({"TASKS_DIRS": str(root), "PYTHON_ENV_SPLITS": "curated"})
    catalog, problems = serving_catalog(settings.catalog)
    assert catalog.split_names() == ["curated", "mine"] and catalog.size("mine") == 0
    assert len(problems) == 1
    missing = Settings.from_env({"TASKS_DIRS": str(tmp_path / "absent")})
    with pytest.raises(InvalidTask, match="absent: not a directory"):
        serving_catalog(missing.catalog)


def test_a_generated_dataset_is_served_with_its_test_split_held_out(tmp_path: Path) -> None:
    tasks = [
        t.model_copy(update={"info": t.info.model_copy(update={"id": f"gen-{t.id}"})})
        for t in load_curated()[:4]
    ]
    meta = {"injections": [], "source": "s", "group": "g"}
    records = [{**t.model_dump(mode="json"), "meta": meta} for t in tasks]
    write_dataset(tmp_path / "gen", {"train": records[:1], "test": records[1:]}, {})
    settings = Settings.from_env(
        {"TASKS_DIRS": str(tmp_path / "gen"), "PYTHON_ENV_SPLITS": "curated"}
    )
    catalog, problems = serving_catalog(settings.catalog)
    assert problems == [] and catalog.split_names() == ["curated", "gen-train", "gen-test"]
    assert catalog.size("gen-test") == 3
    picks = {catalog.select(seed).info.split for seed in range(200)}
    assert picks == {"curated", "gen-train"}  # never the held-out split unless asked by name
    assert catalog.select(0, split="gen-test").info.split == "gen-test"
