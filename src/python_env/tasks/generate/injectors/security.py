"""Security injectors, each tied to a bandit test id (checked through ruff's ``S`` port).

Two kinds: rewrites of the source's own code (validation by ``assert``, ``eval`` for parsing),
and *helper templates*: a small utility function in a safe and an unsafe variant. A helper task's
reference fix is the source with the safe helper appended; its code has the unsafe one instead
(appended at the end, so the line numbers of other injections are unaffected).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import Scan, Site, call_name, lone_ifs
from python_env.tasks.generate.injectors.bugs_ops import _INVERSE, new_op
from python_env.tasks.generate.injectors.security_templates import TEMPLATES, Template
from python_env.types import Category, Severity

SEC = Category.SECURITY
_SPACE = cst.SimpleWhitespace(" ")


@register(
    "assert_validation",
    "static",
    SEC,
    Severity.MEDIUM,
    rule_id="S101",
    subtlety=1,
    alt=(Category.BUG,),
)
def assert_validation(scan: Scan) -> list[Site]:
    sites = []
    for node in lone_ifs(scan):
        body = node.body
        stmts = body.body if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite) else []
        if len(stmts) != 1:
            continue
        small = stmts[0].body[0] if isinstance(stmts[0], cst.SimpleStatementLine) else stmts[0]
        if not isinstance(small, cst.Raise) or not isinstance(small.exc, cst.Call):
            continue
        msg_args = small.exc.args
        msg = msg_args[0].value if msg_args and not msg_args[0].keyword else None

        def edit(n: Any, msg: Any = msg) -> Any:
            test = n.test
            cond: cst.BaseExpression
            if (
                isinstance(test, cst.Comparison)
                and len(test.comparisons) == 1
                and type(test.comparisons[0].operator) in _INVERSE
            ):
                t = test.comparisons[0]
                kind = _INVERSE[type(t.operator)]
                cond = test.with_changes(
                    comparisons=[t.with_changes(operator=new_op(t.operator, kind))]
                )
            else:
                inner = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                cond = cst.UnaryOperation(cst.Not(whitespace_after=cst.SimpleWhitespace("")), inner)
            stmt = cst.Assert(
                test=cond,
                msg=msg,
                comma=cst.Comma(whitespace_after=_SPACE) if msg else cst.MaybeSentinel.DEFAULT,
            )
            return cst.SimpleStatementLine(body=[stmt], leading_lines=n.leading_lines)

        text = (
            "Input validation with `assert` (`{new}`): assertions are stripped under `python -O`, "
            "so bad input is no longer rejected. Raise an exception instead."
        )
        old = f"if {scan.text(node.test, 50)}: raise ..."
        sites.append(scan.site("assert_validation", node, edit, explanation=text, old=old))
    return sites


def _call_eval(n: Any) -> Any:
    """The call with its function renamed to ``eval``."""
    return n.with_changes(func=cst.Name("eval"))


@register("eval_parse", "static", SEC, Severity.HIGH, rule_id="S307", subtlety=1)
def eval_parse(scan: Scan) -> list[Site]:
    sites = []
    for call, info in scan.of_type(cst.Call):
        if not info.in_code or call_name(call) not in ("int", "float") or len(call.args) != 1:
            continue
        arg = call.args[0]
        if (
            arg.keyword
            or arg.star
            or not isinstance(arg.value, cst.Name | cst.Subscript | cst.Attribute)
        ):
            continue
        text = (
            "`{new}` executes arbitrary code taken from the input; parse it with `{old}` instead."
        )
        sites.append(scan.site("eval_parse", call, _call_eval, explanation=text))
    return sites


def _no_sites(scan: Scan) -> list[Site]:
    """Helper templates are appended by the task builder (``compose``), not found in code."""
    return []


TEMPLATE_BY_NAME: dict[str, Template] = {t.name: t for t in TEMPLATES}
for _t in TEMPLATES:
    register(_t.name, "static", SEC, _t.severity, rule_id=_t.rule_id, subtlety=1)(_no_sites)
