"""Asserts that carry values: the server compiles a task's tests with every ``assert`` in a
function turned into a check. Standard library only (the worker loads this file by path).

The harness records each check as part of the test's outcome (a ``CHECK_HOOK`` call), and the
server compares the outcome with the reference fix's. What a check hands over decides what a
candidate that forges the harness's output must still produce: the values its code computes,
never the ones the test expects, which stay on the server.
"""

from __future__ import annotations

import ast
import functools
import threading
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:  # the server: one lock for every tree built in the process
    from python_env.syntax import LOCK as _AST_LOCK
else:  # the worker loads this file by path, and builds trees on one thread
    _AST_LOCK = threading.Lock()

CHECK_HOOK = "__pyenv_check__"
VALUES, COMPARE, TRUTH, APPROX = "values", "compare", "truth", "approx"
APPROX_DEFAULTS = {"rel": 1e-6, "abs": 1e-12}  # pytest.approx's own
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def compile_tests(source: str, filename: str = "tests.py") -> types.CodeType:
    """Compile a test file with every ``assert`` in a function turned into a check (server
    side only). The hook gets the assert's line, a kind, and what the assert compares:

    - ``values``: ``assert x == <literal>`` (or ``x is None/True/False``) hands over ``x`` alone;
      the literal is what the test expects, and it stays on the server, in the reference's
      outcome;
    - ``compare``: ``assert a == b`` of two computed values hands over both and the truth of the
      comparison (``__eq__`` still decides);
    - ``approx``: ``assert x == approx(<literal>, rel=<literal>, abs=<literal>)`` hands over
      ``x`` and the tolerance; the server matches ``x`` with the reference's within it;
    - ``truth``: any other assert hands over its truth value.

    The test goes on after a check; the server decides, by comparing the checks with the
    reference's. Module-level asserts stay asserts (they run at import, outside every test).
    """
    with _AST_LOCK:  # CPython 3.11 converts trees with a process-wide depth counter (syntax.py)
        tree = _AssertsToChecks().visit(ast.parse(source, filename))
        return compile(ast.fix_missing_locations(tree), filename, "exec")


@functools.lru_cache(maxsize=512)
def expected_values(source: str) -> dict[int, Any]:
    """Per line, the literal a ``values`` check of ``compile_tests`` dropped: what the value it
    hands over must equal for the assert to hold (the server checks the reference's against
    it). ``{}`` for a file that does not parse."""
    try:
        with _AST_LOCK:
            transformer = _AssertsToChecks()
            transformer.visit(ast.parse(source, "tests.py"))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return {}
    return transformer.expected


class _AssertsToChecks(ast.NodeTransformer):
    def __init__(self) -> None:
        self.scopes: list[ast.AST] = []
        self.hidden: list[frozenset[str]] = [frozenset()]  # per scope: parameters kept out
        self.expected: dict[int, Any] = {}

    def _scoped(self, node: ast.AST) -> ast.AST:
        hidden: frozenset[str] = frozenset()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hidden = hide_expected_parameters(node)
        self.hidden.append(hidden)
        self.scopes.append(node)
        try:
            return self.generic_visit(node)
        finally:
            self.scopes.pop()
            self.hidden.pop()

    def _fixed(self, node: ast.expr) -> bool:
        """A literal, or a parameter whose values stay on the server: what a test expects."""
        return _literal(node) or (isinstance(node, ast.Name) and node.id in self.hidden[-1])

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Assert(self, node: ast.Assert) -> ast.stmt:
        if not self.scopes:
            return node
        args = self._check(node.test)
        if isinstance(args[0], ast.Constant) and args[0].value == VALUES:
            test = node.test
            assert isinstance(test, ast.Compare)
            literals = [o for o in (test.left, *test.comparators) if _literal(o)]
            if len(literals) == 1:
                self.expected[node.lineno] = ast.literal_eval(literals[0])
        call = ast.Call(ast.Name(CHECK_HOOK, ast.Load()), [ast.Constant(node.lineno), *args], [])
        return ast.copy_location(ast.Expr(call), node)

    def _check(self, test: ast.expr) -> list[ast.expr]:
        if not isinstance(test, ast.Compare):
            return [ast.Constant(TRUTH), test]
        operands = [test.left, *test.comparators]
        computed = [o for o in operands if not self._fixed(o)]
        equal = all(isinstance(op, ast.Eq) for op in test.ops)
        approx = _approx_of(operands) if equal and len(operands) == 2 else None
        if approx is not None:
            other = operands[1] if approx[0] is operands[0] else operands[0]
            return [ast.Constant(APPROX), other, ast.Constant(approx[1]), ast.Constant(approx[2])]
        identical = all(isinstance(op, ast.Is) for op in test.ops)
        if equal and len(computed) < len(operands):
            return [ast.Constant(VALUES), *computed]
        if identical and len(computed) == 1 and all(_singleton(o) for o in operands if _literal(o)):
            return [ast.Constant(VALUES), *computed]
        if equal and isinstance(self.scopes[-1], ast.FunctionDef | ast.AsyncFunctionDef):
            names = [f"__pyenv_v{i}" for i in range(len(operands))]
            held = [
                ast.NamedExpr(ast.Name(n, ast.Store()), o)
                for n, o in zip(names, operands, strict=True)
            ]
            loads: list[ast.expr] = [ast.Name(n, ast.Load()) for n in names]
            return [ast.Constant(COMPARE), *held, ast.Compare(loads[0], test.ops, loads[1:])]
        return [ast.Constant(TRUTH), test]


def _approx_of(operands: list[ast.expr]) -> tuple[ast.expr, float, float] | None:
    """The ``approx(<literal>, rel=, abs=)`` operand of a two-sided ``==`` and its tolerance,
    if the other side is computed and every argument is a literal."""
    calls = [
        o for o in operands
        if isinstance(o, ast.Call)
        and (getattr(o.func, "id", None) == "approx" or getattr(o.func, "attr", None) == "approx")
    ]  # fmt: skip
    if len(calls) != 1 or len(calls[0].args) != 1 or any(_literal(o) for o in operands):
        return None
    call = calls[0]
    if not _literal(call.args[0]) or any(k.arg not in APPROX_DEFAULTS for k in call.keywords):
        return None
    tolerance = dict(APPROX_DEFAULTS)
    for keyword in call.keywords:
        value = ast.literal_eval(keyword.value) if _literal(keyword.value) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            return None
        tolerance[str(keyword.arg)] = float(value)
    return call, tolerance["rel"], tolerance["abs"]


def _singleton(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (None, True, False)


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def hide_expected_parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    """Take the expected values of ``@pytest.mark.parametrize`` out of a test (in place).

    A parameter the test only ever compares against (``assert f(a) == expected``, in the test
    itself) is what the test expects; like a literal, its values must not enter the child.
    They become None in the decorator, the decorator gets the ids pytest would have made from
    the real values (test ids do not change), and the asserts hand over only the other side.
    Literal tables only; anything else is left as it is.
    """
    params = {a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)}
    hidden: set[str] = set()
    for decorator in func.decorator_list:
        table = _parametrize_table(decorator)
        if table is None:
            continue
        names, rows = table
        expected = {n for n in names if n in params and _only_compared(func, n)}
        if not expected:
            continue
        assert isinstance(decorator, ast.Call)
        if not any(k.arg == "ids" for k in decorator.keywords):
            ids = [
                "-".join(_id_part(v, n, i) for n, v in zip(names, row, strict=True))
                for i, row in enumerate(rows)
            ]
            decorator.keywords.append(ast.keyword("ids", _node(ids)))
        kept = [[None if n in expected else v for n, v in zip(names, row, strict=True)]
                for row in rows]  # fmt: skip
        decorator.args[1] = _node(
            [tuple(r) for r in kept] if len(names) > 1 else [r[0] for r in kept]
        )
        hidden |= expected
    return frozenset(hidden)


def _parametrize_table(decorator: ast.expr) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """The argument names and rows of a ``parametrize(names, <literal list>[, ids=...])``."""
    if not (
        isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "parametrize"
    ):
        return None
    args = decorator.args
    if len(args) != 2 or any(k.arg != "ids" for k in decorator.keywords):
        return None
    if not (_literal(args[0]) and _literal(args[1])):
        return None
    names, table = ast.literal_eval(args[0]), ast.literal_eval(args[1])
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not (isinstance(names, list | tuple) and names and all(isinstance(n, str) for n in names)):
        return None
    if not isinstance(table, list | tuple):
        return None
    if len(names) == 1:
        return list(names), [(value,) for value in table]
    if not all(isinstance(row, list | tuple) and len(row) == len(names) for row in table):
        return None
    return list(names), [tuple(row) for row in table]


def _only_compared(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """Every use of ``name`` in the test is one side of an ``assert <computed> == name`` in the
    test's own body (not in a nested function, not against an ``approx``)."""
    allowed: set[int] = set()
    pending: list[ast.AST] = list(func.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue  # a nested scope: its uses stay disallowed
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare):
            test = node.test
            if len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
                pair = (test.left, test.comparators[0])
                for mine, other in (pair, pair[::-1]):
                    if isinstance(mine, ast.Name) and mine.id == name and _computed(other, name):
                        allowed.add(id(mine))
        pending.extend(ast.iter_child_nodes(node))
    uses = [
        node for stmt in func.body for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and node.id == name
    ]  # fmt: skip
    return bool(uses) and all(id(use) in allowed for use in uses)


def _computed(node: ast.expr, name: str) -> bool:
    """The other side of the comparison: computed by the test, without ``name`` or approx."""
    if _literal(node) or _approx_of([node, ast.Name("_", ast.Load())]) is not None:
        return False
    return not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _id_part(value: Any, name: str, index: int) -> str:
    """pytest's id for one parameter value (``IdMaker._idval``), for the literal types; pytest
    escapes the explicit ids it is given as it escapes the ones it makes, so text stays raw."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value is None or isinstance(value, bool | int | float | complex):
        return str(value)
    return f"{name}{index}"


def _node(value: Any) -> ast.expr:
    """A literal value as an expression (inf and complex included, which repr cannot do)."""
    if isinstance(value, list):
        return ast.List([_node(v) for v in value], ast.Load())
    if isinstance(value, tuple):
        return ast.Tuple([_node(v) for v in value], ast.Load())
    if isinstance(value, set | frozenset):
        return ast.Set([_node(v) for v in value])
    if isinstance(value, dict):
        return ast.Dict([_node(k) for k in value], [_node(v) for v in value.values()])
    return ast.Constant(value)
