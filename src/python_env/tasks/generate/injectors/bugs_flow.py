"""Behavioural injectors on control flow and data flow: dropped branches, guards, updates,
wrong variables, loop control, mutable defaults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import (
    Scan,
    Site,
    block_of,
    changes,
    const,
    first_body_index,
    lone_ifs,
    removal,
    remove,
    snippet,
)
from python_env.types import Category, Severity

BUG = Category.BUG
B = TypeVar("B", cst.Else, cst.If)
_MUTATORS = {
    "append", "extend", "add", "update", "insert", "remove", "discard", "pop", "sort", "reverse",
    "appendleft", "setdefault", "clear", "popleft",
}  # fmt: skip
_LOAD_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cst.BinaryOperation: ("left", "right"), cst.BooleanOperation: ("left", "right"),
    cst.UnaryOperation: ("expression",), cst.Comparison: ("left",),
    cst.ComparisonTarget: ("comparator",), cst.Arg: ("value",), cst.Subscript: ("value",),
    cst.Index: ("value",), cst.Return: ("value",), cst.IfExp: ("test", "body", "orelse"),
    cst.Attribute: ("value",), cst.Element: ("value",),
}  # fmt: skip


def _header(scan: Scan, node: cst.If) -> str:
    return f"if {scan.text(node.test, 60)}:"


def _ifs_with_orelse(scan: Scan, kind: type[B]) -> Iterator[tuple[cst.If, B]]:
    """In-code ``if`` statements whose ``orelse`` is a ``kind`` (``else`` or ``elif``)."""
    for node, info in scan.of_type(cst.If):
        if info.in_code and isinstance(node.orelse, kind):
            yield node, node.orelse


def _names_in(target: cst.CSTNode) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for el in target.elements for n in _names_in(el.value)]
    return []


def _local_defs(scan: Scan, func: cst.FunctionDef) -> dict[str, int]:
    """Local names of ``func`` with the line of their first binding (parameters: the def line)."""
    def_line = scan.span(func)[0]
    defs: dict[str, int] = {}
    params = func.params
    for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
        defs.setdefault(p.name.value, def_line)
    for node, info in scan.infos_in(func):
        targets: list[cst.CSTNode] = []
        if isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.For):
            targets = [node.target]
        for target in targets:
            for name in _names_in(target):
                defs.setdefault(name.value, scan.span(name)[0])
        del info
    return defs


@register("wrong_variable", "bug", BUG, Severity.HIGH, subtlety=2)
def wrong_variable(scan: Scan) -> list[Site]:
    sites = []
    for func in scan.all_functions():
        defs = _local_defs(scan, func)
        if len(defs) < 2:
            continue
        for node, info in scan.infos_in(func):
            if not isinstance(node, cst.Name) or node.value not in defs or info.func is not func:
                continue
            if node.value in ("self", "cls"):
                continue
            parent = info.parent
            fields = _LOAD_FIELDS.get(type(parent), ())
            if not any(getattr(parent, f, None) is node for f in fields):
                continue
            line = scan.span(node)[0]
            others = [
                (ln, n)
                for n, ln in defs.items()
                if n not in (node.value, "self", "cls") and ln < line
            ]
            if not others:
                continue
            other = max(others)[1]
            text = scan.code.splitlines()[line - 1]
            col = scan.column(node)
            old = snippet(text)
            new = snippet(text[:col] + other + text[col + len(node.value) :])
            sites.append(
                scan.site(
                    "wrong_variable",
                    node,
                    changes(value=other),
                    explanation=f"Wrong variable: `{other}` is used where `{node.value}` is "
                    "needed.",
                    old=old,
                    new=new,
                )
            )
    return sites


@register("drop_else", "bug", BUG, Severity.HIGH, subtlety=1)
def drop_else(scan: Scan) -> list[Site]:
    sites = []
    for node, orelse in _ifs_with_orelse(scan, cst.Else):
        first = orelse.body.body[0] if orelse.body.body else None
        what = scan.text(first, 60) if first is not None else "the else branch"
        sites.append(
            scan.site(
                "drop_else",
                node,
                lambda n: n.with_changes(orelse=None),
                explanation=f"Missing `else` branch: when `{scan.text(node.test, 60)}` is false, "
                f"`{what}` no longer runs.",
                old=f"{_header(scan, node)} ... else: {what}",
                new=_header(scan, node),
                lines=scan.span(orelse),
            )
        )
    return sites


@register("drop_elif", "bug", BUG, Severity.HIGH, subtlety=1)
def drop_elif(scan: Scan) -> list[Site]:
    sites = []
    for node, branch in _ifs_with_orelse(scan, cst.If):
        sites.append(
            scan.site(
                "drop_elif",
                node,
                lambda n: n.with_changes(orelse=n.orelse.orelse),
                explanation=f"Missing branch: the `elif {scan.text(branch.test, 60)}` case was "
                "dropped, so it falls through to the next branch.",
                old=f"elif {scan.text(branch.test, 60)}:",
                new="",
                lines=(scan.span(branch)[0], scan.span(branch.body)[1]),
            )
        )
    return sites


def _only_statement(node: cst.If) -> cst.BaseSmallStatement | None:
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        return body.body[0] if len(body.body) == 1 else None
    if len(body.body) == 1 and isinstance(body.body[0], cst.SimpleStatementLine):
        line = body.body[0]
        return line.body[0] if len(line.body) == 1 else None
    return None


@register("drop_guard", "bug", BUG, Severity.HIGH, subtlety=1)
def drop_guard(scan: Scan) -> list[Site]:
    sites = []
    for node in lone_ifs(scan):
        stmt = _only_statement(node)
        block = block_of(scan, node)
        if not isinstance(stmt, cst.Return | cst.Continue | cst.Break | cst.Raise) or not block:
            continue
        if len(block) < 2:
            continue
        guard = f"{_header(scan, node)} {scan.text(stmt, 40)}"
        text = (
            f"Missing guard: `{guard}` was removed, so that case is no longer handled and falls "
            "through."
        )
        sites.append(removal(scan, "drop_guard", node, text, old=guard))
    return sites


@register("drop_statement", "bug", BUG, Severity.MEDIUM, subtlety=2)
def drop_statement(scan: Scan) -> list[Site]:
    sites = []
    for line, info in scan.of_type(cst.SimpleStatementLine):
        if not info.in_code or len(line.body) != 1:
            continue
        small = line.body[0]
        target = ""
        if isinstance(small, cst.AugAssign):
            target = scan.text(small.target, 40)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            func = small.value.func
            if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
                target = scan.text(func.value, 40)
        elif isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Subscript):
            target = scan.text(small.targets[0].target, 40)
        block = block_of(scan, line)
        if not target or not block or len(block) < 2:
            continue
        text = (
            f"Missing update: `{scan.text(small, 60)}` was dropped, so `{target}` is not updated "
            "here."
        )
        sites.append(removal(scan, "drop_statement", line, text))
    return sites


@register("loop_control", "bug", BUG, Severity.MEDIUM, subtlety=2)
def loop_control(scan: Scan) -> list[Site]:
    sites = []
    for node, info in [*scan.of_type(cst.Break), *scan.of_type(cst.Continue)]:
        if not info.in_code:
            continue
        new: cst.BaseSmallStatement = cst.Continue() if isinstance(node, cst.Break) else cst.Break()
        effect = "keeps looping" if isinstance(node, cst.Break) else "stops the loop"
        text = "`{new}` should be `{old}`: the loop " + effect + " where it should not."
        sites.append(scan.site("loop_control", node, const(new), explanation=text))
    return sites


_EMPTY_VALUES = ("[]", "{}", "set()", "list()", "dict()")


@register(
    "mutable_default",
    "bug",
    BUG,
    Severity.HIGH,
    rule_id="B006",
    subtlety=2,
    alt=(Category.MAINTAINABILITY,),
)
def mutable_default(scan: Scan) -> list[Site]:
    sites = []
    for func in scan.all_functions():
        params = func.params
        if params.star_arg is not cst.MaybeSentinel.DEFAULT or params.star_kwarg is not None:
            continue
        if params.kwonly_params or params.posonly_params or not params.params:
            continue
        names = {p.name.value for p in params.params}
        body = func.body.body if isinstance(func.body, cst.IndentedBlock) else []
        start = first_body_index(body)
        for stmt in list(body)[start : start + 3]:
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            assign = stmt.body[0]
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                continue
            target = assign.targets[0].target
            value = scan.module.code_for_node(assign.value)
            if not isinstance(target, cst.Name) or target.value in names:
                continue
            if value not in _EMPTY_VALUES or len(body) < 2:
                continue
            default = assign.value

            def add_param(n: Any, name: str = target.value, default: Any = default) -> Any:
                eq = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
                new = cst.Param(cst.Name(name), default=default, equal=eq)
                old = list(n.params.params)
                if old and old[-1].comma is cst.MaybeSentinel.DEFAULT:
                    old[-1] = old[-1].with_changes(
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                    )
                return n.with_changes(params=n.params.with_changes(params=[*old, new]))

            signature = f"def {func.name.value}({scan.text(params, 50)}, {target.value}={value})"
            sites.append(
                scan.site(
                    "mutable_default",
                    func,
                    add_param,
                    explanation=f"Mutable default argument `{target.value}={value}`: one object "
                    "is shared by every call, so values from earlier calls leak into later "
                    f"ones. Create it inside the function (`{target.value} = {value}`).",
                    old=f"{target.value} = {value}",
                    new=snippet(signature),
                    lines=(scan.span(func)[0], scan.span(stmt)[0]),
                    extra_targets=((stmt, remove),),
                )
            )
            break
    return sites
