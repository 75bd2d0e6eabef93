"""Small features a pull request may add next to its refactors.

Real pull requests rarely only tidy: many also add a little behaviour, and a reviewer must see
that such a change is intended and right rather than flag every added line. Two kinds, each a
change as in ``benign`` (text and seeded ``random.Random`` in, new text and a description line
out, or None):

- ``expose_keyword``: a literal a public function passes to a call by keyword (``sorted(...,
  reverse=True)``) becomes a keyword-only parameter of the function under that keyword's name,
  with the literal as its default, so callers may choose it and existing calls behave as before
  (functions taking ``**kwargs`` are left alone: the new name would catch what they passed on);
- ``add_repr``: a class without a ``repr`` of its own gets one built from the fields its
  ``__init__`` stores (``Point(x=1, y=2)`` instead of ``<Point object at 0x...>``). Only plain
  classes qualify (no bases but ``object``, no decorators, no attribute hooks, every
  ``__init__`` parameter stored under its own name).

The generator runs the project's tests on every head, as for every change.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

import libcst as cst

from python_env.tasks.generate.injectors.base import parameter_names
from python_env.tasks.repos.benign import qualified_functions
from python_env.tasks.repos.refactors import parse

MAX_FIELDS = 5
MAX_LINE = 99  # the new return line, indentation included: no repr line a linter would wrap
# A class with one of these reaches its attributes in its own way: a repr reading them might not
# see what ``__init__`` stored (or might recurse).
_HOOKS = {"__repr__", "__getattr__", "__getattribute__", "__setattr__", "__slots__"}

Option = tuple[str, str, tuple[str, ...]]  # class (qualified), self's name, its fields
# A keyword whose literal may become a parameter: these decorators leave a signature as callers
# see it.
_PLAIN_DECORATORS = {"staticmethod", "classmethod"}
_LITERALS = (cst.Integer, cst.Float, cst.SimpleString)
Exposed = tuple[cst.FunctionDef, str, str, tuple[cst.Arg, ...]]  # function, its name, keyword, args


def expose_keyword(code: str, rng: random.Random) -> tuple[str, str] | None:
    """One function's keyword literal turned into a keyword-only parameter with that default."""
    options = _keyword_options(code)[1]
    return _exposed(code, rng.randrange(len(options))) if options else None


@functools.lru_cache(maxsize=64)
def _keyword_options(code: str) -> tuple[cst.Module, tuple[Exposed, ...]]:
    """The module's tree and every (public function, keyword) ``expose_keyword`` may expose: the
    keyword is passed the same literal at every call of the function's own body that uses it,
    and its name is free in the function (no variable, parameter or attribute of that name)."""
    module = parse(code)
    options: list[Exposed] = []
    for func, qualified in qualified_functions(module).items():
        if not _exposable(func) or any(part.startswith("_") for part in qualified.split(".")):
            continue
        args = _keyword_args(func)
        taken = _used_names(func)
        for keyword in sorted(args):
            values = {module.code_for_node(a.value) for a in args[keyword]}
            literal = all(_literal(a.value) for a in args[keyword])
            if literal and len(values) == 1 and keyword not in taken:
                options.append((func, qualified, keyword, tuple(args[keyword])))
    return module, tuple(options)


@functools.lru_cache(maxsize=256)
def _exposed(code: str, pick: int) -> tuple[str, str]:
    """``expose_keyword``'s change when it picks option number ``pick``."""
    module, options = _keyword_options(code)
    target, qualified, keyword, args = options[pick]
    default = args[0].value
    ids = {id(a) for a in args}

    class Expose(cst.CSTTransformer):
        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(value=cst.Name(keyword)) if id(original) in ids else updated

        def leave_FunctionDef(
            self, original: cst.FunctionDef, updated: cst.FunctionDef
        ) -> cst.FunctionDef:
            if original is not target:
                return updated
            return updated.with_changes(params=_with_keyword(updated.params, keyword, default))

    shown = module.code_for_node(default)
    line = f"Let callers of `{qualified}` choose `{keyword}` (default `{shown}`)."
    return module.visit(Expose()).code, line


def _with_keyword(
    params: cst.Parameters, keyword: str, default: cst.BaseExpression
) -> cst.Parameters:
    """``params`` and a keyword-only ``keyword=default`` at their end, annotated when the others
    are; a signature laid out one parameter a line keeps that layout."""
    slots = [*params.params, params.star_arg, *params.kwonly_params]
    present = [p for p in slots if isinstance(p, cst.Param | cst.ParamStar)]
    annotated = any(isinstance(p, cst.Param) and p.annotation is not None for p in present)
    kind = {cst.Integer: "int", cst.Float: "float", cst.SimpleString: "str"}.get(
        type(default), "bool"
    )
    space = cst.SimpleWhitespace(" " if annotated else "")
    commas = [p.comma if isinstance(p.comma, cst.Comma) else None for p in present]
    trailing = commas[-1] if commas else None  # a trailing comma: one parameter a line
    between = commas[-2] if len(commas) > 1 and commas[-2] else trailing
    new = cst.Param(
        cst.Name(keyword),
        annotation=cst.Annotation(cst.Name(kind)) if annotated else None,
        default=default,
        equal=cst.AssignEqual(space, space),
        comma=trailing or cst.MaybeSentinel.DEFAULT,
    )
    last = present[-1] if trailing else None

    def separated(items: Sequence[cst.Param]) -> list[cst.Param]:
        return [p.with_changes(comma=between) if p is last else p for p in items]

    star = params.star_arg
    if isinstance(star, cst.Param | cst.ParamStar) and star is last:
        star = star.with_changes(comma=between)
    elif not isinstance(star, cst.Param | cst.ParamStar):
        star = cst.ParamStar(comma=between) if between else cst.ParamStar()
    return params.with_changes(
        params=separated(params.params),
        star_arg=star,
        kwonly_params=[*separated(params.kwonly_params), new],
    )


def _literal(node: cst.BaseExpression) -> bool:
    """A number, a plain string, True or False: immutable, so one default evaluated once is the
    same as the literal evaluated at each call."""
    return isinstance(node, _LITERALS) or (
        isinstance(node, cst.Name) and node.value in ("True", "False")
    )


def _exposable(func: cst.FunctionDef) -> bool:
    """Whether a keyword-only parameter can join ``func`` without changing a call of it."""
    name = func.name.value
    dunder = name.startswith("__") and name.endswith("__") and name != "__init__"
    plain = all(
        isinstance(d.decorator, cst.Name) and d.decorator.value in _PLAIN_DECORATORS
        for d in func.decorators
    )
    params = func.params
    return plain and not dunder and params.star_kwarg is None and not params.posonly_params


def _keyword_args(func: cst.FunctionDef) -> dict[str, list[cst.Arg]]:
    """The keyword arguments of the calls in ``func``'s own body (not in nested functions,
    lambdas or classes), by keyword."""
    found: dict[str, list[cst.Arg]] = {}

    class Collect(cst.CSTVisitor):
        def visit_Arg(self, node: cst.Arg) -> None:
            word = node.keyword.value if node.keyword is not None else ""
            if len(word) > 2 and not word.startswith("_"):
                found.setdefault(word, []).append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    func.body.visit(Collect())
    return found


def _used_names(func: cst.FunctionDef) -> set[str]:
    """Every name ``func`` uses (nested scopes and attribute names included), but not the
    keywords of its calls, and its parameters."""
    names = parameter_names(func)

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)  # the keyword is not a use of the name
            return False

    func.body.visit(Collect())
    for decorator in func.decorators:
        decorator.visit(Collect())
    return names


def add_repr(code: str, rng: random.Random) -> tuple[str, str] | None:
    """A ``__repr__`` after the ``__init__`` of one class that has none."""
    options = _repr_options(code)[1]
    return _with_repr(code, rng.randrange(len(options))) if options else None


@functools.lru_cache(maxsize=64)
def _repr_options(code: str) -> tuple[cst.Module, tuple[tuple[cst.ClassDef, Option], ...]]:
    """The module's tree and the classes ``add_repr`` may give a repr (found in it by identity)."""
    module = parse(code)
    found: list[tuple[cst.ClassDef, Option]] = []
    names: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            names.append(node.name.value)
            option = _option(node, ".".join(names), len(names))
            if option is not None:
                found.append((node, option))

        def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
            names.pop()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False  # a class inside a function is not part of the module's API

    module.visit(Collect())
    return module, tuple(found)


@functools.lru_cache(maxsize=256)
def _with_repr(code: str, pick: int) -> tuple[str, str]:
    """``add_repr``'s change when it picks class number ``pick``."""
    module, options = _repr_options(code)
    target, (qualified, me, fields) = options[pick]
    shown = ", ".join(f"{f}={{{me}.{f}!r}}" for f in fields)
    method = cst.parse_statement(
        f'def __repr__({me}):\n    return f"{{type({me}).__name__}}({shown})"\n'
    ).with_changes(leading_lines=[cst.EmptyLine()])

    class Insert(cst.CSTTransformer):
        def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
            if original is not target:
                return updated
            body = list(updated.body.body)
            at = next(i for i, s in enumerate(body) if _named(s, "__init__")) + 1
            block = updated.body.with_changes(body=[*body[:at], method, *body[at:]])
            return updated.with_changes(body=block)

    return module.visit(Insert()).code, f"Add a readable `repr` to `{qualified}`."


def _option(node: cst.ClassDef, qualified: str, depth: int) -> Option | None:
    """What a repr of class ``node`` would show, or None when it does not qualify."""
    plain_bases = all(
        isinstance(b.value, cst.Name) and b.value.value == "object" and b.keyword is None
        for b in node.bases
    )
    if node.decorators or node.keywords or not plain_bases:
        return None
    if not isinstance(node.body, cst.IndentedBlock):
        return None
    body = node.body.body
    if any(_named(s, name) for s in body for name in _HOOKS):
        return None
    init = next((s for s in body if _named(s, "__init__")), None)
    if not isinstance(init, cst.FunctionDef) or not isinstance(init.body, cst.IndentedBlock):
        return None
    params = init.params
    if params.posonly_params or params.star_kwarg or isinstance(params.star_arg, cst.Param):
        return None
    declared = [p.name.value for p in (*params.params, *params.kwonly_params)]
    if len(declared) < 2 or len(declared) > MAX_FIELDS + 1 or init.asynchronous:
        return None
    me, fields = declared[0], tuple(declared[1:])
    stored = {_stored(s, me) for s in init.body.body}
    if not set(fields) <= stored or any(_named(s, f) for s in body for f in fields):
        return None  # a field not stored as given, or shadowed by a method or a property
    width = 4 * (depth + 1) + len('return f"{type().__name__}()"') + len(me)
    width += sum(len(f"{f}={{{me}.{f}!r}}, ") for f in fields)
    return (qualified, me, fields) if width <= MAX_LINE else None


def _named(stmt: cst.CSTNode, name: str) -> bool:
    """Whether a class-body statement defines ``name`` (a def, a class or an assignment)."""
    if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
        return stmt.name.value == name
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            targets = []
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign | cst.AugAssign):
                targets = [small.target]
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                return True
    return False


def _stored(stmt: cst.BaseStatement, me: str) -> str:
    """``p`` when the statement is ``me.p = p`` (a field stored as given), else ""."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return ""
    assign = stmt.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return ""
    target, value = assign.targets[0].target, assign.value
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == me
        and isinstance(value, cst.Name)
        and value.value == target.attr.value
    ):
        return value.value
    return ""
