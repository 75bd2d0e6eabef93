"""Survey the pinned repository-task projects: fetch each sdist, run its own tests, print a table.

A build-time tool (it downloads from PyPI; nothing at serve time or in the test suite runs it).
For each project in ``python_env.tasks.repos.projects.PROJECTS``, one at a time:

1. fetch and verify the sdist (cached under ``--cache``), read its package and tests as a snapshot
   and write the snapshot to a temporary directory;
2. run ``python -m pytest -q -p no:cacheprovider <test paths>`` in a subprocess with the package's
   parent directory on ``PYTHONPATH``, ``excluded_tests`` as ``--ignore``/``--deselect``, no
   plugin autoloading, an empty ini file (the sdist's own pytest settings are not in the
   snapshot), without network where ``unshare --net`` works, and with a guard plugin that makes
   every import outside the standard library, pytest (with its own requirements) and the snapshot
   fail, as in the grading sandbox;
3. count modules, lines (non-blank) and test files, and read the outcome from pytest's JUnit XML.

Usage: ``python scripts/survey_repos.py [--cache DIR] [--only NAME ...] [--timeout S] [-v]``.
Exit status 1 if any project fails to fetch or has a failing, erroring or empty test run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from python_env.errors import PythonEnvError
from python_env.tasks.repos.fetch import DEFAULT_INDEX, Snapshot, extract_snapshot, fetch_sdist
from python_env.tasks.repos.projects import PROJECTS, Project

GUARD_MODULE = "_survey_import_guard"
# pytest and the distributions it requires: present wherever pytest is, so tests may use them.
PYTEST_MODULES = ("pytest", "_pytest", "py", "pluggy", "iniconfig", "packaging", "pygments")
# Blocked as they would be anywhere: the stdlib's copy module probes for Jython's org.python.
STDLIB_PROBES = frozenset({"org"})
GUARD_SOURCE = f'''\
"""pytest plugin (-p {GUARD_MODULE}): imports outside the stdlib, pytest and the snapshot fail."""

import os
import sys
from importlib.machinery import PathFinder

_ROOT = os.path.realpath(os.environ["SURVEY_SNAPSHOT_ROOT"]) + os.sep
_ALLOWED = frozenset({PYTEST_MODULES!r}) | sys.stdlib_module_names
_LOG = os.environ.get("SURVEY_BLOCKED_LOG")


class _Guard:
    @staticmethod
    def find_spec(name, path=None, target=None):
        # sysconfig imports its platform data module by a computed name (zoneinfo needs it).
        if "." in name or name in _ALLOWED or name.startswith("_sysconfigdata_"):
            return None
        if name in sys.modules:
            return None
        spec = PathFinder.find_spec(name)
        places = [] if spec is None else [spec.origin, *(spec.submodule_search_locations or [])]
        if any(p and os.path.realpath(p).startswith(_ROOT) for p in places):
            return None
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(name + "\\n")
        raise ModuleNotFoundError(f"No module named {{name!r}} (survey: not stdlib)", name=name)


sys.meta_path.insert(0, _Guard)
'''


@dataclass
class Row:
    """One project's survey result."""

    project: Project
    modules: int = 0
    lines: int = 0
    test_files: int = 0
    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    problem: str = ""
    blocked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped_files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the project fetched and its tests ran, all passing (skips allowed)."""
        return not self.problem and self.collected > 0 and not (self.failed or self.errors)


def main(argv: list[str] | None = None) -> int:
    """Survey the projects named (all by default) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="sdist cache directory")
    parser.add_argument("--only", nargs="*", default=None, help="project names to survey")
    parser.add_argument("--index", default=DEFAULT_INDEX, help="PyPI-compatible index URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per test run")
    parser.add_argument("-v", "--verbose", action="store_true", help="list failing tests")
    parser.add_argument("--keep", action="store_true", help="keep the snapshots (path printed)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="survey-repos-"))
    cache: Path = args.cache or Path(tempfile.gettempdir()) / "python_env-sdist-cache"
    isolate = _network_isolation()
    chosen = [p for p in PROJECTS if args.only is None or p.name in args.only]
    rows: list[Row] = []
    try:
        helpers = work / "helpers"
        helpers.mkdir()
        (helpers / f"{GUARD_MODULE}.py").write_text(GUARD_SOURCE, encoding="utf-8")
        (helpers / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        for project in chosen:
            row = survey(project, cache, work, helpers, isolate, args.index, args.timeout)
            rows.append(row)
            print(f"... {project.name}: {row.problem or f'{row.passed}/{row.collected} passed'}",
                  file=sys.stderr, flush=True)  # fmt: skip
    finally:
        if args.keep:
            print(f"snapshots kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(render(rows))
    network = "loopback only (unshare --net)" if isolate else "NOT isolated"
    print(f"\nnetwork during tests: {network}")
    for row in rows:
        notes = []
        blocked = sorted(set(row.blocked) - STDLIB_PROBES)
        if blocked:
            notes.append(f"blocked imports: {', '.join(blocked)}")
        if row.skipped_files:
            notes.append(f"files left out of the snapshot: {len(row.skipped_files)}")
        if row.problem:
            notes.append(f"problem: {row.problem}")
        if notes:
            print(f"{row.project.name}: " + "; ".join(notes))
        if args.verbose:
            for failure in row.failures[:20]:
                print(f"    {failure}")
            for path, reason in list(row.skipped_files.items())[:10]:
                print(f"    left out: {path} ({reason})")
    return 0 if all(row.ok for row in rows) else 1


def survey(
    project: Project,
    cache: Path,
    work: Path,
    helpers: Path,
    isolate: list[str],
    index: str,
    timeout: float,
) -> Row:
    """Fetch, snapshot and test one project."""
    row = Row(project)
    try:
        snapshot = extract_snapshot(project, fetch_sdist(project, cache, index_url=index))
    except PythonEnvError as error:
        row.problem = str(error)
        return row
    row.skipped_files = dict(snapshot.skipped)
    root = work / project.name
    for relative, text in snapshot.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _count(project, snapshot, row)

    junit = work / f"{project.name}.xml"
    blocked_log = work / f"{project.name}.blocked"
    command = [
        *isolate,
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", GUARD_MODULE,
        "-c", str(helpers / "pytest.ini"), "--rootdir", str(root), f"--junitxml={junit}",
        *project.test_paths,
    ]  # fmt: skip
    for excluded in project.excluded_tests:
        flag = "--deselect" if excluded.is_node_id else "--ignore"
        command.append(f"{flag}={excluded.target}")
    # Absolute: a test that starts a subprocess in another directory imports the package too.
    python_path = [str(helpers), str(root / project.import_root)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "TMPDIR": str(work),
        "PYTHONPATH": os.pathsep.join(python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # plain pytest: no plugin from the venv
        "SURVEY_SNAPSHOT_ROOT": str(root),
        "SURVEY_BLOCKED_LOG": str(blocked_log),
    }
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        row.seconds = time.monotonic() - start
        row.problem = f"tests timed out after {timeout:.0f} s"
        return row
    row.seconds = time.monotonic() - start
    if blocked_log.exists():
        row.blocked = blocked_log.read_text(encoding="utf-8").split()
    if not junit.exists():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        row.problem = f"pytest exited {done.returncode} without a report: {' | '.join(tail)}"
        return row
    _read_junit(junit, row)
    return row


def _count(project: Project, snapshot: Snapshot, row: Row) -> None:
    """Modules and non-blank lines of the package (tests inside it excluded), and test files."""
    excluded = {e.target for e in project.excluded_tests if not e.is_node_id}

    def under(path: str, roots: tuple[str, ...] | set[str]) -> bool:
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    for path, text in snapshot.items():
        if not path.endswith(".py"):
            continue
        name = path.rsplit("/", 1)[-1]
        if under(path, project.test_paths):
            is_test = name.startswith("test_") or name.endswith("_test.py")
            row.test_files += is_test and not under(path, excluded)
        elif under(path, (project.package_dir,)):
            row.modules += 1
            row.lines += sum(1 for line in text.splitlines() if line.strip())


def _read_junit(path: Path, row: Row) -> None:
    """Counts and failing node ids from pytest's JUnit XML report."""
    tree = ET.parse(path)
    for case in tree.iter("testcase"):
        row.collected += 1
        outcome = {child.tag for child in case}
        label = f"{case.get('classname', '')}::{case.get('name', '')}"
        if "failure" in outcome:
            row.failed += 1
            row.failures.append(f"FAILED {label}")
        elif "error" in outcome:
            row.errors += 1
            row.failures.append(f"ERROR {label}")
        elif "skipped" in outcome:
            row.skipped += 1
        else:
            row.passed += 1


def _network_isolation() -> list[str]:
    """A command prefix running in a new network namespace with only loopback up (some suites
    talk to themselves over 127.0.0.1), where ``unshare --net`` works here; else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    prefix = [unshare, "--net", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else []


def render(rows: list[Row]) -> str:
    """The survey table as Markdown."""
    head = ["project", "version", "licence", "modules", "lines", "test files", "tests",
            "passed", "failed", "errors", "skipped", "wall s", "split"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        p = row.project
        cells = [p.name, p.version, p.licence, row.modules, row.lines, row.test_files,
                 row.collected, row.passed, row.failed, row.errors, row.skipped,
                 f"{row.seconds:.1f}", p.split]  # fmt: skip
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
