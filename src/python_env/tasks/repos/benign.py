"""Changes a pull request makes that are not bugs: docstrings, clearer local names, sorted imports.

A pull-request review task mixes its planted issue (if any) with changes like these, so not every
changed line is suspect, and some pull requests are clean. Each change is a format-preserving
libcst rewrite of one module that leaves behaviour as it was (the generator still runs the
project's tests on the result and drops any that changes an outcome). Every function takes the
module's text and a seeded ``random.Random`` and returns the new text and a line for the pull
request's description, or None when the module offers nothing to change.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Mapping, Sequence

import libcst as cst
from libcst.metadata import FunctionScope, MetadataWrapper, ScopeProvider

from python_env.tasks.generate.injectors.base import names_in, parameter_names
from python_env.tasks.repos.refactors import parse

Change = Callable[[str, random.Random], tuple[str, str] | None]
# Names a careful author might pick instead of a terse one (only these are renamed).
CLEARER = {
    "i": "index", "k": "key", "n": "count", "s": "text", "x": "value", "v": "value",
    "d": "mapping", "l": "items", "lst": "items", "res": "result", "ret": "result", "tmp": "temp",
    "val": "value", "idx": "index", "cnt": "count", "num": "number", "buf": "buffer",
    "fn": "func", "ch": "char", "pos": "position", "cur": "current", "prev": "previous",
    "msg": "message", "sz": "size", "src": "source", "dst": "target", "kw": "options",
}  # fmt: skip
# Left out: letters whose meaning varies too much to name blindly (``e`` is not always an error,
# ``f`` a file as often as a function, ``a``/``b`` rarely "left"/"right"): a rename that
# misnames a variable is not benign to a reader.
_DYNAMIC = {"locals", "vars", "eval", "exec", "globals", "__import__"}


def add_docstrings(code: str, rng: random.Random, most: int = 2) -> tuple[str, str] | None:
    """A one-line docstring on up to ``most`` public functions that have none."""
    bare = _undocumented(code)[1]
    if not bare:
        return None
    picks = rng.sample(range(len(bare)), min(most, len(bare)))
    return _documented(code, tuple(sorted(picks)))


@functools.lru_cache(maxsize=64)
def _undocumented(code: str) -> tuple[cst.Module, tuple[tuple[cst.FunctionDef, str], ...]]:
    """The functions ``add_docstrings`` may document, with their qualified names: public ones,
    or private helpers when no public function lacks one. Cached, as the other analyses here:
    drafts change the same snapshot modules over and over, and libcst trees are immutable."""
    module = parse(code)
    qualified = qualified_functions(module)
    bare = [(f, name) for f, name in qualified.items() if len(f.name.value) > 2
            and not (f.name.value.startswith("__") and f.name.value.endswith("__"))
            and isinstance(f.body, cst.IndentedBlock) and f.get_docstring() is None]  # fmt: skip
    public = [(f, name) for f, name in bare if not f.name.value.startswith("_")]
    return module, tuple(public or bare)  # the tree they belong to (found in it by identity)


@functools.lru_cache(maxsize=256)
def _documented(code: str, picks: tuple[int, ...]) -> tuple[str, str]:
    """``add_docstrings``' change when it picks the functions ``picks`` (indices)."""
    module, bare = _undocumented(code)
    chosen = {id(bare[k][0]) for k in picks}
    names = sorted({bare[k][1] for k in picks})

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


Renaming = tuple[str, str, str, list[cst.CSTNode]]  # function, old name, new name, its Name nodes


def rename_local(code: str, rng: random.Random) -> tuple[str, str] | None:
    """Rename one terse local variable of one function to a clearer name, everywhere it is seen."""
    options = _rename_options(code)[1]
    return _renamed(code, rng.randrange(len(options))) if options else None


@functools.lru_cache(maxsize=64)
def _rename_options(code: str) -> tuple[cst.Module, tuple[Renaming, ...]]:
    """The tree ``rename_local``'s nodes belong to, and the renames it may make."""
    # no copy: a tree fresh from the parser has no node twice, and nothing here changes it
    wrapper = MetadataWrapper(parse(code), unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    taken = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    options: list[Renaming] = []
    for func, qualified in qualified_functions(wrapper.module).items():
        scope = scopes.get(func.body)
        if not isinstance(scope, FunctionScope) or _dynamic(func):
            continue
        declared = _declared(func)
        for name in sorted({a.name for a in scope.assignments} - declared):
            nodes = _renamable(scope, name)
            new = CLEARER.get(name, "")
            if nodes and new and new not in taken:
                options.append((qualified, name, new, nodes))
    return wrapper.module, tuple(options)


@functools.lru_cache(maxsize=256)
def _renamed(code: str, pick: int) -> tuple[str, str]:
    """``rename_local``'s change when it picks rename number ``pick``."""
    module, options = _rename_options(code)
    func_name, old, new, nodes = options[pick]
    targets = {id(n) for n in nodes}

    class Rename(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value=new) if id(original) in targets else updated

    return module.visit(Rename()).code, f"Rename `{old}` to `{new}` in `{func_name}`."


def sort_imports(code: str, rng: random.Random) -> tuple[str, str] | None:
    """Sort the module's first block of plain import statements (``__future__`` stays first)."""
    return _sorted_imports(code)


@functools.lru_cache(maxsize=256)
def _sorted_imports(code: str) -> tuple[str, str] | None:
    """``sort_imports``' change (it draws nothing)."""
    module = parse(code)
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


def qualified_functions(module: cst.Module) -> dict[cst.FunctionDef, str]:
    """Every function of the module (in source order) -> its qualified name (``Class.method``),
    so that two methods of one name read apart in a description."""
    found: dict[cst.FunctionDef, str] = {}
    names: list[str] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                names.append(node.name.value)
                if isinstance(node, cst.FunctionDef):
                    found[node] = ".".join(names)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            if isinstance(original_node, cst.FunctionDef | cst.ClassDef):
                names.pop()

    module.visit(Collect())
    return found


def _dynamic(func: cst.FunctionDef) -> bool:
    """Whether the function reaches its locals by name (``locals()``, ``eval``...)."""
    return bool(names_in(func) & _DYNAMIC)


def _declared(func: cst.FunctionDef) -> set[str]:
    """Names a ``global``/``nonlocal`` statement (here or in a nested function) names, and the
    parameters: renaming those would change what callers or other scopes see."""
    names = parameter_names(func)

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
    code: str,
    names: Sequence[str],
    rng: random.Random,
    most: int | None = None,
    table: Mapping[str, Change] = CHANGES,
) -> tuple[str, list[str]]:
    """Apply the changes of ``table`` named ``names`` in order, up to ``most`` of those that
    apply (all by default); the new text and the descriptions of those that applied (a line
    said twice, as two refactors of one function are, once)."""
    said: list[str] = []
    applied = 0
    for name in names:
        if most is not None and applied >= most:
            break
        result = table[name](code, rng)
        if result is not None and result[0] != code:
            code, line = result
            applied += 1
            said += [line] if line not in said else []
    return code, said
