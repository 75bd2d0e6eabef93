"""Small features a pull request may add next to its refactors.

Real pull requests rarely only tidy: many also add a little behaviour, and a reviewer must see
that such a change is intended and right rather than flag every added line. ``expose_keyword``
(a change as in ``benign``: text and seeded ``random.Random`` in, new text and a description
line out, or None) turns a literal a public function passes to a call by keyword (``sorted(...,
reverse=True)``) into a keyword-only parameter of that function under the keyword's name, with
the literal as its default: callers may now choose it, and existing calls behave as before.

Left alone, because the new parameter could change what existing code sees: functions taking
``**kwargs`` (the name would catch what callers passed on), functions reaching their locals by
name (``locals()``, ``eval``...), decorated ones (but ``staticmethod``/``classmethod``),
functions nested in functions (no caller outside could pass it), and names already used in the
function. Only signatures written on one line are extended, and no line may grow past
``MAX_LINE``: the change reads as a person would write it. The generator runs the project's
tests on every head, as for every change.
"""

from __future__ import annotations

import functools
import random

import libcst as cst

from python_env.tasks.generate.injectors.base import names_in, parameter_names
from python_env.tasks.repos.refactors import parse

MAX_LINE = 99
_PLAIN_DECORATORS = {"staticmethod", "classmethod"}
_DYNAMIC = {"locals", "vars", "eval", "exec", "_getframe", "currentframe"}
_LITERALS = (cst.Integer, cst.Float, cst.SimpleString)
Exposed = tuple[cst.FunctionDef, str, str, tuple[cst.Arg, ...]]  # function, its name, keyword, args


def expose_keyword(code: str, rng: random.Random) -> tuple[str, str] | None:
    """One function's keyword literal turned into a keyword-only parameter with that default
    (None when nothing qualifies, or the picked change would make a line too long)."""
    options = _keyword_options(code)[1]
    return _exposed(code, rng.randrange(len(options))) if options else None


@functools.lru_cache(maxsize=64)
def _keyword_options(code: str) -> tuple[cst.Module, tuple[Exposed, ...]]:
    """The module's tree and every (public function, keyword) ``expose_keyword`` may expose: the
    keyword is passed the same literal at every call of the function's own body that uses it,
    and its name is free in the function (no variable, parameter or attribute of that name)."""
    module = parse(code)
    options: list[Exposed] = []
    for func, qualified in _public_functions(module):
        if not _exposable(module, func):
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
def _exposed(code: str, pick: int) -> tuple[str, str] | None:
    """``expose_keyword``'s change when it picks option number ``pick``."""
    module, options = _keyword_options(code)
    target, qualified, keyword, args = options[pick]
    default = args[0].value
    ids = {id(a) for a in args}
    annotated = any(p.annotation is not None for p in _params(target))
    space = cst.SimpleWhitespace(" " if annotated else "")
    param = cst.Param(
        cst.Name(keyword),
        annotation=cst.Annotation(cst.Name(_kind(default))) if annotated else None,
        default=default,
        equal=cst.AssignEqual(space, space),
    )

    class Expose(cst.CSTTransformer):
        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(value=cst.Name(keyword)) if id(original) in ids else updated

        def leave_FunctionDef(
            self, original: cst.FunctionDef, updated: cst.FunctionDef
        ) -> cst.FunctionDef:
            if original is not target:
                return updated
            params = updated.params
            star = params.star_arg
            if not isinstance(star, cst.Param | cst.ParamStar):
                star = cst.ParamStar()
            kwonly = [*params.kwonly_params, param]
            return updated.with_changes(
                params=params.with_changes(star_arg=star, kwonly_params=kwonly)
            )

    new = module.visit(Expose()).code
    old_lines = set(code.splitlines())
    if any(len(line) > MAX_LINE for line in new.splitlines() if line not in old_lines):
        return None
    shown = module.code_for_node(default)
    return new, f"Let callers of `{qualified}` choose `{keyword}` (default `{shown}`)."


def _public_functions(module: cst.Module) -> list[tuple[cst.FunctionDef, str]]:
    """The functions callers outside can reach: at the module's top level or in a class body
    (nested classes included), not in another function; public names only (``Class.method``)."""
    found: list[tuple[cst.FunctionDef, str]] = []
    classes: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            classes.append(node.name.value)

        def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
            classes.pop()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            qualified = ".".join([*classes, node.name.value])
            if not any(part.startswith("_") for part in qualified.split(".")):
                found.append((node, qualified))
            return False  # a function inside it is not reachable by callers

    module.visit(Collect())
    return found


def _exposable(module: cst.Module, func: cst.FunctionDef) -> bool:
    """Whether a keyword-only parameter can join ``func`` without changing a call of it or what
    its body sees, on a signature written on one line."""
    plain = all(
        isinstance(d.decorator, cst.Name) and d.decorator.value in _PLAIN_DECORATORS
        for d in func.decorators
    )
    params = func.params
    signature = module.code_for_node(params)
    slots = [*params.params, params.star_arg, *params.kwonly_params]
    present = [p for p in slots if isinstance(p, cst.Param | cst.ParamStar)]
    trailing = bool(present) and isinstance(present[-1].comma, cst.Comma)
    return (
        plain
        and params.star_kwarg is None
        and not params.posonly_params
        and "\n" not in signature
        and "#" not in signature
        and not trailing
        and not names_in(func.body) & _DYNAMIC
    )


def _params(func: cst.FunctionDef) -> list[cst.Param]:
    params = func.params
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    return [*params.params, *star, *params.kwonly_params]


def _kind(default: cst.BaseExpression) -> str:
    """The annotation of a literal default."""
    if isinstance(default, cst.SimpleString):
        return "bytes" if "b" in default.prefix.lower() else "str"
    kinds: dict[type[cst.BaseExpression], str] = {cst.Integer: "int", cst.Float: "float"}
    return kinds.get(type(default), "bool")


def _literal(node: cst.BaseExpression) -> bool:
    """A number, a plain string, True or False: immutable, so one default evaluated once is the
    same as the literal evaluated at each call."""
    return isinstance(node, _LITERALS) or (
        isinstance(node, cst.Name) and node.value in ("True", "False")
    )


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
