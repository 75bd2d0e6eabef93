"""The heuristic agent on a repository task: which files to analyse, read through the actions.

The observation never holds the tree, so the agent reads what it reviews (``read_file``, 400
lines a call). It first runs the visible tests (when the task lists any): a failing test's
message says where it raised (``raised at pkg/mod.py:12 in f, from tests/...``), and the
innermost frame in the project's code (on a pull request: on a line the diff adds) is flagged
as a bug, the way a developer starts from a traceback. Then it analyses only files it has
reason to think changed:

1. those a pull request's diff touches (findings only on the lines the diff adds: a reviewer
   comments on the change);
2. else those ``workspace.changed`` lists;
3. else (a repair task without a pull request: at the start nothing has changed) the files the
   failing visible tests point at: the Python files their failure messages name, and the
   project's modules the failing test files import (one ``search`` for import lines per file).

ruff and bandit findings on those files, in the task's categories and with their ``path``, go in
one review with the flagged lines; then it submits. On a pull request with no finding and no
failing visible test it approves instead (a reviewer who sees nothing wrong says so: a clean
pull request is answered with approve). It edits nothing: an autofix across a real project
(dropping an "unused" import that is a re-export, say) breaks more than it mends.
Deterministic, and it reads only what the observations show.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Generator, Sequence

from python_env.environment.models import ActionKind, CodeReviewAction, CodeReviewObservation
from python_env.types import MAX_FINDINGS, Category, Finding, Severity, TestReport, TestVerdict

MAX_FILES = 4  # files analysed: each costs a read (or more) of the step budget
MAX_TEST_FILES = 3  # failing test files whose imports are searched
RESERVED = 2  # steps kept for the review and the submit
MAX_RAISE_SITES = 1  # lines flagged because the failing tests raise there
IMPORT_LINES = r"^\s*(from|import)\s"
SUBMIT = CodeReviewAction(kind=ActionKind.SUBMIT)
APPROVE = CodeReviewAction(kind=ActionKind.APPROVE)

Analyzer = Callable[[str, Collection[Category]], list[Finding]]
Steps = Generator[CodeReviewAction, CodeReviewObservation, None]
Reads = Generator[CodeReviewAction, CodeReviewObservation, list[str]]  # actions, then a result

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_READ = re.compile(r"lines (\d+)-(\d+) of (\d+)")
_PY_PATH = re.compile(r"[\w./-]+\.py\b")
_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([^#]*)")
_IMPORT = re.compile(r"^\s*import\s+([^#]+)")
RAISED_AT = " (raised at "


class RepoReviewer:
    """One repository episode of the heuristic: ``next_action`` for each observation."""

    def __init__(self, analyze: Analyzer) -> None:
        """``analyze(code, categories)``: the analyzer findings on one file's text."""
        self._analyze = analyze
        self._steps: Steps | None = None
        self._obs: CodeReviewObservation | None = None

    def next_action(self, observation: CodeReviewObservation) -> CodeReviewAction:
        """The next action, given what the last one showed (blocking: runs the analyzers)."""
        self._obs = observation
        try:
            if self._steps is None:
                self._steps = self._episode(observation)
                return next(self._steps)
            return self._steps.send(observation)
        except StopIteration:
            return SUBMIT

    def _left(self) -> int:
        """Steps left beyond those kept for the review and the submit."""
        return (self._obs.steps_left if self._obs else 0) - RESERVED

    def _episode(self, first: CodeReviewObservation) -> Steps:
        wanted = set(first.task.categories) if first.task else set()
        targets: dict[str, frozenset[int] | None] = {}  # path -> lines findings may be on
        if first.pull_request is not None:
            targets = dict(added_lines(first.pull_request.diff))
        if not targets and first.workspace is not None:
            targets = {p: None for p in first.workspace.changed if p.endswith(".py")}
        ran = None
        if first.test_ids and self._left() > 0:
            ran = yield CodeReviewAction(kind=ActionKind.RUN_TESTS)
        failing = ran is not None and any(not v.passed for v in _verdicts(ran))
        # where the failing tests raised, in the project's code (on a pull request: its lines)
        sites = [
            (path, line)
            for path, line in raise_sites(ran.test_report if ran else None)
            if first.pull_request is None or line in (targets.get(path) or ())
        ]  # filtered before the cap: the most frequent site may lie outside the diff
        findings = [_raised_here(path, line) for path, line in sites[:MAX_RAISE_SITES]]
        if not targets and ran is not None:
            suspects = yield from self._suspects(ran)
            targets = {p: None for p in suspects}
        for path, keep in list(targets.items())[:MAX_FILES]:
            lines = yield from self._read(path)
            if not lines:
                continue
            for finding in self._analyze("".join(line + "\n" for line in lines), wanted):
                near = keep is None or any(
                    n in keep for n in range(finding.start_line, finding.end_line + 1)
                )
                if near and finding.end_line <= len(lines):
                    findings.append(finding.model_copy(update={"path": path}))
        if findings:
            yield CodeReviewAction(kind=ActionKind.REVIEW, findings=findings[:MAX_FINDINGS])
        clean = not findings and not failing
        yield APPROVE if first.pull_request is not None and clean else SUBMIT

    def _suspects(self, ran: CodeReviewObservation) -> Reads:
        """The project files the failing visible tests of ``ran`` point at (not test files)."""
        report = ran.test_report
        failed = [v for v in _verdicts(ran) if not v.passed]
        if not failed or self._left() < 2:
            return []
        listed = yield CodeReviewAction(kind=ActionKind.LIST_FILES, pattern="*.py")
        files = [p for p in listed.output.splitlines() if p and not p.startswith("[")]
        texts = [v.message for v in failed] + [report.error if report and report.error else ""]
        found = [p for t in texts for token in _PY_PATH.findall(t) for p in _named(token, files)]
        test_files = list(dict.fromkeys(v.name.split("::", 1)[0] for v in failed))
        for test_file in test_files[:MAX_TEST_FILES]:
            if self._left() < 2:
                break
            searched = yield CodeReviewAction(
                kind=ActionKind.SEARCH, pattern=IMPORT_LINES, path_glob=test_file
            )
            for line in searched.output.splitlines():
                found += imported_files(line.split(": ", 1)[-1], files)
        return [p for p in dict.fromkeys(found) if not is_test_path(p)]

    def _read(self, path: str) -> Reads:
        """The lines of ``path`` (as many as the budget allows), one read per 400 lines."""
        lines: list[str] = []
        while self._left() > 0:
            shown = yield CodeReviewAction(
                kind=ActionKind.READ_FILE, path=path, start_line=len(lines) + 1
            )
            part = numbered_lines(shown.output)
            if shown.error is not None or not part:
                break
            lines += part
            total = _READ.search(shown.feedback)
            if total is None or len(lines) >= int(total.group(3)):
                break
        return lines


def added_lines(diff: str) -> dict[str, frozenset[int]]:
    """The Python files a unified diff leaves in the new tree, each with the new-side line
    numbers it adds or changes (hunk counts are followed, so a content line that looks like a
    header is not taken for one)."""
    files: dict[str, set[int]] = {}
    path: str | None = None
    old_left = new_left = line_no = 0
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:  # inside a hunk
            tag = line[:1]
            if tag in ("+", " ", ""):
                if tag == "+" and path is not None:
                    files[path].add(line_no)
                line_no += 1
                new_left -= 1
            if tag in ("-", " ", ""):
                old_left -= 1
            continue
        hunk = _HUNK.match(line)
        if line.startswith("+++ "):
            target = line[4:].split("\t", 1)[0].strip()
            path = None if target == "/dev/null" else target.removeprefix("b/")
            if path is not None:
                files.setdefault(path, set())
        elif hunk is not None:
            old_left = int(hunk.group(1) or 1)
            line_no, new_left = int(hunk.group(2)), int(hunk.group(3) or 1)
    return {p: frozenset(n) for p, n in files.items() if p.endswith(".py")}


def raise_sites(report: TestReport | None) -> list[tuple[str, int]]:
    """Where the failing tests of a ``run_tests`` report raised, as their messages say
    (``(raised at pkg/mod.py:12 in f, from tests/...)``): for each, its innermost frame in the
    project's code (test files are not where a bug is planted), the most frequent first."""
    sites: Counter[tuple[str, int]] = Counter()
    for verdict in report.verdicts if report is not None else ():
        message = verdict.message
        at = message.rfind(RAISED_AT)  # the last: the exception's own text may say it too
        if verdict.passed or at < 0 or not message.endswith(")"):
            continue
        for frame in message[at + len(RAISED_AT) : -1].split(", from "):
            path, _, line = frame.rpartition(" in ")[0].rpartition(":")
            if line.isdigit() and not is_test_path(path):
                sites[path, int(line)] += 1
                break
    return [site for site, _ in sites.most_common()]


def _verdicts(ran: CodeReviewObservation) -> tuple[TestVerdict, ...]:
    return ran.test_report.verdicts if ran.test_report is not None else ()


def _raised_here(path: str, line: int) -> Finding:
    return Finding(
        path=path, start_line=line, end_line=line, category=Category.BUG, severity=Severity.HIGH,
        message="The failing tests raise an exception here: the code on this line is wrong "
        "for the inputs they give it.",
    )  # fmt: skip


def numbered_lines(output: str) -> list[str]:
    """The text lines of a ``read_file`` output (``    12 | code``), without the notes."""
    lines = []
    for row in output.split("\n"):
        number, bar, text = row.partition(" | ")
        if bar and number.strip().isdigit():  # an empty line is "   12 | "
            lines.append(text)
    return lines


def imported_files(line: str, files: Sequence[str]) -> list[str]:
    """The files of ``files`` the import statement ``line`` names (absolute imports only)."""
    modules: list[str] = []
    if (match := _FROM.match(line)) is not None:
        base = match.group(1)
        if base.startswith("."):
            return []
        names = [n.split(" as ")[0].strip(" ()\\") for n in match.group(2).split(",")]
        modules = [base, *(f"{base}.{n}" for n in names if n.isidentifier())]
    elif (match := _IMPORT.match(line)) is not None:
        modules = [m.split(" as ")[0].strip() for m in match.group(1).split(",")]
    found = []
    for module in modules:
        rel = module.replace(".", "/")
        for suffix in (f"{rel}.py", f"{rel}/__init__.py"):
            found += [p for p in files if p == suffix or p.endswith("/" + suffix)]
    return found


def is_test_path(path: str) -> bool:
    """Whether ``path`` looks like test code (the tests always run from the project's copy, and
    the planted issues are never in them)."""
    *dirs, name = path.split("/")
    return (
        any(d in ("test", "tests", "testing") for d in dirs)
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _named(token: str, files: Sequence[str]) -> list[str]:
    """The files a path in a message names (it may be absolute: the sandbox's copy)."""
    return [p for p in files if token == p or token.endswith("/" + p)]
