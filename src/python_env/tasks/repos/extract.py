"""Extract a helper: a pull request's refactor that moves an expression into a new function.

``if start <= index and index < stop and not closed:`` in ``Window.contains`` becomes
``if _contains_condition(start, index, stop, closed):`` with, above the class,
``def _contains_condition(start, index, stop, closed): return start <= index and ...``.
The helper takes the function's local names the expression reads, in the order it reads them,
and sees the same module globals and builtins, so it computes the same value with the same
side effects in the same order; those locals must be parameters the function never deletes
(bound wherever the expression is: its arguments are read before it runs), and no
class-private name may appear (mangled in a method, not in a helper). Only in functions at
module level or methods of a class at module level (no enclosing function whose variables a
helper could not see), in their bodies (not defaults, decorators or annotations), outside
nested scopes (lambdas, comprehensions), and never around ``super``, ``locals`` and the like,
which depend on the frame they run in.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any

import libcst as cst
from libcst.metadata import FunctionScope, MetadataWrapper, ScopeProvider

from python_env.tasks.generate.injectors.base import contains, names_in, parameter_names
from python_env.tasks.repos.refactors import parse

KINDS = (cst.BooleanOperation, cst.Comparison, cst.BinaryOperation)
MIN_CHARS, MAX_CHARS = 24, 90  # an expression worth naming, on one line
_FRAME = {"super", "locals", "vars", "eval", "exec", "globals", "__class__"}
_SCOPES = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
           cst.FunctionDef, cst.ClassDef)  # fmt: skip
_UNSAFE = (cst.Yield, cst.Await, cst.NamedExpr, cst.StarredElement)
GLOBALS = (cst.Global, cst.Nonlocal)  # a function declaring these is left alone
Found = tuple[cst.BaseExpression, str, tuple[str, ...], cst.CSTNode, str]
# the expression, the helper's name, its parameters, the top-level statement it goes above,
# the qualified name of the function it comes from


def _read_names(node: cst.CSTNode) -> list[str] | None:
    """The names ``node`` reads, in order (not attribute or keyword names); None if it holds
    something a helper would change (a nested scope, a yield, a frame-dependent name)."""
    names: list[str] = []
    unsafe = False

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal unsafe
            if isinstance(node, _SCOPES + _UNSAFE):
                unsafe = True
            elif isinstance(node, cst.Attribute):
                node.value.visit(self)  # ``obj.name`` reads ``obj`` only
                return False
            elif isinstance(node, cst.Arg):
                node.value.visit(self)  # ``f(key=value)`` reads ``value`` only
                return False
            elif isinstance(node, cst.Name):
                unsafe = unsafe or node.value in _FRAME
                if node.value not in names:
                    names.append(node.value)
            return not unsafe

    node.visit(Collect())
    return None if unsafe else names


@functools.lru_cache(maxsize=64)
def _sites(code: str) -> tuple[cst.Module, tuple[Found, ...]]:
    """The module's tree and the expressions a helper can take from it (the tree is the one
    they belong to: the rewrite finds them in it by identity)."""
    wrapper = MetadataWrapper(parse(code), unsafe_skip_copy=True)  # nothing here changes it
    scopes = wrapper.resolve(ScopeProvider)
    taken = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    found: list[Found] = []
    for stmt in wrapper.module.body:
        owner = stmt.name.value + "." if isinstance(stmt, cst.ClassDef) else ""
        funcs = [stmt] if isinstance(stmt, cst.FunctionDef) else []
        if isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            funcs = [s for s in stmt.body.body if isinstance(s, cst.FunctionDef)]
        for func in funcs:
            scope = scopes.get(func.body)
            if isinstance(scope, FunctionScope) and not contains(func.body, GLOBALS):
                local = {a.name for a in scope.assignments}  # parameters included
                found += _function_sites(func, stmt, owner + func.name.value, local, taken)
    return wrapper.module, tuple(found)


def _function_sites(
    func: cst.FunctionDef, top: cst.CSTNode, qualified: str, local: set[str], taken: set[str]
) -> list[Found]:
    """The expressions of ``func`` a helper can take; the helper's parameters are the local
    names they read (globals and builtins it reads itself)."""
    found: list[Found] = []
    text = cst.Module([]).code_for_node
    arguments = _arguments(func)
    kinds = {cst.BinaryOperation: "value", cst.BooleanOperation: "condition",
             cst.Comparison: "condition"}  # fmt: skip

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, (*_SCOPES, cst.Annotation)):
                return False
            if isinstance(node, KINDS) and MIN_CHARS <= len(text(node)) <= MAX_CHARS:
                names = _read_names(node)
                params = tuple(n for n in names or () if n in local)
                if params and set(params) <= arguments and _plain(text(node)):
                    name = _free(f"_{func.name.value.strip('_')}_{kinds[type(node)]}", taken)
                    found.append((node, name, params, top, qualified))
                    return False  # not also a part of it
            return True

    func.body.visit(Collect())
    return found


def _arguments(func: cst.FunctionDef) -> set[str]:
    """The parameters of ``func`` that it never deletes: bound wherever the expression is.
    Another local may be unbound where the expression short-circuits past it, and a helper
    reads its arguments before it runs, so only these are passed."""
    deleted: set[str] = set()

    class Find(cst.CSTVisitor):
        def visit_Del(self, node: cst.Del) -> None:
            deleted.update(names_in(node.target))

    func.body.visit(Find())
    return parameter_names(func) - deleted


def _plain(text: str) -> bool:
    """One line, and no class-private name (``self.__x`` is ``self._Class__x`` in a method,
    not in a helper at module level)."""
    mangled = any(w.startswith("__") and not w.endswith("__") for w in re.findall(r"\w+", text))
    return "\n" not in text and not mangled


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


@functools.lru_cache(maxsize=256)
def _extracted(code: str, pick: int) -> tuple[str, str]:
    module, sites = _sites(code)
    target, name, params, top, function = sites[pick]
    call = cst.Call(cst.Name(name), [cst.Arg(cst.Name(p)) for p in params],
                    lpar=target.lpar, rpar=target.rpar)  # fmt: skip
    body = cst.SimpleStatementLine([cst.Return(target.with_changes(lpar=(), rpar=()))])
    helper = cst.FunctionDef(
        name=cst.Name(name),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
        body=cst.IndentedBlock([body]),
        leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
    )
    gap = [cst.EmptyLine(), cst.EmptyLine()]

    class Apply(cst.CSTTransformer):
        def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
            if original_node is target:
                return call
            if original_node is top:  # the helper goes above it, two blank lines apart
                assert isinstance(updated_node, cst.FunctionDef | cst.ClassDef)
                spaced = updated_node.leading_lines or gap
                return cst.FlattenSentinel(
                    [helper, updated_node.with_changes(leading_lines=spaced)]
                )
            return updated_node

    return module.visit(Apply()).code, f"Extract `{name}` from `{function}`."


def extract_helper(code: str, rng: random.Random) -> tuple[str, str] | None:
    """Move one expression of one function into a new helper function (None if none fits)."""
    sites = _sites(code)[1]
    return _extracted(code, rng.randrange(len(sites))) if sites else None
