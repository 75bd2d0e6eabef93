"""The shipped generated dataset: counts, split hygiene, validity, serving through the catalog,
and a small quality sample through the real grader (the full sample: benchmarks/)."""

from __future__ import annotations

import ast
import hashlib
import random
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from typing import Any

import pytest

from python_env.environment.env import PythonEnvironment
from python_env.environment.task_runner import TaskRunner
from python_env.tasks.catalog import default_catalog
from python_env.tasks.generate.dataset import (
    SPLITS,
    available,
    default_dir,
    read_manifest,
    read_records,
    split_file,
    to_task,
)
from python_env.types import Category, Difficulty, Suite, TaskKind

pytestmark = pytest.mark.skipif(not available(), reason="generated dataset not built")


@lru_cache(maxsize=1)
def records() -> dict[str, list[dict[str, Any]]]:
    return {s: read_records(split_file(default_dir(), s)) for s in SPLITS}


def fingerprint(code: str) -> str:
    """The source function behind a task, whatever was injected: its AST without docstrings."""
    return hashlib.sha256(ast.dump(ast.parse(code)).encode()).hexdigest()


def test_manifest_counts_match_the_files_and_reach_5000() -> None:
    manifest = read_manifest()
    data = records()
    assert manifest["total_tasks"] == sum(len(v) for v in data.values()) >= 5000
    for split in SPLITS:
        counts = manifest["splits"][split]
        assert counts["tasks"] == len(data[split])
        assert sum(counts["difficulty"].values()) == len(data[split])
        kinds = Counter(k for r in data[split] for k in r["info"]["kinds"])
        assert counts["kind"] == dict(sorted(kinds.items()))
        path = split_file(default_dir(), split)
        assert (
            manifest["files"][path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        )
    assert manifest["overlap"] == {"groups": 0, "sources": 0}
    test_share = len(data["test"]) / manifest["total_tasks"]
    assert 0.1 < test_share < 0.3


def test_splits_never_share_a_source_function() -> None:
    data = records()
    for key in ("source", "group"):
        train = {r["meta"][key] for r in data["train"]}
        test = {r["meta"][key] for r in data["test"]}
        assert train and test and not train & test, key
    # independent of the metadata: the reference code itself never crosses the split
    train_fix = {fingerprint(r["fix"].split("\n\n\n# ")[0]) for r in data["train"]}
    test_fix = {fingerprint(r["fix"].split("\n\n\n# ")[0]) for r in data["test"]}
    assert not train_fix & test_fix
    train_titles = {
        r["instructions"].split("\n")[0]
        for r in data["train"]
        if r["info"]["source"] != "humaneval"
    }
    test_titles = {
        r["instructions"].split("\n")[0] for r in data["test"] if r["info"]["source"] != "humaneval"
    }
    assert not train_titles & test_titles


def test_every_record_is_a_valid_task_with_an_exact_answer_key() -> None:
    for split, recs in records().items():
        ids = [r["info"]["id"] for r in recs]
        assert len(set(ids)) == len(ids)
        for rec in recs[:: max(1, len(recs) // 400)]:
            task = to_task(rec)
            assert task.info.split == split and task.code != task.fix
            lines = task.code.splitlines()
            assert len({i.id for i in task.issues}) == len(task.issues) >= 1
            for issue in task.issues:
                assert 1 <= issue.start_line <= issue.end_line <= len(lines)
                assert any(
                    lines[n - 1].strip() for n in range(issue.start_line, issue.end_line + 1)
                )
            assert set(task.info.categories) == {i.category for i in task.issues}
            assert task.has(TaskKind.OPTIMIZE) == bool(task.benchmark)
            assert (
                "def test_hidden_" in task.hidden_tests
                and "def test_visible_" in task.visible_tests
            )


def test_coverage_of_kinds_categories_and_difficulties() -> None:
    infos = [r["info"] for recs in records().values() for r in recs]
    assert {k for i in infos for k in i["kinds"]} == {k.value for k in TaskKind}
    assert {c for i in infos for c in i["categories"]} == {c.value for c in Category}
    assert {i["difficulty"] for i in infos} == {d.value for d in Difficulty}
    assert Counter(i["num_issues"] for i in infos)[1] < len(infos)  # composites exist
    for split in SPLITS:
        assert {i["difficulty"] for r in records()[split] for i in [r["info"]]} == {
            d.value for d in Difficulty
        }


def test_catalog_serves_the_splits_lazily_beside_the_curated_bank() -> None:
    code = (
        "import time; t = time.perf_counter()\n"
        "from python_env.tasks.catalog import default_catalog\n"
        "c = default_catalog(); built = time.perf_counter() - t\n"
        "print(round(built, 3), c.split_names())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, names = out.stdout.split(" ", 1)
    assert (
        float(seconds) < 1.0 and "'train'" in names and "'test'" in names and "'curated'" in names
    )
    catalog = default_catalog()
    test_task = catalog.at("test", 0)
    assert catalog.get(test_task.id) == test_task and test_task.info.split == "test"
    pick = catalog.select(3, split="test", kind=TaskKind.OPTIMIZE)
    assert pick.has(TaskKind.OPTIMIZE) and pick.info.split == "test"
    pick = catalog.select(3, split="train", category=Category.SECURITY, difficulty=Difficulty.EASY)
    assert Category.SECURITY in pick.info.categories and pick.info.difficulty is Difficulty.EASY
    assert catalog.size("train") + catalog.size("test") == read_manifest()["total_tasks"]
    assert catalog.get("bill-split-lost-cents").info.split == "curated"
    # without a split, seeded picks never draw from the held-out test split
    picks = {catalog.select(seed).info.split for seed in range(300)}
    assert "test" not in picks and "train" in picks


def test_environment_resets_onto_generated_tasks(builtin_env: PythonEnvironment) -> None:
    env = builtin_env
    obs = env.reset(split="test", index=5)
    assert obs.task.split == "test" and obs.task.id == default_catalog().at("test", 5).id
    assert env.num_tasks("test") == default_catalog().size("test")
    assert env.get_task("train", 0)["split"] == "train"
    obs = env.reset(seed=1, split="train", category="performance")
    assert "performance" in obs.task.categories


def test_quality_sample_reference_passes_and_the_bug_is_caught(runner: TaskRunner) -> None:
    pool = [r for recs in records().values() for r in recs]
    for rec in random.Random(2024).sample(pool, 12):
        task = to_task(rec)
        assert runner.run_tests(task, task.fix, Suite.HIDDEN).report.failed == 0, task.id
        assert runner.run_tests(task, task.fix, Suite.VISIBLE).report.failed == 0, task.id
        hidden = runner.run_tests(task, task.code, Suite.HIDDEN)
        if any(i.category is Category.BUG for i in task.issues):
            assert hidden.report.failed >= 1, task.id
            if task.has(TaskKind.REPAIR):
                assert runner.run_tests(task, task.code, Suite.VISIBLE).report.failed >= 1, task.id
        else:
            assert hidden.report.failed == 0, task.id
