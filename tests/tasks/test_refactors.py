"""Logic refactors of a pull request keep what code does; the same refactors done wrong (the
``refactor`` injector family) change it."""

from __future__ import annotations

import itertools
import random

import pytest

from python_env.tasks.generate.compose import single
from python_env.tasks.generate.injectors import REGISTRY, load_all
from python_env.tasks.generate.injectors.base import Scan
from python_env.tasks.repos.pull_requests import LOGIC
from python_env.tasks.repos.refactors import CHANGES, PHRASES, describe, parse

CODE = """
def classify(x, y, items):
    if not (x > 0 and y is None):
        kind = "other"
    else:
        kind = "pos"
    if x in items:
        if y == None:
            return kind + "-listed"
    if not x < y if y is not None else False:
        return "ge"
    if x >= 0:
        return kind
    else:
        return "neg"


class Box:
    def pick(self, a, b):
        if not a or not b:
            return min(a, b) if a <= b else max(a, b)
        else:
            return (a - b) * 2 + len(str(abs(a))) - b % 3
"""
INPUTS = [-2, 0, 3, 7]


def _behaviour(code: str) -> list[object]:
    names: dict[str, object] = {}
    exec(compile(code, "m.py", "exec"), names)
    classify, box = names["classify"], names["Box"]()  # type: ignore[operator]
    out: list[object] = []
    for x, y in itertools.product(INPUTS, [*INPUTS, None]):
        out.append(classify(x, y, [3]))  # type: ignore[operator]
        out.append(box.pick(x, 0 if y is None else y))  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", sorted(LOGIC))
def test_a_refactor_changes_the_code_but_not_what_it_does(name: str, seed: int) -> None:
    result = LOGIC[name](CODE, random.Random(seed))
    assert result is not None, f"{name} found no site"
    new, said = result
    assert new != CODE
    assert _behaviour(new) == _behaviour(CODE)
    assert said in {describe("classify"), describe("Box.pick")} or said.startswith("Extract `_")


def test_refactors_stay_out_of_module_level_code_and_leave_constants_on_the_right() -> None:
    code = "LIMIT = 3 if 1 < 2 else 4\n\ndef f(n):\n    return n < 10\n"
    assert (
        CHANGES["flip_comparison"](code, random.Random(0)) is None
    )  # module level; ``10 > n`` reads badly
    two = "def f(a, b):\n    return a < b\n"
    assert CHANGES["flip_comparison"](two, random.Random(0)) == ("def f(a, b):\n    return b > a\n",
                                                       describe("f"))  # fmt: skip


def test_an_extracted_helper_takes_the_local_names_it_reads_and_sits_above_the_class() -> None:
    new, said = LOGIC["extract_helper"](CODE, random.Random(0)) or ("", "")
    assert said == "Extract `_pick_value` from `Box.pick`."
    assert (
        "def _pick_value(a, b):\n    return (a - b) * 2 + len(str(abs(a))) - b % 3\n\n\nclass Box"
        in new
    )
    assert "return _pick_value(a, b)" in new  # len, str and abs are read by the helper itself


def test_every_phrase_is_used_and_a_function_always_gets_the_same_one() -> None:
    names = [f"func_{n}" for n in range(40)]
    assert {describe(n).replace(n, "{}") for n in names} == set(PHRASES)
    assert [describe(n) for n in names] == [describe(n) for n in names]


BROKEN = """
def classify(x, y, items):
    if not (x > 0 and y is None):
        label = "other"
    else:
        label = "pos"
    if x in items:
        if y is not None:
            label = label + "-listed"
    else:
        label = label + "-new"
    if not y:
        label = label + "-no-y"
    if x >= 0:
        label = label + "+"
    else:
        label = label + "-"
    if y is not None and x < y:
        return label + "<"
    return label
"""


def _classify(code: str) -> list[object]:
    names: dict[str, object] = {}
    exec(compile(code, "m.py", "exec"), names)
    classify = names["classify"]
    pairs = itertools.product([*INPUTS, 3], [*INPUTS, None])
    return [classify(x, y, [3]) for x, y in pairs]  # type: ignore[operator]


BROKEN_REFACTORS = sorted(n for n, i in load_all().items() if i.family == "refactor")


@pytest.mark.parametrize("name", BROKEN_REFACTORS)
def test_a_refactor_done_wrong_changes_behaviour_at_every_site(name: str) -> None:
    scan = Scan.of(BROKEN, "")
    sites = REGISTRY[name].find(scan)
    assert sites, f"{name} found no site"
    for n, site in enumerate(sites):
        candidate = single(scan, site, f"r{n}")
        assert candidate is not None
        assert _classify(candidate.code) != _classify(BROKEN), (name, candidate.code)
        assert (
            candidate.components[0].explanation and "{" not in candidate.components[0].explanation
        )


def test_a_refactor_done_wrong_has_the_shape_of_the_right_one() -> None:
    code = "def f(a, b):\n    return a < b\n"
    scan = Scan.of(code, "")
    (site,) = REGISTRY["broken_flip"].find(scan)
    right = CHANGES["flip_comparison"](code, random.Random(0))
    assert right is not None and right[0] == code.replace("a < b", "b > a")
    assert (single(scan, site, "r") or pytest.fail("no mutant")).code == code.replace(
        "a < b", "b >= a"
    )


def test_a_nested_conditional_or_lambda_branch_keeps_its_meaning() -> None:
    code = "def f(c, d):\n    g = 1 if c else lambda: 2\n    return 1 if c else 2 if d else 3, g\n"
    for seed in range(6):
        new, _ = LOGIC["swap_ternary"](code, random.Random(seed)) or ("", "")
        for c, d in itertools.product([True, False], repeat=2):
            old_value, new_value = _call(code, c, d), _call(new, c, d)
            assert old_value[0] == new_value[0] and callable(old_value[1]) == callable(new_value[1])


def _call(code: str, *args: object) -> tuple[object, object]:
    names: dict[str, object] = {}
    exec(compile(code, "m.py", "exec"), names)
    return names["f"](*args)  # type: ignore[operator,no-any-return]


def test_rewrites_need_no_space_the_source_left_out() -> None:
    code = "def f(a, b):\n    if(a and b):\n        return 1\n    else:\n        return 2\n"
    for name in ("swap_branches", "de_morgan"):
        for seed in range(4):
            new, _ = LOGIC[name](code, random.Random(seed)) or (code, "")
            assert [_call(new, a, b) for a in (0, 1) for b in (0, 1)] == [
                _call(code, a, b) for a in (0, 1) for b in (0, 1)
            ]


def test_a_rewrite_still_applies_after_its_tree_left_the_parse_cache() -> None:
    code = "def f(a, b):\n    return a < b\n"
    assert LOGIC["flip_comparison"](code, random.Random(0)) is not None  # sites cached
    for n in range(80):
        parse(f"x = {n}\n")  # evicts ``code``'s tree from the parse cache
    new, _ = LOGIC["flip_comparison"](code, random.Random(0)) or (code, "")
    assert "b > a" in new


def test_no_helper_reads_a_private_name_or_a_local_that_may_be_unbound() -> None:
    code = (
        "class Box:\n    def size(self, extra):\n        return self.__secret * 2 + extra * 3\n\n\n"
        "def first(items, limit):\n    for item in items:\n        pass\n"
        "    return items and item.real > limit + len(items)\n"
    )
    assert LOGIC["extract_helper"](code, random.Random(0)) is None
