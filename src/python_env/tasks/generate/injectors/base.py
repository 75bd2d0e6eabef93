"""The injection engine: scan a module once, list injection *sites*, apply any set of them.

A ``Site`` is one concrete change at one node of a libcst tree (format-preserving), with its
answer-key text. ``apply`` runs every chosen site's edit in one transformer pass that only descends
into the ancestors of the targets, so a mutant costs well under a millisecond to build.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

N = TypeVar("N", bound=cst.CSTNode)
S = TypeVar("S", bound=cst.BaseSmallStatement)
Edit = Callable[[Any], Any]  # updated node -> replacement node / RemovalSentinel / FlattenSentinel
_EMPTY = cst.Module(body=[])


@dataclass(frozen=True)
class Site:
    """One possible injection: replace ``target`` by ``edit(target)``."""

    injector: str
    target: cst.CSTNode
    edit: Edit
    lines: tuple[int, int]  # original lines the change touches (1-based, inclusive)
    old: str | None  # original text of the changed code (None: rendered on demand)
    new: str | None  # injected text (None: rendered on demand)
    explanation: str  # may contain {old} and {new}, filled in by Scan.finish
    extra_targets: tuple[tuple[cst.CSTNode, Edit], ...] = ()  # further edits of the same issue


@dataclass
class NodeInfo:
    node: cst.CSTNode
    parent: cst.CSTNode | None
    func: cst.FunctionDef | None  # innermost enclosing function
    loop_depth: int  # loops around the node inside its function
    in_annotation: bool = False

    @property
    def in_code(self) -> bool:
        """Inside a function body (not a type annotation): where behaviour can be changed."""
        return self.func is not None and not self.in_annotation


@dataclass
class Scan:
    """A parsed module with parents, positions and enclosing functions of every node."""

    code: str
    entry: str
    module: cst.Module
    infos: list[NodeInfo] = field(default_factory=list)
    _info: dict[int, NodeInfo] = field(default_factory=dict)
    _order: dict[int, int] = field(default_factory=dict)
    _end: dict[int, int] = field(default_factory=dict)
    _by_type: dict[type[Any], list[NodeInfo]] = field(default_factory=dict)
    _parts: dict[int, str] = field(default_factory=dict)
    _edges: tuple[str, str] = ("", "")
    _pos: Any = None

    @classmethod
    def of(cls, code: str, entry: str) -> Scan:
        module = cst.parse_module(code)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        scan = cls(code=code, entry=entry, module=wrapper.module)
        scan._pos = wrapper.resolve(PositionProvider)
        wrapper.module.visit(_Collector(scan))
        scan._parts = {id(stmt): module.code_for_node(stmt) for stmt in module.body}
        scan._edges = (
            "".join(module.code_for_node(line) for line in module.header),
            "".join(module.code_for_node(line) for line in module.footer),
        )
        return scan

    def render_module(self, module: cst.Module) -> str:
        """``module.code``, re-rendering only top-level statements that are new objects."""
        if module.header is not self.module.header or module.footer is not self.module.footer:
            return module.code
        parts = self._parts
        body = "".join(parts.get(id(s)) or module.code_for_node(s) for s in module.body)
        return self._edges[0] + body + self._edges[1]

    def info(self, node: cst.CSTNode) -> NodeInfo:
        return self._info[id(node)]

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._info[id(node)].parent

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parent = self.parent(node)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

    def of_type(self, kind: type[N]) -> list[tuple[N, NodeInfo]]:
        """Nodes of exactly this (concrete) libcst class, in source order."""
        if not self._by_type:
            for i in self.infos:
                self._by_type.setdefault(type(i.node), []).append(i)
        return [(i.node, i) for i in self._by_type.get(kind, [])]  # type: ignore[misc]

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        rng: CodeRange = self._pos[node]
        return rng.start.line, rng.end.line

    def column(self, node: cst.CSTNode) -> int:
        rng: CodeRange = self._pos[node]
        return int(rng.start.column)

    def text(self, node: cst.CSTNode, limit: int = 80) -> str:
        return snippet(self.module.code_for_node(node), limit)

    def all_functions(self) -> list[cst.FunctionDef]:
        return [i.node for i in self.infos if isinstance(i.node, cst.FunctionDef)]

    def infos_in(self, func: cst.FunctionDef) -> list[tuple[cst.CSTNode, NodeInfo]]:
        """Every node inside ``func`` (nested functions included), in source order."""
        start = self._order[id(func)]
        end = self._end[id(func)]
        return [(i.node, i) for i in self.infos[start + 1 : end]]

    def functions(self) -> dict[str, cst.FunctionDef]:
        return {s.name.value: s for s in self.module.body if isinstance(s, cst.FunctionDef)}

    def site(self, injector: str, target: cst.CSTNode, edit: Edit, **fields: Any) -> Site:
        """A site; ``old``/``new`` default to the target and its edit, rendered by ``finish``."""
        fields.setdefault("old", None)
        fields.setdefault("new", None)
        if "lines" not in fields:
            fields["lines"] = self.span(target)
        return Site(injector=injector, target=target, edit=edit, **fields)

    def finish(self, site: Site) -> Site:
        """The site with its answer-key texts rendered and its explanation filled in."""
        old = self.text(site.target) if site.old is None else site.old
        if site.new is None:
            replaced = site.edit(site.target)
            new = "" if isinstance(replaced, cst.RemovalSentinel) else snippet(render(replaced))
        else:
            new = site.new
        text = site.explanation.replace("{old}", old).replace("{new}", new)
        return replace(site, old=old, new=new, explanation=text)


class _Collector(cst.CSTVisitor):
    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.stack: list[cst.CSTNode] = []
        self.funcs: list[cst.FunctionDef] = []
        self.loops: list[int] = [0]
        self.annotations = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        info = NodeInfo(
            node=node,
            parent=self.stack[-1] if self.stack else None,
            func=self.funcs[-1] if self.funcs else None,
            loop_depth=self.loops[-1],
            in_annotation=self.annotations > 0,
        )
        self.scan._order[id(node)] = len(self.scan.infos)
        self.scan.infos.append(info)
        self.scan._info[id(node)] = info
        self.stack.append(node)
        if isinstance(node, cst.FunctionDef):
            self.funcs.append(node)
            self.loops.append(0)
        elif isinstance(node, cst.For | cst.While):
            self.loops.append(self.loops[-1] + 1)
        elif isinstance(node, cst.Annotation):
            self.annotations += 1
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        self.scan._end[id(original_node)] = len(self.scan.infos)
        if isinstance(original_node, cst.FunctionDef):
            self.funcs.pop()
            self.loops.pop()
        elif isinstance(original_node, cst.For | cst.While):
            self.loops.pop()
        elif isinstance(original_node, cst.Annotation):
            self.annotations -= 1


class _Apply(cst.CSTTransformer):
    def __init__(self, edits: dict[int, list[Edit]], keep: set[int]) -> None:
        super().__init__()
        self.edits = edits
        self.keep = keep

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.keep

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        for edit in self.edits.get(id(original_node), ()):
            if not isinstance(updated_node, cst.CSTNode):
                break
            updated_node = edit(updated_node)
        return updated_node


def apply(scan: Scan, sites: Sequence[Site]) -> str | None:
    """The module with every site's edit applied, or None if the result does not compile."""
    edits: dict[int, list[Edit]] = {}
    keep: set[int] = set()
    for site in sites:
        for target, edit in ((site.target, site.edit), *site.extra_targets):
            edits.setdefault(id(target), []).append(edit)
            keep.add(id(target))
            keep.update(id(a) for a in scan.ancestors(target))
    try:
        code = scan.render_module(scan.module.visit(_Apply(edits, keep)))
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # e.g. SyntaxWarning: the result must not depend on filters
            compile(code, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, cst.CSTValidationError, TypeError):
        return None
    return code


def const(node: Any) -> Edit:
    """An edit that replaces the target by ``node``."""
    return lambda _updated: node


def remove(_updated: Any) -> Any:
    """An edit that deletes the target statement."""
    return cst.RemoveFromParent()


def removal(scan: Scan, injector: str, stmt: cst.CSTNode, explanation: str, **fields: Any) -> Site:
    """A site that deletes the statement ``stmt``; its injected text is empty."""
    return scan.site(injector, stmt, remove, explanation=explanation, new="", **fields)


def changes(**fields: Any) -> Edit:
    """An edit that sets fields of the (updated) target."""
    return lambda updated: updated.with_changes(**fields)


def render(node: cst.CSTNode | cst.FlattenSentinel[Any]) -> str:
    if isinstance(node, cst.FlattenSentinel):
        return "\n".join(_EMPTY.code_for_node(n) for n in node.nodes)
    return _EMPTY.code_for_node(node)


def snippet(text: str, limit: int = 80) -> str:
    """One line of code for an explanation: whitespace collapsed, long text shortened."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def hunks(before: str, after: str) -> list[tuple[int, int, int, int]]:
    """Changed regions as (i1, i2, j1, j2) 0-based half-open line ranges of before/after."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def hunk_span(hunk: tuple[int, int, int, int], n_lines: int) -> tuple[int, int]:
    """1-based inclusive lines of the injected code that a hunk points at (deletions: the seam)."""
    _, _, j1, j2 = hunk
    if j2 > j1:
        return j1 + 1, j2
    return max(1, j1), max(1, min(n_lines, j1 + 1))


def contains(node: cst.CSTNode, kinds: type[Any] | tuple[type[Any], ...]) -> bool:
    """Whether ``node`` or anything inside it is of one of ``kinds`` (stops at the first)."""
    found = False

    class Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            found = found or isinstance(node, kinds)
            return not found

    node.visit(Find())
    return found


def names_in(node: cst.CSTNode) -> set[str]:
    """Every ``Name`` inside ``node`` (attribute and keyword names included)."""
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    node.visit(Collect())
    return names


def parameter_names(func: cst.FunctionDef) -> set[str]:
    """The names of every parameter of ``func``, ``*args`` and ``**kwargs`` included."""
    params = func.params
    names = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def is_name(node: cst.CSTNode | None, *names: str) -> bool:
    return isinstance(node, cst.Name) and (not names or node.value in names)


def call_name(node: cst.CSTNode) -> str:
    """``f`` for ``f(...)``, ``mod.f`` for ``mod.f(...)``, else ""."""
    if not isinstance(node, cst.Call):
        return ""
    func = node.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return f"{func.value.value}.{func.attr.value}"
    return ""


def single_statements(scan: Scan, kind: type[S]) -> Iterator[tuple[cst.SimpleStatementLine, S]]:
    """In-code lines holding exactly one small statement, of type ``kind``, with that statement."""
    for line, info in scan.of_type(cst.SimpleStatementLine):
        if info.in_code and len(line.body) == 1 and isinstance(line.body[0], kind):
            yield line, line.body[0]


def lone_ifs(scan: Scan) -> Iterator[cst.If]:
    """In-code ``if`` statements without ``else`` or ``elif``, in source order."""
    return (node for node, info in scan.of_type(cst.If) if info.in_code and node.orelse is None)


def block_of(scan: Scan, stmt: cst.CSTNode) -> Sequence[cst.BaseStatement] | None:
    """The statement list that holds ``stmt`` (for removal/insertion decisions)."""
    parent = scan.parent(stmt)
    if isinstance(parent, cst.IndentedBlock | cst.Module):
        body: Sequence[cst.BaseStatement] = parent.body
        return body
    return None


def first_body_index(body: Sequence[cst.BaseStatement]) -> int:
    """Index of the first statement after a docstring."""
    if body and isinstance(body[0], cst.SimpleStatementLine):
        first = body[0].body[0] if body[0].body else None
        if isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString):
            return 1
    return 0
