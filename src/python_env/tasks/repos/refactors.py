"""Refactors a pull request makes that change how code reads but not what it does.

If a pull request's benign changes were only docstrings, renames and sorted imports, its one
changed condition would be the planted bug, whatever it said: the diff's shape would answer the
review. These rewrite logic (conditions, branches, comparisons) at one seeded site inside a
function, so a reviewer has to read every changed line and decide whether it still means the
same. Each is exact in Python's semantics, except two that rely on a type's operators being
consistent (``flip_comparison``: ``a < b`` is ``b > a``; ``is_none``: ``x == None`` is ``x is
None``), as in all code these projects ship; the generator runs the project's tests on every
head and drops one that changes an outcome anyway.

Each refactor is a ``Refactor`` (which nodes it applies to, how it rewrites one); ``CHANGES``
holds them as changes (``benign.Change``): the module's text and a seeded ``random.Random`` in,
the new text and the pull request's line about it (``describe``) out, or None when no site
applies. A module's sites are found in one pass and cached by its text, as are the rewrites:
a project's modules are drafted on again and again, and libcst trees are immutable.
"""

from __future__ import annotations

import functools
import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors.bugs_refactor import (
    ends_in_exit,
    flippable,
    flipped,
    is_not,
    negated,
    parenthesised,
    short,
)

Rewrite = Callable[[Any], cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement]]
Change = Callable[[str, random.Random], tuple[str, str] | None]
# One phrase per function (chosen by its name), so two changes to one function read as one line
# and the planted change's line reads like any refactor's.
PHRASES = ("Simplify `{}`.", "Streamline the logic of `{}`.", "Tidy up `{}`.",
           "Restructure `{}` for readability.")  # fmt: skip


_SPACE = cst.SimpleWhitespace(" ")


@dataclass(frozen=True)
class Refactor:
    """A rewrite of one node of type ``kind`` for which ``site`` holds, inside a function (and,
    with ``statement``, directly in a block's body: it may become several statements)."""

    kind: type[cst.CSTNode]
    site: Callable[[Any], bool]
    rewrite: Rewrite
    statement: bool = False


@functools.lru_cache(maxsize=64)
def parse(code: str) -> cst.Module:
    """The module's tree, shared by every change tried on the same text."""
    return cst.parse_module(code)


def describe(function: str) -> str:
    """The pull request's line about a change to ``function`` (a qualified name)."""
    return PHRASES[zlib.crc32(function.encode()) % len(PHRASES)].format(function)


# -- the refactors --------------------------------------------------------------------------


def _de_morgan_site(node: cst.If) -> bool:
    test = node.test
    if is_not(test):
        return isinstance(test.expression, cst.BooleanOperation)  # type: ignore[attr-defined]
    return isinstance(test, cst.BooleanOperation) and is_not(test.left) and is_not(test.right)


def _de_morgan(node: cst.If) -> cst.If:
    """``if not (a and b):`` becomes ``if not a or not b:``, and back (``or`` likewise)."""
    test = node.test
    inner = test.expression if isinstance(test, cst.UnaryOperation) else test
    assert isinstance(inner, cst.BooleanOperation)
    swapped = cst.Or() if isinstance(inner.operator, cst.And) else cst.And()
    pair = cst.BooleanOperation(negated(inner.left), swapped, negated(inner.right))
    if isinstance(test, cst.UnaryOperation):
        return node.with_changes(test=pair, whitespace_before_test=_SPACE)
    new = cst.UnaryOperation(cst.Not(), parenthesised(pair))
    return node.with_changes(test=new, whitespace_before_test=_SPACE)


def _block_pair(node: cst.If) -> bool:
    """A short ``if``/``else`` (no ``elif``) whose two bodies are indented blocks."""
    return (isinstance(node.orelse, cst.Else) and isinstance(node.body, cst.IndentedBlock)
            and isinstance(node.orelse.body, cst.IndentedBlock) and short(node))  # fmt: skip


def _plain_test(test: cst.BaseExpression) -> bool:
    """A test whose negation reads plainly: ``not a < b`` is not ``a >= b`` for every type
    (NaN) and reads badly, so of comparisons only ``is`` and ``in`` ones (``is not``...)."""
    return not isinstance(test, cst.Comparison) or not is_not(negated(test))


def _swap_branches(node: cst.If) -> cst.If:
    """``if c: A else: B`` becomes ``if not c: B else: A`` (``if not c`` becomes ``if c``)."""
    assert isinstance(node.orelse, cst.Else)
    return node.with_changes(
        test=negated(node.test),
        whitespace_before_test=_SPACE,  # ``if(c):`` -> ``if not c:`` needs it
        body=node.orelse.body,
        orelse=node.orelse.with_changes(body=node.body),
    )


def _early_exit(node: cst.If) -> cst.FlattenSentinel[cst.BaseStatement]:
    """``if c: ...; return x else: B`` becomes ``if c: ...; return x`` then ``B`` unindented."""
    assert isinstance(node.orelse, cst.Else) and isinstance(node.orelse.body, cst.IndentedBlock)
    return cst.FlattenSentinel([node.with_changes(orelse=None), *node.orelse.body.body])


def _nested_if(node: cst.If) -> bool:
    body = node.body
    if node.orelse is not None or not isinstance(body, cst.IndentedBlock):
        return False
    inner = body.body[0] if len(body.body) == 1 else None
    return (isinstance(inner, cst.If) and inner.orelse is None and not inner.leading_lines
            and isinstance(inner.body, cst.IndentedBlock))  # fmt: skip


def _merge_ifs(node: cst.If) -> cst.If:
    """``if a:`` holding only ``if b: B`` (neither with an ``else``) becomes ``if a and b: B``."""
    assert isinstance(node.body, cst.IndentedBlock)
    inner = node.body.body[0]
    assert isinstance(inner, cst.If)
    both = cst.BooleanOperation(parenthesised(node.test), cst.And(), parenthesised(inner.test))
    return node.with_changes(test=both, body=inner.body)


def _swap_ternary(node: cst.IfExp) -> cst.IfExp:
    """``a if c else b`` becomes ``b if not c else a`` (``not c`` becomes ``c``); a branch
    that is itself a conditional expression or a lambda goes in parentheses."""
    test = parenthesised(negated(node.test))
    return node.with_changes(
        test=test,
        body=parenthesised(node.orelse),
        orelse=parenthesised(node.body),
        whitespace_after_if=_SPACE,  # ``x if(c) else y`` -> ``y if not c else x`` needs it
    )


def _none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _eq_none(node: cst.Comparison) -> bool:
    if len(node.comparisons) != 1:
        return False
    target = node.comparisons[0]
    equality = isinstance(target.operator, cst.Equal | cst.NotEqual)
    return equality and (_none(node.left) or _none(target.comparator))


def _is_none(node: cst.Comparison) -> cst.Comparison:
    """``x == None`` becomes ``x is None`` and ``x != None`` ``x is not None``."""
    target = node.comparisons[0]
    subject = target.comparator if _none(node.left) else node.left
    op = cst.Is() if isinstance(target.operator, cst.Equal) else cst.IsNot()
    return node.with_changes(left=subject, comparisons=[cst.ComparisonTarget(op, cst.Name("None"))])


REFACTORS: dict[str, Refactor] = {
    "de_morgan": Refactor(cst.If, _de_morgan_site, _de_morgan),
    "swap_branches": Refactor(
        cst.If, lambda n: _block_pair(n) and _plain_test(n.test), _swap_branches
    ),
    "early_exit": Refactor(
        cst.If, lambda n: _block_pair(n) and ends_in_exit(n.body), _early_exit, statement=True
    ),
    "merge_ifs": Refactor(cst.If, _nested_if, _merge_ifs),
    "flip_comparison": Refactor(cst.Comparison, flippable, flipped),  # a < b -> b > a
    "is_none": Refactor(cst.Comparison, _eq_none, _is_none),
    "swap_ternary": Refactor(cst.IfExp, lambda n: _plain_test(n.test), _swap_ternary),
}
# How often a refactor is tried first, relative to the others: the one-line ones more, so that a
# planted change (a line or two) is not simply the smallest logic change of its pull request.
WEIGHTS = {"de_morgan": 3, "flip_comparison": 3, "is_none": 3, "swap_ternary": 3}


def refactor_order(names: Iterable[str], rng: random.Random) -> list[str]:
    """``names`` in the order a module tries them: a weighted shuffle (each key is
    ``u ** (1 / weight)``, the largest first)."""
    keys = {name: rng.random() ** (1 / WEIGHTS.get(name, 1)) for name in sorted(names)}
    return sorted(keys, key=keys.__getitem__, reverse=True)


# -- finding sites and rewriting one --------------------------------------------------------

Found = tuple[cst.CSTNode, str, frozenset[int]]  # the node, its function, its ancestors' ids


@functools.lru_cache(maxsize=64)
def _sites(code: str) -> tuple[cst.Module, dict[str, tuple[Found, ...]]]:
    """The module's tree and every refactor's sites in it, in source order (one pass). The
    tree is the one its sites belong to: a rewrite finds its target in it by identity."""
    found: dict[str, list[Found]] = {name: [] for name in REFACTORS}
    by_kind: dict[type[cst.CSTNode], list[tuple[str, Refactor]]] = {}
    for name, refactor in REFACTORS.items():
        by_kind.setdefault(refactor.kind, []).append((name, refactor))
    in_block: set[int] = set()
    stack: list[cst.CSTNode] = []
    names: list[str] = []
    functions = 0  # functions open on the stack: sites are inside one

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal functions
            if isinstance(node, cst.IndentedBlock):
                in_block.update(id(s) for s in node.body)
            for name, refactor in by_kind.get(type(node), ()) if functions else ():
                if refactor.site(node) and (not refactor.statement or id(node) in in_block):
                    found[name].append((node, ".".join(names), frozenset(map(id, stack))))
            stack.append(node)
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                names.append(node.name.value)
                functions += isinstance(node, cst.FunctionDef)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            nonlocal functions
            stack.pop()
            if isinstance(original_node, cst.FunctionDef | cst.ClassDef):
                names.pop()
                functions -= isinstance(original_node, cst.FunctionDef)

    module = parse(code)
    module.visit(Collect())
    return module, {name: tuple(sites) for name, sites in found.items()}


@functools.lru_cache(maxsize=256)
def _rewritten(code: str, name: str, pick: int) -> tuple[str, str]:
    """The module with site ``pick`` of refactor ``name`` rewritten, and its line."""
    module, sites = _sites(code)
    target, function, above = sites[name][pick]
    rewrite = REFACTORS[name].rewrite

    class Apply(cst.CSTTransformer):
        def on_visit(self, node: cst.CSTNode) -> bool:
            return id(node) in above  # only the path down to the target

        def on_leave(self, original_node: Any, updated_node: Any) -> Any:
            return rewrite(updated_node) if original_node is target else updated_node

    return module.visit(Apply()).code, describe(function)


def _change(name: str) -> Change:
    def change(code: str, rng: random.Random) -> tuple[str, str] | None:
        sites = _sites(code)[1][name]
        return _rewritten(code, name, rng.randrange(len(sites))) if sites else None

    change.__doc__ = f"Refactor ``{name}`` at one seeded site (None if it has none)."
    return change


CHANGES: dict[str, Change] = {name: _change(name) for name in REFACTORS}
