"""Small features of a pull request: existing calls behave as before, the new choice is there,
and code whose behaviour or layout would not stay as it was is left alone."""

from __future__ import annotations

import random
from typing import Any

from python_env.tasks.repos.features import expose_keyword
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


def reads_locals(items):
    ordered = sorted(items, reverse=True)
    return ordered, sorted(locals())


def outer(items):
    def inner(more):
        return sorted(more, reverse=True)

    return inner(items)


class Table:
    @staticmethod
    def rows(items):
        return sorted(items, key=len)

    @property
    def width(self):
        return max(self.cells, default=0)
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
        if result is not None:  # None: the pick would make a line too long
            made[result[1]] = result[0]
    return made


def test_an_exposed_keyword_keeps_existing_calls_and_adds_the_choice() -> None:
    made = _all_changes(expose_keyword, CODE)
    assert set(made) == {
        "Let callers of `dump` choose `indent` (default `2`).",
        "Let callers of `dump` choose `sort_keys` (default `True`).",
        "Let callers of `order` choose `reverse` (default `True`).",
    }  # not: private, two literals, **options, a name in use, locals(), nested, decorated

    before = _load(CODE)
    for new in made.values():
        after = _load(new)
        assert after["dump"]({"b": 1, "a": [2]}, True) == before["dump"]({"b": 1, "a": [2]}, True)
        assert after["dump"]({"b": 1}, False) == before["dump"]({"b": 1}, False)
        assert after["order"]([2, 3, 1]) == before["order"]([2, 3, 1])
    order = _load(made["Let callers of `order` choose `reverse` (default `True`)."])["order"]
    assert order([2, 3, 1], reverse=False) == [1, 2, 3]
    assert "def order(items, *, reverse=True):" in made[next(k for k in made if "`order`" in k)]


def test_a_pull_request_with_a_feature_says_so_and_one_without_does_not() -> None:
    base = Workspace({"pkg/core.py": CODE})
    closings = {FEATURE_WORDS: 0, CLEAN_WORDS: 0}
    for seed in range(30):
        made = draft(base, ["pkg/core.py"], random.Random(seed))
        if made is None:
            continue
        text = made.pull_request.description
        featured = "Let callers of" in text
        closing = text.splitlines()[-1]
        assert closing == (FEATURE_WORDS if featured else CLEAN_WORDS)
        closings[closing] += 1
    assert all(count >= 3 for count in closings.values())  # both kinds are drafted


def test_only_one_line_signatures_grow_and_never_past_the_line_limit() -> None:
    code = (
        "def spread(x, *args):\n    return place(x, *args, size=3)\n\n\n"
        "def typed(data: bytes) -> list:\n    return data.split(sep=b',')\n\n\n"
        "def laid_out(\n    items,\n):\n    return sorted(items, reverse=True)\n\n\n"
        "def trailing(items,):\n    return sorted(items, reverse=True)\n\n\n"
        f"def {'a_very_long_name_' * 4}(first, second):\n    return g(first, flag=True)\n"
    )
    made = _all_changes(expose_keyword, code)
    assert set(made) == {
        "Let callers of `spread` choose `size` (default `3`).",
        "Let callers of `typed` choose `sep` (default `b','`).",
    }
    spread = made["Let callers of `spread` choose `size` (default `3`)."]
    assert "def spread(x, *args, size=3):" in spread and "size=size)" in spread
    typed = made["Let callers of `typed` choose `sep` (default `b','`)."]
    assert "def typed(data: bytes, *, sep: bytes = b',') -> list:" in typed
