"""Pull-request drafts: benign changes around a planted one, which alone is the answer key."""

from __future__ import annotations

import random

import pytest

from python_env.tasks.repos.pull_requests import CLEAN_WORDS, draft
from python_env.tasks.repos.refactors import describe
from python_env.tasks.workspace import Workspace

CORE = (
    "import sys\nimport os\n\n"
    "def summarise(items, scale=1):\n    res = {}\n    for i in items:\n"
    "        res[i] = res.get(i, 0) + scale\n    return sorted(res.items())\n\n"
    "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n\n"
    "def sign(n):\n    if n < 0:\n        return -1\n    else:\n        return 1\n"
)
UTIL = "def helper_fn(a):\n    tmp = a * 2\n    return tmp\n"
BASE = Workspace({"pkg/__init__.py": "", "pkg/core.py": CORE, "pkg/util.py": UTIL})
BUG = CORE.replace("s += x", "s -= x")


@pytest.mark.parametrize("seed", range(6))
def test_the_planted_lines_are_located_in_the_head(seed: int) -> None:
    made = draft(BASE, ["pkg/core.py", "pkg/util.py"], random.Random(seed), ("pkg/core.py", BUG))
    assert made is not None
    head = made.head["pkg/core.py"].splitlines()
    first, last = made.issue_lines
    assert made.issue_path == "pkg/core.py" and first == last
    assert " -= " in head[first - 1]  # s and x may be renamed too
    assert "+" + head[first - 1] in made.pull_request.diff.splitlines()
    assert CLEAN_WORDS in made.pull_request.description
    assert made.head["pkg/__init__.py"] == ""  # untouched files stay as they were


def test_a_clean_pull_request_is_reproducible_and_has_no_issue() -> None:
    one = draft(BASE, ["pkg/core.py"], random.Random(3))
    two = draft(BASE, ["pkg/core.py"], random.Random(3))
    assert one is not None and one == two
    assert one.issue_path == "" and one.head != BASE


def test_the_planted_module_must_be_in_the_pull_request() -> None:
    with pytest.raises(ValueError, match="planted module"):
        draft(BASE, ["pkg/util.py"], random.Random(0), ("pkg/core.py", BUG))


def test_the_planted_function_is_described_like_a_refactor_and_lines_are_sorted() -> None:
    bug = ("pkg/core.py", BUG)
    drafts = [draft(BASE, ["pkg/core.py"], random.Random(s), bug) for s in range(12)]
    assert sum(made is not None for made in drafts) >= 8  # refused when nothing benign applies
    for made in filter(None, drafts):
        lines = [line for line in made.pull_request.description.splitlines() if line[:2] == "- "]
        assert lines == sorted(lines) and made.changes == len(lines)
        assert describe("total") in made.pull_request.description  # the planted function
        assert made.reference["pkg/core.py"] != made.head["pkg/core.py"]
        assert " -= " not in made.reference["pkg/core.py"]  # the head without the bug


def test_a_planted_change_with_nothing_benign_around_it_is_refused() -> None:
    bare = "def total(xs):\n    '''Sum.'''\n    return sum(xs)\n"
    base = Workspace({"pkg/core.py": bare})
    bug = ("pkg/core.py", bare.replace("sum(xs)", "sum(xs) + 1"))
    assert draft(base, ["pkg/core.py"], random.Random(0)) is None  # no clean one either
    assert all(draft(base, ["pkg/core.py"], random.Random(s), bug) is None for s in range(8))


def test_clean_pull_requests_change_logic_not_only_words() -> None:
    logic = 0
    for seed in range(20):
        made = draft(BASE, ["pkg/core.py", "pkg/util.py"], random.Random(seed))
        assert made is not None
        logic += any(describe(f) in made.pull_request.description for f in ("sign", "total"))
    assert logic >= 15  # most carry a refactor a reviewer must check, as planted ones do


def test_every_description_has_two_lines_at_least_clean_or_planted() -> None:
    drafts = [draft(BASE, ["pkg/core.py"], random.Random(s)) for s in range(20)]
    drafts += [
        draft(BASE, ["pkg/core.py"], random.Random(s), ("pkg/core.py", BUG)) for s in range(20)
    ]
    assert all(made.changes >= 2 for made in drafts if made is not None)
    assert sum(made is not None for made in drafts) >= 20
