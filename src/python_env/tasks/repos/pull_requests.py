"""Pull requests to review: benign changes to a few modules, with or without a planted issue.

The head of a pull request is the snapshot with the same seeded benign changes applied to each
module it touches: one to three refactors of its logic (``refactors``), perhaps a small feature
(``features``: a parameter for a keyword the code passed a fixed value) and perhaps a tidying
change (``benign``: docstrings, renames, sorted imports). A planted issue is a mutant of one of
those modules, changed the same way, so its lines sit among the benign ones and only they are
the answer key; the description names its function as it names a refactored one, in sorted
lines, so neither the words nor their order point at it. A draft whose planted change cannot be
told apart from its benign ones (the two diffs overlap), lies outside any function, or stands
alone (nothing benign applies) is refused. The generator then runs the project's tests on the
head: a clean pull request must change no outcome, a planted one must break at least one test.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from python_env import syntax
from python_env.tasks.patches import changed_lines, unified_diff
from python_env.tasks.repo_task import PullRequest
from python_env.tasks.repos import refactors
from python_env.tasks.repos.benign import CHANGES, apply_changes
from python_env.tasks.repos.extract import extract_helper
from python_env.tasks.repos.features import expose_keyword
from python_env.tasks.repos.refactors import describe, refactor_order
from python_env.tasks.workspace import Workspace

TITLES = ("Tidy up {where}", "Clean up {where}", "Readability pass over {where}",
          "Small cleanups in {where}")  # fmt: skip
CLEAN_WORDS = "No behaviour change intended."
FEATURE_WORDS = "No other behaviour change intended."
# Share of modules that also get a small feature (``features``) when one fits.
FEATURE_SHARE = 0.5
# Logic changes a module gets at most: with more of them, flagging every changed line pays less.
MAX_REFACTORS = 3
LOGIC = {**refactors.CHANGES, "extract_helper": extract_helper}
FEATURES = {"keyword": expose_keyword}
# Lines a description has at least, clean or planted: a planted one has its own and a benign
# one, so a clean pull request of one change would always be clean.
MIN_LINES = 2


@dataclass(frozen=True)
class Draft:
    """A pull request's head tree and words, and where its planted issue is (if any)."""

    head: Workspace
    reference: Workspace  # the head without the planted change (the head, if it has none)
    pull_request: PullRequest
    changes: int  # the description's lines: one per kind of change to each module
    issue_path: str = ""
    issue_lines: tuple[int, int] = (0, 0)  # first and last head line of the planted change


def draft(
    base: Workspace,
    modules: Sequence[str],
    rng: random.Random,
    planted: tuple[str, str] | None = None,
) -> Draft | None:
    """A pull request over ``modules`` (paths in ``base``); ``planted`` = (path, mutant text of
    that module), which must be one of ``modules``. None when no benign change applies, or the
    planted change cannot be located apart from the benign ones, or is outside any function
    (its line in the description names the function, as a refactor's does)."""
    if planted is not None and planted[0] not in modules:
        raise ValueError("the planted module must be one of the pull request's modules")
    heads: dict[str, str | None] = {}
    references: dict[str, str | None] = {}
    said: list[str] = []
    issue_path, issue_lines = "", (0, 0)
    benign_lines = 0
    featured = False
    for path in sorted(modules):
        here = planted is not None and path == planted[0]
        edit = _edit(rng, here)
        benign, lines, added = edit(base[path])
        featured |= added
        head = benign
        if planted is not None and here:
            head, again, _ = edit(planted[1])
            span = _planted_span(benign, head, path)
            function = enclosing_function(head, span[0]) if span else ""
            if again != lines or span is None or not function:
                return None
            issue_path, issue_lines = path, span
            benign_lines += len(lines)
            lines += [describe(function)] if describe(function) not in lines else []
        else:
            benign_lines += len(lines)
        if not lines:
            continue
        heads[path], references[path] = head, benign
        said += [f"- `{path}`: {line}" for line in sorted(lines)]  # sorted: no line's place tells
    if not benign_lines or len(said) < MIN_LINES or (planted is not None and not issue_path):
        return None  # a planted change alone, or a clean one-liner, would say which it is
    head_tree = base.updated(heads)
    where = _where(sorted(heads))
    title = rng.choice(TITLES).format(where=where)
    closing = FEATURE_WORDS if featured else CLEAN_WORDS
    description = "\n".join([f"This pull request tidies {where}:", "", *said, "", closing])
    pr = PullRequest(title=title, description=description, diff=unified_diff(base, head_tree))
    return Draft(head_tree, base.updated(references), pr, len(said), issue_path, issue_lines)


def _edit(rng: random.Random, planted: bool) -> Callable[[str], tuple[str, list[str], bool]]:
    """One module's benign changes, drawn with ``rng``, the same whichever text they are applied
    to (the module, or its mutant): perhaps a small feature, one to three changes to its logic,
    the planted one counting as one (it is described as a refactor), and at most one tidying
    change (one, if nothing else changes the module). The edit returns the new text, its
    description's lines and whether a feature is among them."""
    logic = refactor_order(LOGIC, rng)  # tried in this order
    tidy = rng.sample(sorted(CHANGES), len(CHANGES))
    logic_changes, tidying = rng.randint(1, MAX_REFACTORS) - planted, rng.randint(0, 1)
    seed = rng.getrandbits(32)
    features = rng.sample(sorted(FEATURES), len(FEATURES)) if rng.random() < FEATURE_SHARE else []

    def edit(code: str) -> tuple[str, list[str], bool]:
        changes = random.Random(seed)
        code, added = apply_changes(code, features, changes, 1, FEATURES)
        code, said = apply_changes(code, logic, changes, logic_changes, LOGIC)
        least = 0 if said or added or planted else 1
        code, more = apply_changes(code, tidy, changes, max(tidying, least))
        return code, added + said + more, bool(added)

    return edit


def enclosing_function(code: str, line: int) -> str:
    """The qualified name of the innermost function holding ``line`` ("" outside functions)."""

    def walk(nodes: Sequence[ast.stmt], prefix: str) -> str:
        for node in nodes:
            scope = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if scope and node.lineno <= line <= (node.end_lineno or node.lineno):
                assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                name = f"{prefix}{node.name}"
                inner = walk(node.body, f"{name}.")
                return inner or ("" if isinstance(node, ast.ClassDef) else name)
        return ""

    return walk(syntax.parse(code).body, "")


def _planted_span(benign: str, head: str, path: str) -> tuple[int, int] | None:
    """The head lines the planted change touches, if they form one contiguous block."""
    lines = changed_lines(unified_diff(Workspace({path: benign}), Workspace({path: head})))
    touched = sorted(lines.get(path, ()))
    if not touched or touched[-1] - touched[0] > 12:
        return None
    return touched[0], touched[-1]


def _where(paths: Sequence[str]) -> str:
    names = [p.rsplit("/", 1)[-1].removesuffix(".py") for p in paths]
    return f"`{names[0]}`" if len(names) == 1 else ", ".join(f"`{n}`" for n in names)
