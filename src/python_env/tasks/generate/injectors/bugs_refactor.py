"""Refactors done wrong: the rewrites a pull request's benign refactors make, with the slip that
changes behaviour (family ``refactor``, used by the repository generator).

A review that only checked whether each changed line has the shape of a known refactor would
pass these: their diffs look like ``tasks.repos.refactors``' (a De Morgan rewrite, an ``else``
unindented after a return, two ``if``s merged, a comparison turned round, a None check), but
the rewrite does not hold. The negation helpers here are shared with those refactors.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import Edit, Scan, Site, block_of, const, contains
from python_env.tasks.generate.injectors.bugs_ops import BOUNDARY
from python_env.types import Category, Severity

BUG = Category.BUG
OPPOSITE: dict[type[Any], type[Any]] = {
    cst.Is: cst.IsNot, cst.IsNot: cst.Is, cst.In: cst.NotIn, cst.NotIn: cst.In,
}  # fmt: skip
FLIP: dict[type[Any], type[Any]] = {
    cst.LessThan: cst.GreaterThan, cst.GreaterThan: cst.LessThan,
    cst.LessThanEqual: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.LessThanEqual,
}  # fmt: skip
LOOSE = (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr)  # need parentheses
MAX_MOVED = 16  # lines a branch rewrite moves at most: the diff stays one a reviewer reads
EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


def parenthesised(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node``, in parentheses if it binds more loosely than a comparison."""
    if isinstance(node, LOOSE) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def is_not(node: object) -> bool:
    """Whether ``node`` is ``not <expression>``."""
    return isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not)


def negated(test: cst.BaseExpression) -> cst.BaseExpression:
    """``not test`` where only its truth matters (an ``if``'s test): ``not not x`` is ``x``,
    ``not a is b`` is ``a is not b`` (and ``in`` likewise)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        return inner if isinstance(inner, LOOSE) else inner.with_changes(lpar=(), rpar=())
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        op = test.comparisons[0].operator
        if type(op) in OPPOSITE:
            target = test.comparisons[0].with_changes(operator=OPPOSITE[type(op)]())
            return test.with_changes(comparisons=[target])
    return cst.UnaryOperation(cst.Not(), parenthesised(test))


def short(node: cst.CSTNode) -> bool:
    """At most ``MAX_MOVED`` lines of code."""
    return cst.Module([]).code_for_node(node).count("\n") <= MAX_MOVED


def ends_in_exit(block: cst.BaseSuite) -> bool:
    """The block's last statement leaves it (return, raise, continue, break)."""
    last = block.body[-1] if isinstance(block, cst.IndentedBlock) and block.body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], EXITS)


def _if_tests(scan: Scan) -> list[cst.If]:
    return [node for node, info in scan.of_type(cst.If) if info.in_code]


@register("broken_de_morgan", "refactor", BUG, Severity.HIGH, subtlety=2)
def broken_de_morgan(scan: Scan) -> list[Site]:
    """``not (a and b)`` rewritten as ``not a and not b`` (the operator must turn to ``or``)."""
    sites = []
    for node in _if_tests(scan):
        test = node.test
        if is_not(test) and isinstance(test.expression, cst.BooleanOperation):  # type: ignore[attr-defined]
            inner = test.expression  # type: ignore[attr-defined]
            wrong: cst.BaseExpression = cst.BooleanOperation(
                negated(inner.left), inner.operator, negated(inner.right)
            )
        elif isinstance(test, cst.BooleanOperation) and is_not(test.left) and is_not(test.right):
            pair = cst.BooleanOperation(negated(test.left), test.operator, negated(test.right))
            wrong = cst.UnaryOperation(cst.Not(), parenthesised(pair))
        else:
            continue
        sites.append(scan.site(
            "broken_de_morgan", test, const(wrong),
            explanation="Broken De Morgan rewrite: `{old}` became `{new}`, which is not its "
            "equivalent (negating `and` gives `or`, and the other way round).",
        ))  # fmt: skip
    return sites


@register("broken_early_exit", "refactor", BUG, Severity.HIGH, subtlety=2)
def broken_early_exit(scan: Scan) -> list[Site]:
    """An ``else`` unindented after an ``if`` branch that does not return: it now always runs."""
    sites = []
    for node in _if_tests(scan):
        orelse = node.orelse
        if not (isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock)
                and isinstance(node.body, cst.IndentedBlock) and short(node)
                and not ends_in_exit(node.body) and block_of(scan, node)):  # fmt: skip
            continue
        moved = orelse.body.body
        sites.append(scan.site(
            "broken_early_exit", node,
            lambda n: cst.FlattenSentinel([n.with_changes(orelse=None), *n.orelse.body.body]),
            explanation=f"The `else` of `if {scan.text(node.test, 60)}:` was unindented as if "
            f"the branch returned, but it does not: `{scan.text(moved[0], 60)}` now also runs "
            "after it.",
            old=f"if {scan.text(node.test, 60)}: ... else: {scan.text(moved[0], 40)}",
            new=f"if {scan.text(node.test, 60)}: ... {scan.text(moved[0], 40)}",
        ))  # fmt: skip
    return sites


def _merged(test: cst.BaseExpression) -> Edit:
    """An edit that gives an ``if`` the ``test`` and the body of the ``if`` it holds."""
    return lambda node: node.with_changes(test=test, body=node.body.body[0].body)


@register("broken_merge_ifs", "refactor", BUG, Severity.HIGH, subtlety=2)
def broken_merge_ifs(scan: Scan) -> list[Site]:
    """``if a: (if b: B) else: E`` merged into ``if a and b: B else: E``: E now runs when
    ``a`` holds and ``b`` does not."""
    sites = []
    for node in _if_tests(scan):
        body = node.body
        inner = (
            body.body[0] if isinstance(body, cst.IndentedBlock) and len(body.body) == 1 else None
        )
        if not (isinstance(inner, cst.If) and inner.orelse is None and not inner.leading_lines
                and isinstance(node.orelse, cst.Else) and short(node)):  # fmt: skip
            continue
        both = cst.BooleanOperation(parenthesised(node.test), cst.And(), parenthesised(inner.test))
        sites.append(scan.site(
            "broken_merge_ifs", node,
            _merged(both),
            explanation=f"Merging `if {scan.text(node.test, 40)}:` and the `if "
            f"{scan.text(inner.test, 40)}:` inside it moved the `else`: it now also runs when "
            "the first holds and the second does not.",
            old=f"if {scan.text(node.test, 40)}: if {scan.text(inner.test, 40)}: ... else: ...",
            new=f"if {scan.text(both, 80)}: ... else: ...",
        ))  # fmt: skip
    return sites


def pure(node: cst.CSTNode) -> bool:
    """No call, await, yield or assignment inside: evaluating it in another order is the same."""
    return not contains(node, (cst.Call, cst.Await, cst.Yield, cst.NamedExpr))


def constant(node: cst.BaseExpression) -> bool:
    """A literal (``0``, ``-1``, ``"x"``, ``None``...)."""
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, cst.BaseNumber | cst.BaseString) or (
        isinstance(node, cst.Name) and node.value in {"None", "True", "False"}
    )


def flippable(node: cst.Comparison) -> bool:
    """``a < b`` (``<=``, ``>``, ``>=``) with call-free operands and no literal on the right
    (``x < 0`` stays: nobody writes ``0 > x``)."""
    if len(node.comparisons) != 1:
        return False
    target = node.comparisons[0]
    return (type(target.operator) in FLIP and not constant(target.comparator)
            and pure(node.left) and pure(target.comparator))  # fmt: skip


def flipped(node: cst.Comparison, strict: bool = True) -> cst.Comparison:
    """``b > a`` for ``a < b``; with ``strict`` False, ``b >= a`` (the slip)."""
    target = node.comparisons[0]
    kind = FLIP[type(target.operator)]
    op = (kind if strict else BOUNDARY[kind])(
        whitespace_before=target.operator.whitespace_before,  # type: ignore[attr-defined]
        whitespace_after=target.operator.whitespace_after,  # type: ignore[attr-defined]
    )
    return node.with_changes(
        left=target.comparator,
        comparisons=[target.with_changes(operator=op, comparator=node.left)],
    )


@register("broken_flip", "refactor", BUG, Severity.MEDIUM, subtlety=2)
def broken_flip(scan: Scan) -> list[Site]:
    """``a < b`` turned round as ``b >= a``: the bound's strictness flipped with it."""
    return [
        scan.site(
            "broken_flip",
            node,
            lambda n: flipped(n, strict=False),
            explanation="Comparison turned round wrongly: `{old}` became `{new}`, which "
            "also holds when the two are equal (or no longer does).",
        )
        for node, info in scan.of_type(cst.Comparison)
        if info.in_code and flippable(node)
    ]


def _subject(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """``x`` of ``not x`` or of ``x is None`` (a name or attribute)."""
    if is_not(test):
        inner = test.expression  # type: ignore[attr-defined]
        return inner if isinstance(inner, cst.Name | cst.Attribute) else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        none = isinstance(target.comparator, cst.Name) and target.comparator.value == "None"
        if isinstance(target.operator, cst.Is) and none:
            return test.left if isinstance(test.left, cst.Name | cst.Attribute) else None
    return None


@register("none_check", "refactor", BUG, Severity.MEDIUM, subtlety=2)
def none_check(scan: Scan) -> list[Site]:
    """``if not x:`` rewritten as ``if x is None:`` (or back): they differ for 0, "" and empty
    containers."""
    sites = []
    for node in _if_tests(scan):
        subject = _subject(node.test)
        if subject is None:
            continue
        if is_not(node.test):
            new: cst.BaseExpression = cst.Comparison(
                subject, [cst.ComparisonTarget(cst.Is(), cst.Name("None"))]
            )
        else:
            new = cst.UnaryOperation(cst.Not(), subject)
        sites.append(scan.site(
            "none_check", node.test, const(new),
            explanation="`{old}` became `{new}`: they differ when the value is empty or zero "
            "rather than None.",
        ))  # fmt: skip
    return sites
