"""Benign pull-request changes: they apply where they can and never change what code does."""

from __future__ import annotations

import random

import pytest

from python_env.tasks.repos.benign import CHANGES, add_docstrings, rename_local, sort_imports

CODE = """from __future__ import annotations
import sys
import json
import collections

TOTAL = 0


def summarise(items, scale=1):
    res = collections.Counter()
    for i in items:
        res[i] += scale
    return json.dumps(sorted(res.items()))


def counter():
    n = 0
    def bump():
        nonlocal n
        n += 1
        return n
    return bump


def tally(x):
    global TOTAL
    TOTAL += x
    return TOTAL


def peek(v):
    s = str(v)
    return locals()["s"]
"""


def _run(code: str) -> list[object]:
    names: dict[str, object] = {"__name__": "m"}
    exec(compile(code, "m.py", "exec"), names)
    bump = names["counter"]()  # type: ignore[operator]
    return [names["summarise"]("abca", 2), bump(), bump(), names["tally"](3),  # type: ignore[operator]
            names["peek"](5)]  # type: ignore[operator]  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_keeps_behaviour(name: str, seed: int) -> None:
    result = CHANGES[name](CODE, random.Random(seed))
    assert result is not None
    new, said = result
    assert new != CODE and said
    assert _run(new) == _run(CODE)


def test_rename_leaves_parameters_globals_nonlocals_and_dynamic_functions_alone() -> None:
    renamed = {rename_local(CODE, random.Random(seed))[1] for seed in range(30)}  # type: ignore[index]
    assert renamed <= {"Rename `res` to `result` in `summarise`.",
                       "Rename `i` to `index` in `summarise`."}  # fmt: skip


def test_imports_sorted_with_future_first_and_docstrings_only_where_missing() -> None:
    new, _ = sort_imports(CODE, random.Random(0)) or ("", "")
    assert new.startswith("from __future__ import annotations\nimport collections\nimport json\n")
    assert sort_imports(new, random.Random(0)) is None
    documented, said = add_docstrings(CODE, random.Random(0), most=9) or ("", "")
    assert documented.count('"""') == 2 * 5 and "`summarise`" in said
    assert add_docstrings(documented, random.Random(0)) is None
