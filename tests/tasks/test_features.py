"""Small features of a pull request: existing calls behave as before, the new behaviour is there,
and code that would not stay the same is left alone."""

from __future__ import annotations

import random
from typing import Any

from python_env.tasks.repos.features import add_repr, expose_keyword
from python_env.tasks.repos.pull_requests import CLEAN_WORDS, FEATURE_WORDS, draft
from python_env.tasks.workspace import Workspace

CODE = """
import json


def dump(value, pretty):
    if pretty:
        return json.dumps(value, indent=2, sort_keys=True)
    return json.dumps(value, sort_keys=True)


def order(items):
    return sorted(items, reverse=True)


def _private(items):
    return sorted(items, reverse=True)


def mixed(items):
    return sorted(items, reverse=True) + sorted(items, reverse=False)


def passes_on(items, **options):
    return sorted(items, reverse=True, **options)


def shadowed(items, reverse):
    return sorted(items, reverse=True)[: len(reverse)]


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm(self):
        return abs(self.x) + abs(self.y)


class Shown:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Shown"


class Derived(dict):
    def __init__(self, name):
        self.name = name


class Partial:
    def __init__(self, name, size):
        self.name = name
        self.size = size * 2
"""


def _load(code: str) -> dict[str, Any]:
    space: dict[str, Any] = {}
    exec(compile(code, "<module>", "exec"), space)
    return space


def _all_changes(change: Any, code: str) -> dict[str, str]:
    """Every distinct change ``change`` makes to ``code`` over many seeds, by description."""
    made: dict[str, str] = {}
    for seed in range(40):
        result = change(code, random.Random(seed))
        assert result is not None
        made[result[1]] = result[0]
    return made


def test_an_exposed_keyword_keeps_existing_calls_and_adds_the_choice() -> None:
    made = _all_changes(expose_keyword, CODE)
    assert set(made) == {
        "Let callers of `dump` choose `indent` (default `2`).",
        "Let callers of `dump` choose `sort_keys` (default `True`).",
        "Let callers of `order` choose `reverse` (default `True`).",
    }  # not: a private function, two literals, **options, a name already in use
    before = _load(CODE)
    for new in made.values():
        after = _load(new)
        assert after["dump"]({"b": 1, "a": [2]}, True) == before["dump"]({"b": 1, "a": [2]}, True)
        assert after["dump"]({"b": 1}, False) == before["dump"]({"b": 1}, False)
        assert after["order"]([2, 3, 1]) == before["order"]([2, 3, 1])
    order = _load(made["Let callers of `order` choose `reverse` (default `True`)."])["order"]
    assert order([2, 3, 1], reverse=False) == [1, 2, 3]
    assert "def order(items, *, reverse=True):" in made[next(k for k in made if "`order`" in k)]


def test_a_repr_shows_the_stored_fields_of_plain_classes_only() -> None:
    made = _all_changes(add_repr, CODE)
    assert list(made) == ["Add a readable `repr` to `Point`."]
    point = _load(next(iter(made.values())))["Point"](1, -2)
    assert repr(point) == "Point(x=1, y=-2)" and point.norm() == 3
    assert repr(_load(CODE)["Point"](1, -2)).startswith("<")  # it had none before
    assert add_repr("class Empty:\n    pass\n", random.Random(0)) is None


def test_a_pull_request_with_a_feature_says_so_and_one_without_does_not() -> None:
    base = Workspace({"pkg/core.py": CODE})
    closings = {FEATURE_WORDS: 0, CLEAN_WORDS: 0}
    for seed in range(30):
        made = draft(base, ["pkg/core.py"], random.Random(seed))
        if made is None:
            continue
        text = made.pull_request.description
        featured = "Let callers of" in text or "readable `repr`" in text
        closing = text.splitlines()[-1]
        assert closing == (FEATURE_WORDS if featured else CLEAN_WORDS)
        closings[closing] += 1
    assert all(count >= 3 for count in closings.values())  # both kinds are drafted


def test_a_new_parameter_follows_the_signature_s_layout_and_annotations() -> None:
    code = (
        "def encode(\n    payload: bytes,\n    sort: bool = True,\n) -> str:\n"
        "    return dumps(payload, sort, encoding=True)\n\n\n"
        "def spread(x, *args):\n    return place(x, *args, size=3)\n"
    )
    made = _all_changes(expose_keyword, code)
    assert made["Let callers of `encode` choose `encoding` (default `True`)."] == code.replace(
        "    sort: bool = True,\n)", "    sort: bool = True,\n    *,\n    encoding: bool = True,\n)"
    ).replace("encoding=True)", "encoding=encoding)")
    spread = made["Let callers of `spread` choose `size` (default `3`)."]
    assert "def spread(x, *args, size=3):" in spread and "size=size)" in spread
