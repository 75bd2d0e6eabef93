"""Behavioural injectors on expressions: operators, comparisons, constants, calls."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import libcst as cst

from python_env.tasks.generate.injectors import register
from python_env.tasks.generate.injectors.base import Edit, Scan, Site, call_name, changes, is_name
from python_env.types import Category, Severity

BUG = Category.BUG
_INVERSE: dict[type[Any], type[Any]] = {
    cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.LessThan: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.LessThan, cst.GreaterThan: cst.LessThanEqual,
    cst.LessThanEqual: cst.GreaterThan, cst.In: cst.NotIn, cst.NotIn: cst.In,
    cst.Is: cst.IsNot, cst.IsNot: cst.Is,
}  # fmt: skip
BOUNDARY: dict[type[Any], type[Any]] = {
    cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan,
}  # fmt: skip
_BINOPS: dict[type[Any], type[Any]] = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide,
    cst.Divide: cst.Multiply, cst.FloorDivide: cst.Divide, cst.Modulo: cst.FloorDivide,
    cst.Power: cst.Multiply, cst.AddAssign: cst.SubtractAssign,
    cst.SubtractAssign: cst.AddAssign, cst.MultiplyAssign: cst.AddAssign,
    cst.DivideAssign: cst.MultiplyAssign, cst.FloorDivideAssign: cst.DivideAssign,
}  # fmt: skip
_FUNCTIONS = {
    "min": "max", "max": "min", "any": "all", "all": "any", "math.floor": "math.ceil",
    "math.ceil": "math.floor", "floor": "ceil", "ceil": "floor",
}  # fmt: skip
_NO_SWAP = {"max", "min", "print", "set", "zip", "sum", "isinstance", "hash", "abs", "round"}
_SIMPLE = (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.SimpleString, cst.Subscript)
_BOUNDED = (cst.Name, cst.Call, cst.Attribute, cst.Subscript)


def new_op(old: Any, kind: type[Any]) -> Any:
    """An operator of ``kind`` with ``old``'s surrounding whitespace."""
    fields = {"whitespace_before": old.whitespace_before, "whitespace_after": old.whitespace_after}
    if kind in (cst.NotIn, cst.IsNot):
        fields["whitespace_between"] = cst.SimpleWhitespace(" ")
    return kind(**fields)


def set_op(kind: type[Any]) -> Edit:
    """An edit that gives the target's ``operator`` the type ``kind``."""
    return lambda n: n.with_changes(operator=new_op(n.operator, kind))


def set_cmp_op(kind: type[Any]) -> Edit:
    """An edit that gives a one-comparison ``Comparison`` the operator type ``kind``."""

    def edit(node: cst.Comparison) -> cst.Comparison:
        target = node.comparisons[0]
        return node.with_changes(
            comparisons=[target.with_changes(operator=new_op(target.operator, kind))]
        )

    return edit


def _comparisons(scan: Scan, table: dict[type[Any], type[Any]], name: str, text: str) -> list[Site]:
    sites = []
    for node, info in scan.of_type(cst.Comparison):
        if not info.in_code or len(node.comparisons) != 1:
            continue
        kind = table.get(type(node.comparisons[0].operator))
        if kind is None:
            continue
        sites.append(scan.site(name, node, set_cmp_op(kind), explanation=text))
    return sites


@register("compare_flip", "bug", BUG, Severity.HIGH, subtlety=1)
def compare_flip(scan: Scan) -> list[Site]:
    return _comparisons(
        scan, _INVERSE, "compare_flip", "Inverted condition: `{new}` should be `{old}`."
    )


@register("boundary_shift", "bug", BUG, Severity.MEDIUM, subtlety=2)
def boundary_shift(scan: Scan) -> list[Site]:
    return _comparisons(
        scan,
        BOUNDARY,
        "boundary_shift",
        "Wrong boundary: `{new}` should be `{old}`; the edge value is handled on the wrong side.",
    )


@register("operator_swap", "bug", BUG, Severity.HIGH, subtlety=1)
def operator_swap(scan: Scan) -> list[Site]:
    sites = []
    nodes: list[tuple[cst.BinaryOperation | cst.AugAssign, Any]] = [
        *scan.of_type(cst.BinaryOperation),
        *scan.of_type(cst.AugAssign),
    ]
    for node, info in nodes:
        kind = _BINOPS.get(type(node.operator))
        if not info.in_code or kind is None:
            continue
        if isinstance(node, cst.BinaryOperation) and (
            isinstance(node.left, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString)
            or isinstance(node.right, cst.SimpleString | cst.FormattedString)
        ):
            continue
        text = "Wrong operator: `{new}` should be `{old}`."
        sites.append(scan.site("operator_swap", node, set_op(kind), explanation=text))
    return sites


@register("bool_swap", "bug", BUG, Severity.MEDIUM, subtlety=2)
def bool_swap(scan: Scan) -> list[Site]:
    sites = []
    for node, info in scan.of_type(cst.BooleanOperation):
        if not info.in_code:
            continue
        kind = cst.Or if isinstance(node.operator, cst.And) else cst.And
        text = "Wrong logical operator: `{new}` should be `{old}`."
        sites.append(scan.site("bool_swap", node, set_op(kind), explanation=text))
    for unary, info in scan.of_type(cst.UnaryOperation):
        if not info.in_code or not isinstance(unary.operator, cst.Not):
            continue
        if isinstance(scan.parent(unary), cst.BinaryOperation | cst.UnaryOperation):
            continue
        sites.append(
            scan.site(
                "bool_swap",
                unary,
                lambda n: n.expression,
                explanation="Missing negation: `{new}` should be `{old}`.",
            )
        )
    return sites


@register("function_swap", "bug", BUG, Severity.HIGH, subtlety=1)
def function_swap(scan: Scan) -> list[Site]:
    sites = []
    for call, info in scan.of_type(cst.Call):
        name = call_name(call)
        if not info.in_code:
            continue
        edit: Edit
        if name in _FUNCTIONS:
            edit = _rename_call(_FUNCTIONS[name])
        elif name == "sorted" and not any(a.keyword for a in call.args) and len(call.args) == 1:
            edit = _reverse_sort
        else:
            continue
        sites.append(
            scan.site(
                "function_swap",
                call,
                edit,
                explanation="Wrong function: `{new}` should be `{old}`.",
            )
        )
    return sites


def _rename_call(other: str) -> Edit:
    def edit(n: Any) -> Any:
        if "." in other:
            return n.with_changes(func=n.func.with_changes(attr=cst.Name(other.split(".")[1])))
        return n.with_changes(func=cst.Name(other))

    return edit


def _reverse_sort(n: Any) -> Any:
    arg0 = n.args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    nospace = cst.SimpleWhitespace("")
    rev = cst.Arg(
        value=cst.Name("True"), keyword=cst.Name("reverse"), equal=cst.AssignEqual(nospace, nospace)
    )
    return n.with_changes(args=[arg0, rev])


@register("swap_args", "bug", BUG, Severity.MEDIUM, subtlety=2)
def swap_args(scan: Scan) -> list[Site]:
    sites = []
    for call, info in scan.of_type(cst.Call):
        name = call_name(call)
        if not info.in_code or name in _NO_SWAP or name.split(".")[-1] in _NO_SWAP:
            continue
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if not a.keyword and not a.star]
        for i, j in pairwise(positional):
            if j != i + 1:
                continue
            a, b = args[i].value, args[j].value
            if not (isinstance(a, _SIMPLE) and isinstance(b, _SIMPLE)):
                continue
            if scan.text(a) == scan.text(b):
                continue

            def edit(n: Any, i: int = i, j: int = j) -> Any:
                new_args = list(n.args)
                new_args[i] = n.args[i].with_changes(value=n.args[j].value)
                new_args[j] = n.args[j].with_changes(value=n.args[i].value)
                return n.with_changes(args=new_args)

            sites.append(
                scan.site(
                    "swap_args",
                    call,
                    edit,
                    explanation="Arguments in the wrong order: `{new}` should be `{old}`.",
                )
            )
            break
    return sites


@register("wrong_init", "bug", BUG, Severity.MEDIUM, subtlety=2)
def wrong_init(scan: Scan) -> list[Site]:
    swaps = {"0": "1", "1": "0", "True": "False", "False": "True"}
    sites = []
    for assign, info in scan.of_type(cst.Assign):
        if not info.in_code or len(assign.targets) != 1:
            continue
        if not isinstance(assign.targets[0].target, cst.Name):
            continue
        value = assign.value
        if isinstance(value, cst.Integer) and value.value in swaps:
            new: cst.BaseExpression = cst.Integer(swaps[value.value])
        elif is_name(value, "True", "False"):
            new = cst.Name(swaps[value.value])  # type: ignore[attr-defined]
        else:
            continue
        sites.append(
            scan.site(
                "wrong_init",
                assign,
                changes(value=new),
                explanation="Wrong initial value: `{new}` should be `{old}`.",
            )
        )
    return sites


def _shift(value: cst.BaseExpression, up: bool) -> cst.BaseExpression | None:
    """``value`` moved by one: an existing ``+ 1``/``- 1`` is dropped, else one is added."""
    if (
        isinstance(value, cst.BinaryOperation)
        and isinstance(value.operator, cst.Add | cst.Subtract)
        and isinstance(value.right, cst.Integer)
        and value.right.value == "1"
    ):
        return value.left
    if not isinstance(value, (*_BOUNDED, cst.BinaryOperation)):
        return None
    if isinstance(value, cst.BinaryOperation) and not isinstance(
        value.operator, cst.Add | cst.Subtract
    ):
        return None
    op: cst.BaseBinaryOp = cst.Add() if up else cst.Subtract()
    return cst.BinaryOperation(left=value, operator=op, right=cst.Integer("1"))


@register("off_by_one", "bug", BUG, Severity.MEDIUM, subtlety=2)
def off_by_one(scan: Scan) -> list[Site]:
    sites: list[Site] = []

    def add(target: cst.CSTNode, edit: Any) -> None:
        sites.append(
            scan.site(
                "off_by_one", target, edit, explanation="Off by one: `{new}` should be `{old}`."
            )
        )

    for call, info in scan.of_type(cst.Call):
        if not info.in_code or call_name(call) != "range" or not 1 <= len(call.args) <= 2:
            continue
        if any(a.keyword or a.star for a in call.args):
            continue
        index = len(call.args) - 1
        shifted = _shift(call.args[index].value, up=False)
        if shifted is not None:

            def edit(n: Any, index: int = index) -> Any:
                args = list(n.args)
                args[index] = args[index].with_changes(value=_shift(args[index].value, False))
                return n.with_changes(args=args)

            add(call, edit)
    for sub, info in scan.of_type(cst.Subscript):
        if not info.in_code or len(sub.slice) != 1:
            continue
        elem = sub.slice[0].slice
        if isinstance(elem, cst.Index) and isinstance(elem.value, cst.Name | cst.BinaryOperation):
            if _shift(elem.value, up=True) is None or is_name(elem.value, "True", "False", "None"):
                continue

            def edit_index(n: Any) -> Any:
                idx = n.slice[0].slice
                new = idx.with_changes(value=_shift(idx.value, True))
                return n.with_changes(slice=[n.slice[0].with_changes(slice=new)])

            add(sub, edit_index)
        elif isinstance(elem, cst.Slice) and elem.upper is not None and elem.step is None:
            if _shift(elem.upper, up=True) is None or isinstance(elem.upper, cst.Integer):
                continue

            def edit_slice(n: Any) -> Any:
                sl = n.slice[0].slice
                new = sl.with_changes(upper=_shift(sl.upper, True))
                return n.with_changes(slice=[n.slice[0].with_changes(slice=new)])

            add(sub, edit_slice)
    return sites
