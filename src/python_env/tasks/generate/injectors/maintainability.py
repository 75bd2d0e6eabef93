"""Static injectors for maintainability smells; each must trip its ruff rule on the injected
line (and not on the original) while the behaviour stays the same."""

from __future__ import annotations

from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import (
    Edit,
    Scan,
    Site,
    first_body_index,
    single_statements,
)
from python_env.types import Category, Severity

MAINT = Category.MAINTAINABILITY
_SPACE = cst.SimpleWhitespace(" ")
_UNUSED_MODULES = ("sys", "re", "json", "itertools", "functools", "collections", "copy", "string",
                   "typing", "operator", "textwrap", "heapq", "bisect")  # fmt: skip


def _line(*small: cst.BaseSmallStatement) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=list(small))


def _block(*stmts: cst.BaseStatement) -> cst.IndentedBlock:
    return cst.IndentedBlock(body=list(stmts))


def _uses(scan: Scan, node: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n, _ in _walk(scan, node))


def _walk(scan: Scan, node: cst.CSTNode) -> list[tuple[cst.CSTNode, Any]]:
    start, end = scan._order[id(node)], scan._end[id(node)]
    return [(i.node, i) for i in scan.infos[start:end]]


def _insert_at(index: int, stmt: cst.SimpleStatementLine) -> Edit:
    """An edit that inserts ``stmt`` at position ``index`` of the target's ``body``."""

    def insert(n: Any) -> Any:
        new_body = list(n.body)
        new_body.insert(index, stmt)
        return n.with_changes(body=new_body)

    return insert


@register(
    "bare_except", "static", MAINT, Severity.MEDIUM, rule_id="E722", subtlety=1, alt=(Category.BUG,)
)
def bare_except(scan: Scan) -> list[Site]:
    sites = []
    for handler, info in scan.of_type(cst.ExceptHandler):
        if not info.in_code or handler.type is None:
            continue
        bound = handler.name.name if handler.name is not None else None
        if isinstance(bound, cst.Name) and _uses(scan, handler.body, bound.value):
            continue
        caught = scan.text(handler.type, 40)
        sites.append(
            scan.site(
                "bare_except",
                handler,
                lambda n: n.with_changes(
                    type=None, name=None, whitespace_after_except=cst.SimpleWhitespace("")
                ),
                explanation=f"Bare `except:` (was `except {caught}:`) also catches "
                "KeyboardInterrupt, SystemExit and programming errors, hiding real bugs; "
                "catch the specific exception.",
                old=f"except {caught}:",
                new="except:",
                lines=(scan.span(handler)[0],) * 2,
            )
        )
    return sites


@register(
    "swallowed_exception",
    "static",
    MAINT,
    Severity.MEDIUM,
    rule_id="S110",
    subtlety=1,
    alt=(Category.BUG,),
)
def swallowed_exception(scan: Scan) -> list[Site]:
    sites = []
    for line, info in scan.of_type(cst.SimpleStatementLine):
        if not info.in_code or len(line.body) != 1 or info.loop_depth == 0:
            continue
        small = line.body[0]
        if not isinstance(small, cst.Assign | cst.AugAssign | cst.Expr):
            continue
        if isinstance(small, cst.Expr) and not isinstance(small.value, cst.Call):
            continue

        def wrap(n: Any) -> Any:
            handler = cst.ExceptHandler(
                body=_block(_line(cst.Pass())),
                type=cst.Name("Exception"),
                whitespace_after_except=_SPACE,
            )
            return cst.Try(
                body=_block(n.with_changes(leading_lines=[])),
                handlers=[handler],
                leading_lines=n.leading_lines,
            )

        stmt = scan.text(small, 50)
        sites.append(
            scan.site(
                "swallowed_exception",
                line,
                wrap,
                explanation=f"Errors from `{stmt}` are silently swallowed by `except Exception: "
                "pass`; failures go unnoticed and later code works on stale or missing values.",
                new=f"try: {stmt} except Exception: pass",
            )
        )
    return sites


@register(
    "unused_import",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="F401",
    subtlety=1,
    alt=(Category.STYLE,),
)
def unused_import(scan: Scan) -> list[Site]:
    body = list(scan.module.body)
    used = {n.value for n, _ in scan.of_type(cst.Name)}
    last_import = max(
        (i for i, s in enumerate(body)
         if isinstance(s, cst.SimpleStatementLine)
         and isinstance(s.body[0], cst.Import | cst.ImportFrom)),
        default=first_body_index(body) - 1,
    )  # fmt: skip
    index = last_import + 1
    anchor = body[index] if index < len(body) else body[-1]
    sites = []
    for module in _UNUSED_MODULES:
        if module in used:
            continue
        stmt = _line(cst.Import(names=[cst.ImportAlias(name=cst.Name(module))]))
        sites.append(
            scan.site(
                "unused_import",
                scan.module,
                _insert_at(index, stmt),
                explanation=f"`import {module}` is never used; remove it.",
                old="",
                new=f"import {module}",
                lines=(scan.span(anchor)[0],) * 2,
            )
        )
    return sites


@register(
    "unused_variable",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="F841",
    subtlety=1,
    alt=(Category.STYLE,),
)
def unused_variable(scan: Scan) -> list[Site]:
    sites = []
    used = {n.value for n, _ in scan.of_type(cst.Name)}
    for func in scan.all_functions():
        if not isinstance(func.body, cst.IndentedBlock) or not func.params.params:
            continue
        param = func.params.params[0].name.value
        if param in ("self", "cls") and len(func.params.params) > 1:
            param = func.params.params[1].name.value
        if param in ("self", "cls"):
            continue
        new_name = f"original_{param}"
        if new_name in used:
            continue
        body = list(func.body.body)
        index = first_body_index(body)
        if index >= len(body):
            continue
        stmt = _line(
            cst.Assign(targets=[cst.AssignTarget(cst.Name(new_name))], value=cst.Name(param))
        )
        sites.append(
            scan.site(
                "unused_variable",
                func.body,
                _insert_at(index, stmt),
                explanation=f"`{new_name}` is assigned but never used: dead code left behind; "
                "remove it.",
                old="",
                new=f"{new_name} = {param}",
                lines=(scan.span(body[index])[0],) * 2,
            )
        )
    return sites


def _then(stmt: cst.SimpleStatementLine) -> Edit:
    return lambda n: cst.FlattenSentinel([n, stmt])


@register(
    "print_debug", "static", MAINT, Severity.LOW, rule_id="T201", subtlety=1, alt=(Category.STYLE,)
)
def print_debug(scan: Scan) -> list[Site]:
    sites = []
    for line, assign in single_statements(scan, cst.Assign):
        target = assign.targets[0].target
        if not isinstance(target, cst.Name):
            continue
        call = cst.Call(func=cst.Name("print"), args=[cst.Arg(cst.Name(target.value))])
        stmt = _line(cst.Expr(call))
        sites.append(
            scan.site(
                "print_debug",
                line,
                _then(stmt),
                explanation=f"Leftover debug output: `print({target.value})` writes to stdout on "
                "every call; remove it (or use logging).",
                new=f"print({target.value})",
            )
        )
    return sites


@register(
    "type_comparison",
    "static",
    Category.STYLE,
    Severity.LOW,
    rule_id="E721",
    subtlety=1,
    alt=(Category.MAINTAINABILITY,),
)
def type_comparison(scan: Scan) -> list[Site]:
    sites = []
    allowed = (cst.If, cst.While, cst.BooleanOperation, cst.UnaryOperation, cst.Return)
    for call, info in scan.of_type(cst.Call):
        if (
            not info.in_code
            or not isinstance(call.func, cst.Name)
            or call.func.value != "isinstance"
        ):
            continue
        if len(call.args) != 2 or not isinstance(call.args[1].value, cst.Name):
            continue
        if not isinstance(info.parent, allowed):
            continue

        def edit(n: Any) -> Any:
            obj = n.args[0].value
            kind = n.args[1].value
            left = cst.Call(func=cst.Name("type"), args=[cst.Arg(obj)])
            return cst.Comparison(
                left=left,
                comparisons=[cst.ComparisonTarget(cst.Equal(_SPACE, _SPACE), kind)],
                lpar=n.lpar,
                rpar=n.rpar,
            )

        text = "`{new}` compares types with `==`: it rejects subclasses; use `{old}`."
        sites.append(scan.site("type_comparison", call, edit, explanation=text))
    return sites
