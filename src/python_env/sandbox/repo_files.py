"""A repository job's files, in the job's child: the candidate's tree on disk, the tests in memory.

Standard library only (the worker loads it by path). A repository job carries the candidate's
workspace (the project as the agent left it: text files by relative path) and the trusted
test-side files (the suite's test modules, conftests and helpers, compiled by the server with
their asserts turned into checks; data files as text). The workspace is written under the job
directory before any candidate code runs; trusted modules are never read from disk: a finder
placed first on ``sys.meta_path`` serves them from the job's code objects, under the names
pytest's default ("prepend") import mode gives them, so a test file, conftest or helper the
candidate writes, shadows or deletes is never what runs.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

MAX_PATH = 300


class UnsafePath(ValueError):
    """A workspace path that could leave the job directory."""


def check_path(path: str) -> str:
    """``path`` if it is a plain relative POSIX path inside the tree, else raise UnsafePath."""
    parts = path.split("/")
    if (
        not path
        or len(path) > MAX_PATH
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise UnsafePath(f"unsafe path {path[:MAX_PATH]!r}")
    return path


def write_tree(files: dict[str, str] | dict[str, bytes], root: str) -> None:
    """Write ``files`` under ``root`` as new regular files, never following a link."""
    for path in sorted(files):
        check_path(path)
        parent = root
        for part in path.split("/")[:-1]:
            parent = os.path.join(parent, part)
            try:
                os.mkdir(parent, 0o700)
            except FileExistsError:
                if not os.path.isdir(parent) or os.path.islink(parent):
                    raise UnsafePath(f"{path!r} crosses a file or a link") from None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(os.path.join(root, path), flags, 0o600)
        content = files[path]
        with open(fd, "wb", closefd=True) as f:
            f.write(content.encode() if isinstance(content, str) else content)


def module_name(path: str, packages: set[str]) -> tuple[str, str]:
    """The name pytest's prepend import mode imports ``path`` (a .py file) under, and the
    directory it puts on ``sys.path`` for it: the first one up without an ``__init__.py``."""
    directory, _, filename = path.rpartition("/")
    names = [] if filename == "__init__.py" else [filename.removesuffix(".py")]
    while directory in packages:
        directory, _, package = directory.rpartition("/")
        names.insert(0, package)
    return ".".join(names), directory


def packages_of(paths: Sequence[str]) -> set[str]:
    """Directories holding an ``__init__.py``."""
    return {p.rsplit("/", 1)[0] for p in paths if p.endswith("/__init__.py")}


class TrustedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the trusted test-side modules by name, from code compiled by the server."""

    def __init__(
        self,
        units: dict[str, tuple[str, Any]],
        root: str,
        prepare: Callable[[dict[str, Any]], None],
    ) -> None:
        self.units = units  # module name -> (path, code or source)
        self.root = root
        self.prepare = prepare  # puts the checks hook into a module's namespace

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for a trusted module, or None: everything else is imported as usual."""
        if fullname not in self.units:
            return None
        relative = self.units[fullname][0]
        origin = os.path.join(self.root, relative)
        package = relative == "__init__.py" or relative.endswith("/__init__.py")
        spec = importlib.util.spec_from_loader(fullname, self, origin=origin, is_package=package)
        if spec is not None and package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        if spec is not None:
            spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        """The default module object."""
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        """Run the trusted code in the module, with the checks hook in its namespace."""
        path, unit = self.units[module.__name__]
        module.__file__ = os.path.join(self.root, path)
        self.prepare(module.__dict__)
        code = unit if isinstance(unit, types.CodeType) else compile(unit, path, "exec")
        exec(code, module.__dict__)

    def install(self) -> None:
        """First on ``sys.meta_path`` (again, if the candidate moved or removed it)."""
        while self in sys.meta_path:
            sys.meta_path.remove(self)
        sys.meta_path.insert(0, self)

    def load(self, name: str) -> types.ModuleType:
        """Import a trusted module, through this finder whatever the candidate did since."""
        self.install()
        existing = sys.modules.get(name)
        if existing is not None and getattr(existing, "__loader__", None) is not self:
            del sys.modules[name]  # planted by the candidate: never run what it put there
        return importlib.import_module(name)


def trusted_units(
    trusted: dict[str, Any], workspace: Sequence[str]
) -> tuple[dict[str, tuple[str, Any]], list[str]]:
    """Module name -> (path, unit) for the trusted .py files, and the directories pytest would
    put on ``sys.path`` for them (deepest first, as prepend mode leaves them)."""
    packages = packages_of([*trusted, *workspace])
    units: dict[str, tuple[str, Any]] = {}
    roots: list[str] = []
    for path in sorted(trusted):
        if not path.endswith(".py"):
            continue
        name, root = module_name(path, packages)
        if not name:
            continue  # an __init__.py at the top of the tree: no module pytest would import
        if path.rsplit("/", 1)[-1] == "conftest.py" and name in units:
            name = f"{name}_{len(units)}"  # two rootless conftests: both load
        units[name] = (path, trusted[path])
        if root not in roots:
            roots.append(root)
    roots.sort(key=lambda r: -r.count("/") - bool(r))
    return units, roots
