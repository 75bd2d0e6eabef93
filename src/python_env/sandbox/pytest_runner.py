"""Runs a pytest-style job in the sandboxed child: the task's tests under real pytest.

Standard library and pytest only. The fork-server worker calls ``prepare`` once, before any
fork: it imports pytest and its built-in plugins and builds a configured session, so a job
pays only for collecting its module and running its tests. The configuration is fixed before
any candidate code runs: no ini file (``-c /dev/null``), no conftest discovery, no plugin
autoload, and the worker's environment is built (no ``PYTEST_ADDOPTS``, ``PYTEST_PLUGINS``).
A task's own ``conftest.py`` is registered as a plugin; a conftest, ini file or plugin the
candidate writes to disk is never read.

The tests are the server-compiled module (asserts already turned into checks), handed to pytest's
collector as the module object, so their text never enters the child. Per test (pytest id,
``file::test[param]``) the ``Reporter`` plugin keeps the outcome of each phase: setup, call and
teardown errors are "raised" with the exception's type, a skip (mark, ``pytest.skip``,
``importorskip``) or an xfail that never ran is "skipped", and a test that ran is "returned"
with its checks and return value, as in return-style jobs.
"""

from __future__ import annotations

import collections
import hashlib
import inspect
import os
import random
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest
from _pytest.config import Config, _prepareconfig, default_plugins
from _pytest.fixtures import FixtureFunctionDefinition
from _pytest.main import Session
from _pytest.tmpdir import TempPathFactory

if TYPE_CHECKING or __package__:
    from python_env.sandbox import checks, protocol, repo_files
elif "pyenv_sandbox_protocol" in sys.modules:  # loaded by file path in the sandbox worker
    checks, protocol = sys.modules["pyenv_sandbox_checks"], sys.modules["pyenv_sandbox_protocol"]
    repo_files = sys.modules["pyenv_sandbox_repo_files"]
else:  # run by the subprocess executor's harness script
    import checks
    import protocol
    import repo_files

# Plugins a graded run has no use for: they write files (cache), talk to a terminal or a
# debugger, or add work to every test (faulthandler's timer, doctest collection).
ARGS = [
    "-c", os.devnull, "--noconftest", "--disable-plugin-autoload", "-s", "-p", "no:cacheprovider",
    "-p", "no:terminal", "-p", "no:debugging", "-p", "no:faulthandler", "-p", "no:junitxml",
    "-p", "no:pastebin", "-p", "no:stepwise", "-p", "no:doctest",
]  # fmt: skip
_NOT_RUN = (pytest.skip.Exception, pytest.xfail.Exception)
MAX_MESSAGE = 1_000
WHERE_FRAMES = 3  # frames a raised test's message names, innermost first
MAX_FRAME = 200


class Reporter:
    """The results plugin: what each phase of the running test raised, and what it returned;
    and the collection errors."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.returned: Any = None
        self.collect_errors: list[str] = []

    def pytest_addoption(self, parser: pytest.Parser) -> None:
        """The debugger's options, always off: ``-p no:debugging`` drops the plugin that adds
        them, yet pytest's unittest support reads them for every ``TestCase`` test."""
        parser.addoption("--trace", dest="trace", action="store_true")
        parser.addoption("--pdb", dest="usepdb", action="store_true")

    def begin(self) -> None:
        """A test is about to run."""
        self.errors, self.returned = [], None

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """Call the test as pytest does, keeping its return value (return-style tests)."""
        func = pyfuncitem.obj
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            return None  # pytest's own implementation fails it with its usual message
        names = pyfuncitem._fixtureinfo.argnames
        self.returned = func(**{name: pyfuncitem.funcargs[name] for name in names})
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Keep what each phase raised, once every plugin has had its say (unittest's moves a
        ``TestCase`` failure into ``call``)."""
        report = yield
        if call.excinfo is not None:
            self.errors.append(call.excinfo.value)
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Keep the last line of a collection error (the exception and its message)."""
        if report.failed:
            lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
            self.collect_errors.append(lines[-1].removeprefix("E").strip() if lines else "?")


class Reports:
    """Makes each phase's report without a traceback, in place of pytest's own maker: outcomes
    come from what was raised (``Reporter``), and formatting a failure's traceback (the source
    of every frame) costs more than the test itself when many tests fail. Registered after
    pytest's plugins, so it runs before the default maker and after unittest's (tryfirst)."""

    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> pytest.TestReport:
        """The phase's report: its outcome and a one-word ``longrepr``."""
        excinfo = call.excinfo
        longrepr: tuple[str, int, str] | str | None = None
        outcome: Literal["passed", "failed", "skipped"] = "passed"
        if excinfo is not None:
            if isinstance(excinfo.value, pytest.skip.Exception):
                outcome, longrepr = "skipped", (str(item.path), 0, "skipped")
            else:
                outcome, longrepr = "failed", "failed"
        assert call.when != "collect"
        return pytest.TestReport(
            item.nodeid, item.location, dict.fromkeys(item.keywords, 1), outcome, longrepr,
            call.when, (), call.duration, call.start, call.stop,
            user_properties=item.user_properties,
        )  # fmt: skip


Emit = Callable[[dict[str, Any]], None]
Load = Callable[[str, Any, dict[str, Any]], types.ModuleType]


class Runner:
    """A configured pytest session, built once and used by one job in each forked child."""

    def __init__(self, rootdir: str) -> None:
        self.rootdir = rootdir
        self.here = ""  # the job directory as this process sees it (set per job)
        self.reporter = Reporter()
        self.config: Config = _prepareconfig(
            [*ARGS, "--rootdir", rootdir], [self.reporter, Reports()]
        )
        self.session = Session.from_config(self.config)
        self.config._do_configure()
        self.config.hook.pytest_sessionstart(session=self.session)

    def collect(
        self, tests_unit: Any, conftest_unit: Any, load: Load, hook: Any, skip: set[str], file: str
    ) -> list[pytest.Item]:
        """Load the task's conftest (as a plugin) and its tests (as the module ``file``), and
        collect the tests not in ``skip``; raise on an import or collection error."""
        self.reporter.collect_errors = []
        self.here = os.getcwd()
        self._fresh_tmp_path_factory()
        if conftest_unit:
            conftest = load("conftest", conftest_unit, {checks.CHECK_HOOK: hook})
            self.config.pluginmanager.register(conftest, "task-conftest")
        tests = load("tests", tests_unit, {checks.CHECK_HOOK: hook})
        module = pytest.Module.from_parent(self.session, path=Path(self.rootdir) / file)
        module.obj = tests
        items = [i for i in self.session.genitems(module) if test_id(i.nodeid) not in skip]
        if self.reporter.collect_errors:
            raise CollectionError(self.reporter.collect_errors[0])
        return items

    def collect_repo(self, repo: dict[str, Any], hook: Any, skip: set[str]) -> list[pytest.Item]:
        """A repository job: write the candidate's tree here, serve the trusted test-side
        modules from memory, register the trusted conftests (outermost first, each scoped to
        its directory) and collect the selected tests of the trusted test modules."""
        self._fresh_tmp_path_factory()
        files = {str(k): str(v) for k, v in dict(repo.get("files") or {}).items()}
        units = protocol.repo_units(repo)
        select = {str(name) for name in repo.get("select") or ()}
        # root: the job directory as pytest's ids know it; here: as this process sees it (they
        # differ on the chroot tier)
        root, here = self.rootdir, os.getcwd()
        self.here = here
        repo_files.write_tree(files, here)
        repo_files.write_tree(protocol.repo_pycs(repo), here)
        data = {path: text for path, text in units.items() if isinstance(text, str)}
        repo_files.write_tree({p: t for p, t in data.items() if not p.endswith(".py")}, here)
        modules, test_roots = repo_files.trusted_units(units, list(files))
        project = [repo_files.check_path(r) if r else r for r in repo.get("roots") or ("",)]
        sys.path[:0] = [os.path.join(here, r) if r else here for r in [*project, *test_roots]]
        finder = repo_files.TrustedModules(
            modules, here, lambda names: names.update({checks.CHECK_HOOK: hook})
        )
        finder.install()
        by_path = {path: name for name, (path, _) in modules.items()}
        conftests = sorted((p for p in by_path if p.rsplit("/", 1)[-1] == "conftest.py"),
                           key=lambda p: (p.count("/"), p))  # fmt: skip
        dirs: dict[str, pytest.Collector] = {"": self.session}
        for path in conftests:
            plugin = finder.load(by_path[path])
            # Registered under its path, as pytest does (its hooks apply); its fixtures are
            # parsed for its directory's node, which pytest would do on collecting that dir.
            self.config.pluginmanager.register(plugin, os.path.join(root, path))
            scope = _directory(dirs, path.rpartition("/")[0], Path(root))
            self.session._fixturemanager.parsefactories(holder=plugin, node=scope)
        items: list[pytest.Item] = []
        for path in sorted(by_path):
            name = path.rsplit("/", 1)[-1]
            if not (name.startswith("test_") or name.endswith("_test.py")):
                continue
            if select and not any(s.split("::", 1)[0] == path for s in select):
                continue
            parent = _directory(dirs, path.rpartition("/")[0], Path(root))
            module = pytest.Module.from_parent(parent, path=Path(root) / path)
            module.obj = _only(finder.load(by_path[path]), path, select)
            items += [i for i in self.session.genitems(module)
                      if (not select or test_id(i.nodeid) in select)
                      and test_id(i.nodeid) not in skip]  # fmt: skip
        if self.reporter.collect_errors:
            raise CollectionError(self.reporter.collect_errors[0])
        return items

    def _fresh_tmp_path_factory(self) -> None:
        self.config._tmp_path_factory = TempPathFactory(  # type: ignore[attr-defined]
            Path.cwd() / "pytest-tmp", 0, "none", self.config.trace.get("tmpdir"), _ispytest=True
        )

    def run(
        self,
        items: list[pytest.Item],
        emit: Emit,
        checks: Any,
        returned: Callable[[Any], tuple[str, Any, str]],
    ) -> None:
        """Run the tests, a start and a test record each; ``returned`` turns what a test that
        ran returned (and the ``checks`` it made) into its outcome."""
        for index, item in enumerate(items):
            name = test_id(item.nodeid)
            emit(protocol.start_record(name))
            random.seed(name)  # as the harness does for return-style tests
            checks.made = []
            self.reporter.begin()
            following = items[index + 1] if index + 1 < len(items) else None
            # Setup to teardown: a shared fixture's setup counts for the first test that uses
            # it and its teardown for the last, as in any run of a selection of the tests.
            began = protocol.test_clock()
            try:
                item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
            except BaseException as exc:  # pytest.exit() or an interrupt: this test ends the job
                spent = protocol.test_clock() - began
                emit(protocol.test_record(name, protocol.RAISED, *_raised(exc), spent))
                return
            outcome = self._outcome(returned)
            emit(protocol.test_record(name, *outcome, protocol.test_clock() - began))

    def _outcome(self, returned: Callable[[Any], tuple[str, Any, str]]) -> tuple[str, Any, str]:
        for error in self.reporter.errors:  # the first phase that failed decides
            if isinstance(error, _NOT_RUN):
                return protocol.SKIPPED, None, f"skipped: {error}"[:MAX_MESSAGE]
            return (protocol.RAISED, *_raised(error))
        return returned(self.reporter.returned)


def _only(module: types.ModuleType, path: str, select: set[str]) -> types.ModuleType:
    """The module as pytest should collect it for a selection: its tests that no selected id
    names are left out before collection, which builds every test's fixtures and parameters
    (most of a big suite's collection time). Fixtures and helpers stay."""
    if not select:
        return module
    wanted = {s.split("::")[1].split("[")[0] for s in select if s.startswith(path + "::")}
    view = types.ModuleType(module.__name__)
    view.__dict__.update(
        (name, value) for name, value in vars(module).items()
        if name in wanted or not _collectable(name, value)
    )  # fmt: skip
    return view


def _collectable(name: str, value: Any) -> bool:
    """What pytest's default rules would collect from a module: test functions and classes
    (a fixture named ``test_*`` is a fixture: the selected tests may need it)."""
    if isinstance(value, FixtureFunctionDefinition):
        return False
    if isinstance(value, type):
        return name.startswith("Test") or any(c.__name__ == "TestCase" for c in value.__mro__)
    return name.startswith("test") and callable(value)


def _directory(nodes: dict[str, pytest.Collector], path: str, root: Path) -> pytest.Collector:
    """The collector of a directory (its parents made first): a conftest's fixtures apply to
    the tests under its directory's node, so each test module needs the chain up to the root."""
    if path not in nodes:
        parent = _directory(nodes, path.rpartition("/")[0], root)
        nodes[path] = pytest.Dir.from_parent(parent, path=root / path)
    return nodes[path]


class CollectionError(Exception):
    """The tests could not be collected (a bad parametrize, a fixture loop, ...)."""


def _raised(exc: BaseException) -> tuple[str, str]:
    """The exception's type, and a message: the exception and where it was raised."""
    name = type(exc).__name__
    try:
        where = _where(exc)
    except Exception:  # the candidate's exception, or a cwd it removed: no location
        where = ""
    try:
        said = f"{name}: {exc}"
    except Exception:  # a __str__ that raises
        said = f"{name}: <unprintable>"
    return name, said[: MAX_MESSAGE - len(where)] + where


def _where(exc: BaseException) -> str:
    """`` (raised at pkg/mod.py:12 in f, from tests/test_mod.py:30 in test_f)``: the innermost
    frames of the traceback in the job's own files (project and tests, not pytest or the
    standard library), innermost first, as a developer's first look at a failure. Line numbers
    only: reading each frame's source is what made pytest's report slow. "" when none is."""
    # the job directory as seen when the job started (the code under test may chdir)
    here = (RUNNER.here if RUNNER and RUNNER.here else os.getcwd()) + os.sep
    root = RUNNER.rootdir + os.sep if RUNNER else ""
    frames: collections.deque[str] = collections.deque(maxlen=WHERE_FRAMES)  # the innermost
    tb = exc.__traceback__
    while isinstance(tb, types.TracebackType):
        code = tb.tb_frame.f_code
        path = code.co_filename
        for prefix in (here, root):
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
        if path and not os.path.isabs(path) and not path.startswith("<"):
            frames.append(f"{path}:{tb.tb_lineno} in {code.co_name}"[:MAX_FRAME])
        tb = tb.tb_next
    if not frames:
        return ""
    shown = list(reversed(frames))
    return f" (raised at {shown[0]}" + "".join(f", from {f}" for f in shown[1:]) + ")"


def test_id(nodeid: str) -> str:
    """A pytest id, shortened to the protocol's limit (a hash keeps long ones distinct)."""
    if len(nodeid) <= protocol.MAX_NAME:
        return nodeid
    digest = hashlib.sha256(nodeid.encode()).hexdigest()[:12]
    return f"{nodeid[: protocol.MAX_NAME - 14]}~{digest}"


RUNNER: Runner | None = None


def prepare(rootdir: str) -> None:
    """In the worker, before any fork: import pytest's built-in plugins (so children never
    read their files) and build the session every job of this worker uses."""
    global RUNNER
    for name in default_plugins:
        __import__(f"_pytest.{name}")
    "id".encode("unicode_escape")  # test ids are escaped with it; a chrooted job cannot load it
    RUNNER = Runner(rootdir)


def runner() -> Runner:
    """The worker's prepared session, or a new one (the subprocess executor prepares none)."""
    return RUNNER or Runner(os.getcwd())
