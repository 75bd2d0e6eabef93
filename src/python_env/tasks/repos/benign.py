"""Changes a pull request makes that are not bugs: docstrings, clearer local names, sorted imports.

A pull-request review task mixes its planted issue (if any) with changes like these, so not every
changed line is suspect, and some pull requests are clean. Each change is a format-preserving
libcst rewrite of one module that leaves behaviour as it was (the generator still runs the
project's tests on the result and drops any that changes an outcome). Every function takes the
module's text and a seeded ``random.Random`` and returns the new text and a line for the pull
request's description, or None when the module offers nothing to change.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

import libcst as cst
from libcst.metadata import FunctionScope, MetadataWrapper, ScopeProvider

Change = Callable[[str, random.Random], tuple[str, str] | None]
# Names a careful author might pick instead of a terse one (only these are renamed).
CLEARER = {
    "i": "index", "j": "inner", "k": "key", "n": "count", "s": "text", "x": "value", "v": "value",
    "d": "mapping", "l": "items", "lst": "items", "res": "result", "ret": "result", "tmp": "temp",
    "val": "value", "idx": "index", "cnt": "count", "num": "number", "obj": "item", "e": "error",
    "c": "char", "m": "match", "p": "part", "r": "row", "t": "token", "buf": "buffer",
    "a": "left", "b": "right", "f": "func", "fn": "func", "w": "width", "h": "height",
    "ch": "char", "pos": "position", "cur": "current", "prev": "previous", "msg": "message",
    "sz": "size", "ln": "length", "src": "source", "dst": "target", "fmt": "pattern",
    "y": "other", "q": "queue", "o": "item", "kw": "options",
}  # fmt: skip
_DYNAMIC = {"locals", "vars", "eval", "exec", "globals", "__import__"}


def add_docstrings(code: str, rng: random.Random, most: int = 2) -> tuple[str, str] | None:
    """A one-line docstring on up to ``most`` public functions that have none."""
    module = cst.parse_module(code)
    bare = [f for f in _functions(module) if len(f.name.value) > 2
            and not (f.name.value.startswith("__") and f.name.value.endswith("__"))
            and isinstance(f.body, cst.IndentedBlock) and f.get_docstring() is None]  # fmt: skip
    public = [f for f in bare if not f.name.value.startswith("_")]
    bare = public or bare  # private helpers only when no public function lacks one
    if not bare:
        return None
    chosen = {id(f) for f in rng.sample(bare, min(most, len(bare)))}
    names = sorted(f.name.value for f in bare if id(f) in chosen)

    class Document(cst.CSTTransformer):
        def leave_FunctionDef(
            self, original: cst.FunctionDef, updated: cst.FunctionDef
        ) -> cst.FunctionDef:
            if id(original) not in chosen or not isinstance(updated.body, cst.IndentedBlock):
                return updated
            text = f'"""{_sentence(original.name.value)}"""'
            doc = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(text))])
            return updated.with_changes(
                body=updated.body.with_changes(body=[doc, *updated.body.body])
            )

    new = module.visit(Document()).code
    return new, f"Document {', '.join(f'`{n}`' for n in names)}."


def rename_local(code: str, rng: random.Random) -> tuple[str, str] | None:
    """Rename one terse local variable of one function to a clearer name, everywhere it is seen."""
    wrapper = MetadataWrapper(cst.parse_module(code))
    scopes = wrapper.resolve(ScopeProvider)
    taken = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    options: list[tuple[str, str, str, list[cst.CSTNode]]] = []
    for func in _functions(wrapper.module):
        scope = scopes.get(func.body)
        if not isinstance(scope, FunctionScope) or _dynamic(func):
            continue
        declared = _declared(func)
        for name in sorted({a.name for a in scope.assignments} - declared):
            nodes = _renamable(scope, name)
            new = CLEARER.get(name, "")
            if nodes and new and new not in taken:
                options.append((func.name.value, name, new, nodes))
    if not options:
        return None
    func_name, old, new, nodes = rng.choice(options)
    targets = {id(n) for n in nodes}

    class Rename(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value=new) if id(original) in targets else updated

    return wrapper.module.visit(Rename()).code, f"Rename `{old}` to `{new}` in `{func_name}`."


def sort_imports(code: str, rng: random.Random) -> tuple[str, str] | None:
    """Sort the module's first block of plain import statements (``__future__`` stays first)."""
    module = cst.parse_module(code)
    body = list(module.body)
    start = next((i for i, s in enumerate(body) if _plain_import(s)), None)
    if start is None:
        return None
    end = start
    while end < len(body) and _plain_import(body[end]) and not body[end].leading_lines:
        end += 1
    if end - start < 2:
        return None
    block = body[start:end]
    ordered = sorted(block, key=lambda s: (not _future(s), _import_key(module, s)))
    if [id(s) for s in ordered] == [id(s) for s in block]:
        return None
    first = block[0].leading_lines
    ordered = [s.with_changes(leading_lines=first if i == 0 else ()) for i, s in enumerate(ordered)]
    new = module.with_changes(body=[*body[:start], *ordered, *body[end:]]).code
    return new, "Sort the imports."


CHANGES: dict[str, Change] = {
    "docstrings": add_docstrings,
    "rename": rename_local,
    "imports": sort_imports,
}


def _functions(module: cst.Module) -> list[cst.FunctionDef]:
    found: list[cst.FunctionDef] = []

    class Collect(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            found.append(node)

    module.visit(Collect())
    return found


def _dynamic(func: cst.FunctionDef) -> bool:
    """Whether the function reaches its locals by name (``locals()``, ``eval``...)."""
    return bool(_names(func) & _DYNAMIC)


def _names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    node.visit(Collect())
    return names


def _declared(func: cst.FunctionDef) -> set[str]:
    """Names a ``global``/``nonlocal`` statement (here or in a nested function) names, and the
    parameters: renaming those would change what callers or other scopes see."""
    names = {p.name.value for p in [*func.params.params, *func.params.kwonly_params,
                                    *func.params.posonly_params]}  # fmt: skip
    for star in (func.params.star_arg, func.params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)

    class Collect(cst.CSTVisitor):
        def visit_Global(self, node: cst.Global) -> None:
            names.update(item.name.value for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            names.update(item.name.value for item in node.names)

    func.visit(Collect())
    return names


def _renamable(scope: FunctionScope, name: str) -> list[cst.CSTNode]:
    """Every Name node of local ``name`` (its bindings and uses), or [] when renaming it could
    change behaviour: a binding or a use that is not a plain name."""
    nodes: list[cst.CSTNode] = []
    for assignment in scope.assignments[name]:
        node = getattr(assignment, "node", None)
        if not isinstance(node, cst.Name):
            return []
        nodes.append(node)
        for access in assignment.references:
            if not isinstance(access.node, cst.Name):
                return []  # an attribute or string use: leave it alone
            nodes.append(access.node)
    return nodes


def _sentence(name: str) -> str:
    words = name.strip("_").replace("_", " ") or name
    return f"{words[0].upper()}{words[1:]}."


def _plain_import(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Import | cst.ImportFrom)
    )


def _future(stmt: cst.CSTNode) -> bool:
    assert isinstance(stmt, cst.SimpleStatementLine)
    node = stmt.body[0]
    return isinstance(node, cst.ImportFrom) and cst.Module([]).code_for_node(
        node.module or node
    ) == ("__future__")


def _import_key(module: cst.Module, stmt: cst.CSTNode) -> str:
    return module.code_for_node(stmt).strip().removeprefix("from ").removeprefix("import ")


def apply_changes(
    code: str, names: Sequence[str], rng: random.Random, most: int | None = None
) -> tuple[str, list[str]]:
    """Apply the named changes in order, up to ``most`` of those that apply (all by default);
    the new text and the descriptions of those that applied."""
    said: list[str] = []
    for name in names:
        if most is not None and len(said) >= most:
            break
        result = CHANGES[name](code, rng)
        if result is not None:
            code, line = result
            said.append(line)
    return code, said
