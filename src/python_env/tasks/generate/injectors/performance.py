"""Performance injectors: behaviour-preserving rewrites that make ``benchmark()`` (counted Python
line events) at least 3x more expensive. Kept only when the measured cost ratio says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import (
    Edit,
    Scan,
    Site,
    block_of,
    call_name,
    const,
    lone_ifs,
    removal,
    remove,
    single_statements,
    snippet,
)
from python_env.types import Category, Severity

PERF = Category.PERFORMANCE
_MEMO = {"lru_cache", "cache", "functools.lru_cache", "functools.cache"}
_COND_PARENTS = (cst.If, cst.While, cst.BooleanOperation, cst.Return, cst.IfExp, cst.UnaryOperation)


def _iterable_text(scan: Scan, node: cst.BaseExpression) -> str:
    """Source of an argument, parenthesised if it is a bare generator expression."""
    text = scan.module.code_for_node(node)
    return f"({text})" if isinstance(node, cst.GeneratorExp) and not node.lpar else text


def _free_name(scan: Scan, *choices: str) -> str | None:
    used = {n.value for n, _ in scan.of_type(cst.Name)}
    return next((c for c in choices if c not in used), None)


def _name_assignments(
    scan: Scan,
) -> Iterator[tuple[cst.SimpleStatementLine, str, cst.BaseExpression]]:
    """In-code lines ``name = value`` (one target, a plain name): the line, name and value."""
    for line, assign in single_statements(scan, cst.Assign):
        target = assign.targets[0].target
        if len(assign.targets) == 1 and isinstance(target, cst.Name):
            yield line, target.value, assign.value


def _rewrite(
    scan: Scan, injector: str, line: cst.SimpleStatementLine, code: str, **fields: Any
) -> Site | None:
    """A site replacing ``line`` by the statements of ``code`` (None if it does not parse)."""
    try:
        stmts = list(cst.parse_module(code).body)
    except cst.ParserSyntaxError:
        return None
    stmts[0] = stmts[0].with_changes(leading_lines=line.leading_lines)
    return scan.site(injector, line, const(cst.FlattenSentinel(stmts)), **fields)


def _decorator_name(dec: cst.Decorator) -> str:
    node = dec.decorator
    if isinstance(node, cst.Call):
        return call_name(node)
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return f"{node.value.value}.{node.attr.value}"
    return ""


def _drop_decorator(dec: cst.Decorator) -> Edit:
    def edit(n: Any) -> Any:
        return n.with_changes(
            decorators=[d for d in n.decorators if d is not dec],
            leading_lines=[*n.leading_lines, *dec.leading_lines],
        )

    return edit


@register("remove_memo", "perf", PERF, Severity.HIGH, subtlety=1)
def remove_memo(scan: Scan) -> list[Site]:
    sites = []
    for func in scan.all_functions():
        memo = [d for d in func.decorators if _decorator_name(d) in _MEMO]
        if len(memo) != 1:
            continue
        dec = memo[0]
        name = func.name.value
        sites.append(
            scan.site(
                "remove_memo",
                func,
                _drop_decorator(dec),
                explanation=f"`{name}` lost its cache: the same subproblems are recomputed on "
                "every call (exponential for recursion); memoise it with "
                f"`@{_decorator_name(dec)}`.",
                old=f"@{scan.text(dec.decorator, 40)}",
                new=f"def {name}(...)",
                lines=(scan.span(dec)[0], scan.span(func.name)[0]),
            )
        )
    return sites


@register("quadratic_sort", "perf", PERF, Severity.MEDIUM, subtlety=1)
def quadratic_sort(scan: Scan) -> list[Site]:
    sites = []
    item, pos = _free_name(scan, "item", "element"), _free_name(scan, "pos", "slot")
    if item is None or pos is None:
        return []
    for line, var, value in _name_assignments(scan):
        if not isinstance(value, cst.Call) or call_name(value) != "sorted":
            continue
        if len(value.args) != 1 or value.args[0].keyword or value.args[0].star:
            continue
        source = _iterable_text(scan, value.args[0].value)
        text = (
            f"{var} = []\n"
            f"for {item} in {source}:\n"
            f"    {pos} = len({var})\n"
            f"    while {pos} > 0 and {item} < {var}[{pos} - 1]:\n"
            f"        {pos} -= 1\n"
            f"    {var}.insert({pos}, {item})\n"
        )
        site = _rewrite(
            scan,
            "quadratic_sort",
            line,
            text,
            explanation=f"Hand-written insertion sort of `{snippet(source, 40)}`: "
            "O(n^2) Python-level work where `sorted()` does it in O(n log n).",
            new=f"insertion sort into `{var}`",
        )
        if site is not None:
            sites.append(site)
    return sites


@register("membership_scan", "perf", PERF, Severity.MEDIUM, subtlety=2)
def membership_scan(scan: Scan) -> list[Site]:
    sites = []
    other = _free_name(scan, "existing", "entry", "known")
    if other is None:
        return []
    for node, info in scan.of_type(cst.Comparison):
        if not info.in_code or info.loop_depth == 0 or len(node.comparisons) != 1 or node.lpar:
            continue
        target = node.comparisons[0]
        negated = isinstance(target.operator, cst.NotIn)
        if not (negated or isinstance(target.operator, cst.In)):
            continue
        if not isinstance(target.comparator, cst.Name) or not isinstance(
            info.parent, _COND_PARENTS
        ):
            continue
        left = scan.module.code_for_node(node.left)
        coll = target.comparator.value
        expr = f"any({left} == {other} for {other} in {coll})"
        new: cst.BaseExpression = cst.parse_expression(("not " if negated else "") + expr)
        sites.append(
            scan.site(
                "membership_scan",
                node,
                const(new),
                explanation=f"Linear scan inside a loop: `{expr}` walks all of `{coll}` for every "
                f"check (quadratic overall); test membership with `in` on a set or dict.",
            )
        )
    return sites


@register("join_concat", "perf", PERF, Severity.MEDIUM, subtlety=1)
def join_concat(scan: Scan) -> list[Site]:
    sites = []
    piece = _free_name(scan, "piece", "part", "chunk")
    if piece is None:
        return []
    for line, var, call in _name_assignments(scan):
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            continue
        sep = call.func.value
        if call.func.attr.value != "join" or not isinstance(sep, cst.SimpleString):
            continue
        if sep.evaluated_value != "" or len(call.args) != 1 or call.args[0].keyword:
            continue
        source = _iterable_text(scan, call.args[0].value)
        text = f'{var} = ""\nfor {piece} in {source}:\n    {var} += {piece}\n'
        site = _rewrite(
            scan,
            "join_concat",
            line,
            text,
            explanation=f"String built by repeated concatenation (`{var} += {piece}`) in a "
            'Python loop; `"".join(...)` does it in one pass.',
            new=f"for {piece} in ...: {var} += {piece}",
        )
        if site is not None:
            sites.append(site)
    return sites


def _visit_with(transformer: cst.CSTTransformer) -> Edit:
    return lambda n: n.visit(transformer)


class _Inline(cst.CSTTransformer):
    def __init__(self, name: str, call: cst.BaseExpression) -> None:
        super().__init__()
        self.name = name
        self.call = call

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> Any:
        return self.call if original_node.value == self.name else updated_node


def _assignments(scan: Scan, func: cst.FunctionDef) -> dict[str, list[int]]:
    """Lines where each local name of ``func`` is (re)bound."""
    lines: dict[str, list[int]] = {}
    for node, _ in scan.infos_in(func):
        if isinstance(node, cst.AssignTarget | cst.AugAssign | cst.For | cst.AnnAssign):
            target = node.target
            if isinstance(target, cst.Name):
                lines.setdefault(target.value, []).append(scan.span(target)[0])
    return lines


def _weight(scan: Scan, stmt: cst.CSTNode, name: str) -> int:
    """Uses of ``name`` in ``stmt``; a use inside a loop counts as ten."""
    start, end = scan._order[id(stmt)], scan._end[id(stmt)]
    total = 0
    for info in scan.infos[start:end]:
        if isinstance(info.node, cst.Name) and info.node.value == name:
            in_loop = any(
                isinstance(a, cst.For | cst.While) and scan._order[id(a)] >= start
                for a in scan.ancestors(info.node)
            )
            total += 10 if in_loop else 1
    return total


def _mutated(scan: Scan, stmt: cst.CSTNode, name: str) -> bool:
    """Is ``name`` written through (``name[i] = ...``, ``name.x += ...``, ``name.append()``)?"""
    start, end = scan._order[id(stmt)], scan._end[id(stmt)]
    for info in scan.infos[start:end]:
        if not (isinstance(info.node, cst.Name) and info.node.value == name):
            continue
        if isinstance(info.parent, cst.Attribute) and isinstance(
            scan.parent(info.parent), cst.Call
        ):
            return True
        if any(isinstance(a, cst.AssignTarget | cst.AugAssign) for a in scan.ancestors(info.node)):
            return True
    return False


@register("inline_invariant", "perf", PERF, Severity.MEDIUM, subtlety=2)
def inline_invariant(scan: Scan) -> list[Site]:
    """``v = f(args)`` computed once, then every use of ``v`` replaced by the call again."""
    sites = []
    helpers = {f.name.value for f in scan.all_functions()}
    for func in scan.all_functions():
        bound = _assignments(scan, func)
        for line, info in scan.infos_in(func):
            if not isinstance(line, cst.SimpleStatementLine) or info.func is not func:
                continue
            assign = line.body[0] if len(line.body) == 1 else None
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                continue
            var, call = assign.targets[0].target, assign.value
            if not isinstance(var, cst.Name) or len(bound.get(var.value, [])) != 1:
                continue
            if not isinstance(call, cst.Call) or call_name(call) not in helpers:
                continue
            here = scan.span(line)[0]
            if any(a.star or not isinstance(a.value, cst.Name | cst.Integer) for a in call.args):
                continue
            names = [a.value.value for a in call.args if isinstance(a.value, cst.Name)]
            if any(max(bound.get(n, [0])) >= here for n in names):
                continue
            block = block_of(scan, line)
            if not block:
                continue
            rest = list(block)[list(block).index(line) + 1 :]
            if any(_mutated(scan, s, var.value) for s in rest):
                continue
            users = [s for s in rest if _weight(scan, s, var.value)]
            if not users or sum(_weight(scan, s, var.value) for s in users) < 3:
                continue
            inline = _visit_with(_Inline(var.value, call))
            text = scan.text(call, 50)
            sites.append(
                scan.site(
                    "inline_invariant",
                    users[0],
                    inline,
                    explanation=f"`{text}` is recomputed at every use of its result (inside a "
                    "loop or repeatedly) although its arguments do not change; compute it once "
                    f"and reuse `{var.value}`.",
                    old=scan.text(line, 60),
                    new=f"{text} at each use",
                    lines=(here, scan.span(users[-1])[1]),
                    extra_targets=((line, remove), *((u, inline) for u in users[1:])),
                )
            )
    return sites


@register("drop_memo_check", "perf", PERF, Severity.HIGH, subtlety=2)
def drop_memo_check(scan: Scan) -> list[Site]:
    """``if key in memo: return memo[key]`` removed: the cache is filled but never read."""
    sites = []
    for node in lone_ifs(scan):
        test = node.test
        body = (
            node.body.body
            if isinstance(node.body, cst.IndentedBlock | cst.SimpleStatementSuite)
            else []
        )
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and len(body) == 1):
            continue
        if not isinstance(test.comparisons[0].operator, cst.In):
            continue
        stmt = body[0].body[0] if isinstance(body[0], cst.SimpleStatementLine) else body[0]
        if not (isinstance(stmt, cst.Return) and isinstance(stmt.value, cst.Subscript)):
            continue
        memo = scan.text(test.comparisons[0].comparator)
        key = scan.text(test.left)
        if scan.text(stmt.value) != f"{memo}[{key}]":
            continue
        block = block_of(scan, node)
        if not block or len(block) < 2:
            continue
        check = f"if {key} in {memo}: return {memo}[{key}]"
        text = (
            f"The memo lookup `{check}` is missing: `{memo}` is filled but never read, so every "
            "result is recomputed."
        )
        sites.append(removal(scan, "drop_memo_check", node, text, old=check))
    return sites


@register("drop_early_exit", "perf", PERF, Severity.MEDIUM, subtlety=2)
def drop_early_exit(scan: Scan) -> list[Site]:
    """A ``break`` after the answer is known removed: the loop keeps scanning for nothing."""
    sites = []
    for node, info in scan.of_type(cst.Break):
        if not info.in_code:
            continue
        line = scan.parent(node)
        block = block_of(scan, line) if line is not None else None
        if not isinstance(line, cst.SimpleStatementLine) or not block or len(block) < 2:
            continue
        loop = next((a for a in scan.ancestors(node) if isinstance(a, cst.For | cst.While)), None)
        if not isinstance(loop, cst.For) or loop.orelse is not None:
            continue
        text = (
            "Missing `break`: once the result is found the loop keeps going over the rest of "
            f"`{scan.text(loop.iter, 40)}` for nothing."
        )
        sites.append(removal(scan, "drop_early_exit", line, text, old="break"))
    return sites


def _uses(scan: Scan, node: cst.CSTNode, name: str) -> bool:
    start, end = scan._order[id(node)], scan._end[id(node)]
    return any(isinstance(i.node, cst.Name) and i.node.value == name for i in scan.infos[start:end])
