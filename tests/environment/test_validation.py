"""Task validation (environment/validation.py): each rule is caught on a fixture task that breaks
it alone, with evidence naming where; a valid task and the curated bank break none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from python_env.config import Settings
from python_env.environment.task_runner import TaskRunner
from python_env.environment.validation import RULES, validate_tasks
from python_env.environment.validation_static import MAX_EVIDENCE, clock_reads
from python_env.sandbox import Executor, make_executor
from python_env.tasks.catalog import default_catalog
from python_env.tasks.directory import load_task_dir
from python_env.types import Task

BROKEN = Path(__file__).parents[1] / "fixtures" / "broken_tasks"
# What each broken task's evidence must name: the test, line, span or numbers at fault.
EVIDENCE = {
    "reference-passes": "test test_empty raised ZeroDivisionError: division by zero (+1 more)",
    "reference-stable": "hidden test_token, second run: returned '",
    "deterministic": "hidden test_tags, another hash seed: returned [",
    "original-fails": "passes every hidden test (1)",
    "span-in-file": "issue string-concatenation: span 7-8 is past the last line of code.py (3)",
    "span-not-blank": "issue magic-offset: line(s) 4-5 of code.py are blank",
    "rule-fires": "B006 fires only on line(s) 1 of code.py, not in 3-4",
    "no-wall-clock": "visible_tests.py line 7: time.perf_counter reads the clock (+1 more)",
    "speed-up": "costs 5004 counted operations on code.py, 2003 on fix.py: 2.5x, needs 3x",
    "servable": "the hidden suite has no test",
}
HASH_ORDER = "breaks-deterministic"


def broken_tasks() -> list[Task]:
    return [load_task_dir(f, split="fixtures") for f in sorted(BROKEN.iterdir())]


@pytest.fixture(scope="module")
def reseeded() -> Iterator[Executor]:
    """A second sandbox whose workers hash strings with another seed."""
    settings = Settings.from_env().sandbox
    executor = make_executor(settings.model_copy(update={"hash_seed": settings.hash_seed + 1}))
    yield executor
    executor.close()


def test_every_rule_has_a_broken_fixture_task() -> None:
    names = {t.id for t in broken_tasks()}
    assert names == {f"breaks-{rule}" for rule in RULES} | {"valid-task"}
    assert set(EVIDENCE) == set(RULES)


def test_each_broken_task_breaks_exactly_its_rule(runner: TaskRunner, reseeded: Executor) -> None:
    tasks = [t for t in broken_tasks() if t.id != HASH_ORDER]
    problems = validate_tasks(tasks, runner.executor, reseeded)
    expected = sorted((t.id, t.id.removeprefix("breaks-")) for t in tasks if t.id != "valid-task")
    assert sorted((p.task, p.rule) for p in problems) == expected, [p.line() for p in problems]
    for found in problems:
        assert EVIDENCE[found.rule] in found.evidence, found.line()
        assert len(found.evidence) <= MAX_EVIDENCE


def test_a_test_that_follows_hash_order_is_not_deterministic(
    runner: TaskRunner, reseeded: Executor
) -> None:
    [task] = [t for t in broken_tasks() if t.id == HASH_ORDER]
    problems = validate_tasks([task], runner.executor, reseeded)
    assert [(p.rule, EVIDENCE[p.rule] in p.evidence) for p in problems] == [("deterministic", True)]
    assert validate_tasks([task], runner.executor) == []  # no reseeded executor: not checked


def test_the_curated_bank_is_valid(runner: TaskRunner, reseeded: Executor) -> None:
    catalog = default_catalog()
    tasks = [catalog.get(info.id) for info in catalog.infos("curated")]
    problems = validate_tasks(tasks, runner.executor, reseeded)
    assert [p.line() for p in problems] == []


def test_clock_reads_resolve_imports_and_aliases() -> None:
    source = """
import time as t
import datetime
from datetime import date, datetime as dt
from time import perf_counter, monotonic_ns as mono, sleep


def test_clock():
    t.time()
    stamp = datetime.datetime.now
    return [perf_counter(), mono(), dt.utcnow(), date.today(), datetime.date.today()]


def test_no_clock():
    sleep(0)
    time = "12:00"
    return [t.gmtime(0), date(2024, 1, 1), dt(2024, 1, 1).isoformat(), time.upper()]
"""
    assert sorted(clock_reads(source)) == [
        (9, "time.time"),
        (10, "datetime.datetime.now"),
        (11, "datetime.date.today"),
        (11, "datetime.date.today"),
        (11, "datetime.datetime.utcnow"),
        (11, "time.monotonic_ns"),
        (11, "time.perf_counter"),
    ]
    assert list(clock_reads("def broken(:\n")) == []
