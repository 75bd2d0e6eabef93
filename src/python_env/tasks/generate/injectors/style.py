"""Static injectors for style and readability; behaviour-preserving rewrites that trip a ruff
rule (pycodestyle E7, flake8-simplify, flake8-return, pyupgrade)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import (
    Scan,
    Site,
    block_of,
    is_name,
    lone_ifs,
    remove,
    single_statements,
)
from python_env.tasks.generate.injectors.bugs_ops import new_op, set_cmp_op
from python_env.types import Category, Severity

STYLE = Category.STYLE
MAINT = Category.MAINTAINABILITY
_SPACE = cst.SimpleWhitespace(" ")
_EXPR_PARENTS = (cst.If, cst.While, cst.BooleanOperation, cst.Return, cst.Assign, cst.IfExp)
_YODA: dict[type[Any], type[Any]] = {
    cst.Equal: cst.Equal, cst.NotEqual: cst.NotEqual, cst.LessThan: cst.GreaterThan,
    cst.GreaterThan: cst.LessThan, cst.LessThanEqual: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.LessThanEqual,
}  # fmt: skip


@register(
    "none_comparison",
    "static",
    STYLE,
    Severity.LOW,
    rule_id="E711",
    subtlety=1,
    alt=(Category.MAINTAINABILITY,),
)
def none_comparison(scan: Scan) -> list[Site]:
    sites = []
    for node, info in scan.of_type(cst.Comparison):
        if not info.in_code or len(node.comparisons) != 1:
            continue
        target = node.comparisons[0]
        if not is_name(target.comparator, "None"):
            continue
        kind = {cst.Is: cst.Equal, cst.IsNot: cst.NotEqual}.get(type(target.operator))
        if kind is None:
            continue
        text = "Comparison to None with `==`/`!=`: `{new}` should be `{old}`."
        sites.append(scan.site("none_comparison", node, set_cmp_op(kind), explanation=text))
    return sites


@register(
    "negated_membership",
    "static",
    STYLE,
    Severity.LOW,
    rule_id="E713",
    subtlety=1,
    alt=(Category.MAINTAINABILITY,),
)
def negated_membership(scan: Scan) -> list[Site]:
    sites = []
    for node, info in scan.of_type(cst.Comparison):
        if not info.in_code or len(node.comparisons) != 1 or node.lpar:
            continue
        if not isinstance(node.comparisons[0].operator, cst.NotIn):
            continue
        if not isinstance(info.parent, _EXPR_PARENTS):
            continue

        def edit(n: Any) -> Any:
            t = n.comparisons[0]
            inner = n.with_changes(comparisons=[t.with_changes(operator=cst.In(_SPACE, _SPACE))])
            return cst.UnaryOperation(operator=cst.Not(whitespace_after=_SPACE), expression=inner)

        text = "Negated membership test: `{new}` reads ambiguously; write `{old}`."
        sites.append(scan.site("negated_membership", node, edit, explanation=text))
    return sites


@register(
    "lambda_assignment",
    "static",
    STYLE,
    Severity.LOW,
    rule_id="E731",
    subtlety=1,
    alt=(Category.MAINTAINABILITY,),
)
def lambda_assignment(scan: Scan) -> list[Site]:
    sites = []
    for func in scan.all_functions():
        if func.name.value == scan.entry or func.decorators or func.asynchronous:
            continue
        if not isinstance(func.body, cst.IndentedBlock) or len(func.body.body) != 1:
            continue
        stmt = func.body.body[0]
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        ret = stmt.body[0]
        if not isinstance(ret, cst.Return) or ret.value is None or func.params.star_kwarg:
            continue
        if func.params.kwonly_params or func.params.posonly_params:
            continue
        if not isinstance(func.params.star_arg, cst.MaybeSentinel):
            continue
        if any(isinstance(a, cst.ClassDef) for a in scan.ancestors(func)):
            continue

        def edit(n: Any) -> Any:
            params = [p.with_changes(annotation=None) for p in n.params.params]
            lam = cst.Lambda(
                params=n.params.with_changes(params=params), body=n.body.body[0].body[0].value
            )
            assign = cst.Assign(targets=[cst.AssignTarget(cst.Name(n.name.value))], value=lam)
            return cst.SimpleStatementLine(body=[assign], leading_lines=n.leading_lines)

        name = func.name.value
        text = (
            f"Lambda assigned to a name: `{name}` should be a `def` "
            "(readable tracebacks, room for a docstring)."
        )
        old = f"def {name}(...): return ..."
        sites.append(scan.site("lambda_assignment", func, edit, explanation=text, old=old))
    return sites


@register(
    "collapsible_if",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="SIM102",
    subtlety=1,
    alt=(Category.STYLE,),
)
def collapsible_if(scan: Scan) -> list[Site]:
    sites = []
    for node in lone_ifs(scan):
        if not isinstance(node.test, cst.BooleanOperation) or node.test.lpar:
            continue
        if not isinstance(node.test.operator, cst.And) or not isinstance(
            node.body, cst.IndentedBlock
        ):
            continue
        if isinstance(scan.parent(node), cst.If):  # an elif
            continue

        def edit(n: Any) -> Any:
            inner = cst.If(test=n.test.right, body=n.body)
            return n.with_changes(test=n.test.left, body=cst.IndentedBlock(body=[inner]))

        text = (
            "Nested `if` statements can be one `{old}`; the extra nesting only hurts readability."
        )
        old, new = f"if {scan.text(node.test, 60)}:", "nested `if` statements"
        sites.append(scan.site("collapsible_if", node, edit, explanation=text, old=old, new=new))
    return sites


@register(
    "needless_bool",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="SIM103",
    subtlety=1,
    alt=(Category.STYLE,),
)
def needless_bool(scan: Scan) -> list[Site]:
    sites = []
    for line, ret in single_statements(scan, cst.Return):
        value = ret.value
        if not isinstance(value, cst.Comparison) or value.lpar:
            continue
        block = block_of(scan, line)
        if not block or block[-1] is not line:
            continue

        def edit(n: Any) -> Any:
            test = n.body[0].value
            ret_true = cst.SimpleStatementLine(body=[cst.Return(cst.Name("True"))])
            branch = cst.If(test=test, body=cst.IndentedBlock(body=[ret_true]),
                            leading_lines=n.leading_lines)  # fmt: skip
            ret_false = cst.SimpleStatementLine(body=[cst.Return(cst.Name("False"))])
            return cst.FlattenSentinel([branch, ret_false])

        text = "Needless `if ...: return True` / `return False`: `{old}` says the same directly."
        new = f"if {scan.text(value, 50)}: return True / return False"
        sites.append(scan.site("needless_bool", line, edit, explanation=text, new=new))
    return sites


@register(
    "superfluous_else",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="RET505",
    subtlety=1,
    alt=(Category.STYLE,),
)
def superfluous_else(scan: Scan) -> list[Site]:
    sites = []
    for node in lone_ifs(scan):
        if not isinstance(node.body, cst.IndentedBlock):
            continue
        last = node.body.body[-1] if node.body.body else None
        if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)):
            continue
        block = block_of(scan, node)
        if not block or len(block) < 2 or block[-2] is not node:
            continue
        tail = block[-1]
        if not (isinstance(tail, cst.SimpleStatementLine) and isinstance(tail.body[0], cst.Return)):
            continue
        if isinstance(scan.parent(node), cst.If):
            continue

        def edit(n: Any, tail: cst.SimpleStatementLine = tail) -> Any:
            return n.with_changes(orelse=cst.Else(body=cst.IndentedBlock(body=[tail])))

        text = (
            "Unnecessary `else` after `return`: the branch already returned, so `{old}` can "
            "follow unindented."
        )
        site = scan.site(
            "superfluous_else", node, edit, explanation=text, old=scan.text(tail, 50),
            new=f"else: {scan.text(tail, 50)}", lines=(scan.span(node)[0], scan.span(tail)[1]),
            extra_targets=((tail, remove),),
        )  # fmt: skip
        sites.append(site)
    return sites


@register(
    "format_call",
    "static",
    STYLE,
    Severity.LOW,
    rule_id="UP032",
    subtlety=1,
    alt=(Category.MAINTAINABILITY,),
)
def format_call(scan: Scan) -> list[Site]:
    sites = []
    for node, info in scan.of_type(cst.FormattedString):
        if not info.in_code or isinstance(info.parent, cst.ConcatenatedString):
            continue
        prefix = node.prefix.lower()
        if prefix not in ("f", "rf", "fr"):
            continue
        pieces: list[str] = []
        args: list[cst.BaseExpression] = []
        ok = True
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
                continue
            if not isinstance(part, cst.FormattedStringExpression):
                ok = False
                break
            if part.equal is not None or any(
                not isinstance(s, cst.FormattedStringText) for s in (part.format_spec or [])
            ):
                ok = False
                break
            spec = "".join(getattr(s, "value", "") for s in part.format_spec or [])
            conv = f"!{part.conversion}" if part.conversion else ""
            pieces.append("{" + conv + (f":{spec}" if part.format_spec else "") + "}")
            args.append(part.expression)
        if not ok or not args:
            continue
        text = node.prefix.replace("f", "").replace("F", "") + node.start[len(node.prefix) :]
        literal = cst.SimpleString(text + "".join(pieces) + node.end)

        def edit(n: Any, literal: cst.SimpleString = literal, args: list[Any] = args) -> Any:
            call_args = [cst.Arg(a) for a in args]
            func = cst.Attribute(value=literal, attr=cst.Name("format"))
            return cst.Call(func=func, args=call_args, lpar=n.lpar, rpar=n.rpar)

        text = "Old-style `str.format` call: `{new}` is harder to read than the f-string `{old}`."
        sites.append(scan.site("format_call", node, edit, explanation=text))
    return sites


@register(
    "yoda_condition",
    "static",
    MAINT,
    Severity.LOW,
    rule_id="SIM300",
    subtlety=1,
    alt=(Category.STYLE,),
)
def yoda_condition(scan: Scan) -> list[Site]:
    sites = []
    constants = (cst.Integer, cst.Float, cst.SimpleString)
    for node, info in scan.of_type(cst.Comparison):
        if not info.in_code or len(node.comparisons) != 1:
            continue
        target = node.comparisons[0]
        kind = _YODA.get(type(target.operator))
        if kind is None or not isinstance(target.comparator, constants):
            continue
        if not isinstance(node.left, cst.Name | cst.Attribute):
            continue

        def edit(n: Any, kind: type[Any] = kind) -> Any:
            t = n.comparisons[0]
            return n.with_changes(
                left=t.comparator,
                comparisons=[t.with_changes(operator=new_op(t.operator, kind), comparator=n.left)],
            )

        text = "Yoda condition: `{new}` puts the constant first; write `{old}`."
        sites.append(scan.site("yoda_condition", node, edit, explanation=text))
    return sites
