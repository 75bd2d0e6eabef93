"""One repository episode: the agent's tree, its findings, and what each action does to them.

``PythonEnvironment`` owns the step count, the step budget and the reward; for a ``RepoTask`` it
hands every action to a ``RepoEpisode`` and builds the observation from ``view()``. The
observation holds what the agent asked to see (a file list, a slice of a file, search
matches: ``output``), never the whole tree.

Agent mistakes are data: a bad path, a line range past the end, a regex that does not compile,
a patch that does not apply (``WorkspaceActionError``), an unknown test id or a finding outside
the files come back in the observation's ``error`` and change nothing. Findings use the line
numbers the files had at the start of the episode (the answer key's), whatever was edited since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from python_env.environment.models import (
    ActionKind,
    CodeReviewAction,
    NavigationStats,
    PullRequestView,
    WorkspaceSummary,
)
from python_env.environment.repo_runner import RepoBaselines, RepoRunner
from python_env.grading.score import component_weights, is_pull_request
from python_env.tasks.patches import unified_diff
from python_env.tasks.repo_task import RepoTask
from python_env.tasks.workspace import Workspace, WorkspaceActionError, split_lines
from python_env.types import Component, Evaluation, Finding, TestReport

MAX_OUTPUT_CHARS = 50_000  # a 400-line slice with line numbers fits; a whole big listing does not
MAX_SEARCH_MATCHES = 100
SHOWN = 3  # unknown test ids or bad findings named in an error


@dataclass(frozen=True)
class Reply:
    """What one action did: the feedback, or the error of a refused action; the evaluation
    once the episode is over."""

    feedback: str = ""
    error: str | None = None
    evaluation: Evaluation | None = None


class RepoEpisode:
    """The state of one episode on a repository task, and its actions."""

    def __init__(self, task: RepoTask, baselines: RepoBaselines, runner: RepoRunner) -> None:
        """Start on ``task``'s start tree; ``baselines`` are the task's (``runner.prepare``)."""
        self.task = task
        self.tree = baselines.start
        self.findings: list[Finding] = []
        self.components: dict[str, float] = {}
        self.report: TestReport | None = None
        self.output = ""
        self.stats = NavigationStats()
        self.done = False
        self._baselines = baselines
        self._runner = runner
        self._read: set[str] = set()
        self._handlers: dict[ActionKind, Callable[[CodeReviewAction], Reply]] = {
            ActionKind.LIST_FILES: self._list_files,
            ActionKind.READ_FILE: self._read_file,
            ActionKind.SEARCH: self._search,
            ActionKind.EDIT_FILE: self._edit_file,
            ActionKind.APPLY_PATCH: self._apply_patch,
            ActionKind.RUN_TESTS: self._run_tests,
            ActionKind.REVIEW: self._review,
            ActionKind.EDIT: self._edit,
            ActionKind.SUBMIT: lambda _: self.finish("Submitted."),
            ActionKind.APPROVE: self._approve,
        }

    @classmethod
    def start(cls, task: RepoTask, base: Workspace, runner: RepoRunner) -> RepoEpisode:
        """A new episode on ``task`` (``base``: its snapshot); ``InvalidTask`` if it is unfair."""
        return cls(task, runner.prepare(task, base), runner)

    def greeting(self) -> str:
        """The feedback of reset()."""
        project = self.task.project
        verdict = (
            " End with approve if the pull request has no problem, else with submit."
            if is_pull_request(self.task)
            else ""
        )
        return (
            f"New repository episode: {project.name} {project.version}, {len(self.tree)} files. "
            "Navigate with list_files, read_file and search; change files with edit_file or "
            "apply_patch. Findings name their file (path) and use the line numbers of the files "
            "as they are now, at the start, whatever is edited later." + verdict
        )

    def act(self, action: CodeReviewAction) -> Reply:
        """Carry out one action (the caller has checked the episode is not over)."""
        self.output = ""
        self.stats.steps += 1
        try:
            reply = self._handlers[action.kind](action)
        except WorkspaceActionError as exc:
            reply = Reply(error=f"{action.kind.value}: {exc.message} ({exc.code})")
        if reply.error is not None:
            self.stats.errors += 1
        return reply

    def finish(self, feedback: str, approved: bool = False) -> Reply:
        """End the episode: the hidden tests on the current tree, and the findings (with the
        verdict on a pull request: ``approved`` when it ends with approve)."""
        evaluation = self._runner.evaluate(
            self.task, self._baselines, self.tree, self.findings, approved=approved
        )
        self.components = dict(evaluation.components)
        self.done = True
        return Reply(f"{feedback} Final score {evaluation.score:.3f}.", evaluation=evaluation)

    def view(self) -> dict[str, Any]:
        """The observation's fields that come from the episode."""
        pr = self.task.pull_request
        return {
            "code": "",  # never the whole tree: the agent reads what it needs
            "visible_tests": "",
            "test_ids": list(self.task.visible_tests),
            "test_report": self.report,
            "findings": list(self.findings),
            "score_components": dict(self.components),
            "output": self.output,
            "workspace": WorkspaceSummary(
                project=self.task.project.name,
                version=self.task.project.version,
                files=len(self.tree),
                changed=_changed(self._baselines.start, self.tree),
            ),
            "pull_request": PullRequestView(**pr.model_dump()) if pr is not None else None,
        }

    # --- navigation ---------------------------------------------------------------------------

    def _list_files(self, action: CodeReviewAction) -> Reply:
        pattern = action.pattern or "**/*"
        listing = self.tree.list_files(pattern)
        self.stats.list_calls += 1
        self.output = _capped("".join(p + "\n" for p in listing.paths) + _note(listing.note))
        if not listing.total:
            return Reply(f"No file matches {pattern!r}.")
        return Reply(f"{listing.total} file(s) match {pattern!r}.")

    def _read_file(self, action: CodeReviewAction) -> Reply:
        assert action.path is not None  # the action's validator requires it
        part = self.tree.read_file(action.path, action.start_line, action.end_line)
        self.stats.reads += 1
        self._read.add(part.path)
        self.stats.files_read = len(self._read)
        self.output = _capped(part.numbered() + _note(part.note))
        if not part.total_lines:
            return Reply(f"{part.path} is empty.")
        return Reply(
            f"{part.path}: lines {part.start_line}-{part.end_line} of {part.total_lines}"
            + (" (cut short: read on from the next line)." if part.truncated else ".")
        )

    def _search(self, action: CodeReviewAction) -> Reply:
        assert action.pattern is not None
        found = self.tree.search(action.pattern, action.path_glob, MAX_SEARCH_MATCHES)
        self.stats.searches += 1
        lines = "".join(f"{m.path}:{m.line}: {m.text}\n" for m in found.matches)
        self.output = _capped(lines + _note(found.note))
        feedback = f"{len(found.matches)} match(es) in {found.files_searched} file(s) searched"
        return Reply(feedback + (f"; {found.note}." if found.note else "."))

    # --- changes ------------------------------------------------------------------------------

    def _edit_file(self, action: CodeReviewAction) -> Reply:
        assert action.path is not None
        new = self.tree.edit_file(
            action.path, action.content, action.start_line, action.end_line, action.new_text
        )
        return self._change(new, "edit_file")

    def _apply_patch(self, action: CodeReviewAction) -> Reply:
        assert action.diff is not None
        return self._change(self.tree.apply_patch(action.diff), "apply_patch")

    def _approve(self, action: CodeReviewAction) -> Reply:
        if not is_pull_request(self.task):
            return Reply(
                error="approve is the verdict on a pull request, and this repository task has "
                "none: end it with submit"
            )
        return self.finish("Approved.", approved=True)

    def _edit(self, action: CodeReviewAction) -> Reply:
        return Reply(
            error="edit replaces the code of a single-file task; on a repository task change "
            "files with edit_file or apply_patch"
        )

    def _change(self, new: Workspace, kind: str) -> Reply:
        """Make ``new`` the tree; the feedback names the files changed and any that do not
        compile (a warning: a half-done multi-file change is allowed)."""
        diff = unified_diff(self.tree, new)
        if not diff:
            return Reply("Nothing changed.")
        paths = _changed(self.tree, new)
        self.tree = new
        if kind == "edit_file":
            self.stats.edits += 1
        else:
            self.stats.patches_applied += 1
        self.output = _capped(diff)
        notes = [_compile_error(p, new[p]) for p in paths if p.endswith(".py") and p in new]
        tests = [p for p in paths if self.task.is_test_file(p)]
        if tests:
            notes.append(
                f"{', '.join(tests[:SHOWN])}: test files; the tests always run from the "
                "project's own copies"
            )
        changed = f"Changed {len(paths)} file(s): {', '.join(paths[:10])}" + (
            ", ..." if len(paths) > 10 else ""
        )
        return Reply(". ".join([changed, *(n for n in notes if n)]) + ".")

    # --- tests, review ------------------------------------------------------------------------

    def _run_tests(self, action: CodeReviewAction) -> Reply:
        # Information, not reward (as for single-file tasks): the hidden tests grade at submit.
        visible = self.task.visible_tests
        chosen = list(dict.fromkeys(action.tests)) if action.tests else list(visible)
        known = set(visible)
        unknown = [t for t in chosen if t not in known]
        if unknown:
            shown = ", ".join(repr(t[:200]) for t in unknown[:SHOWN])
            return Reply(
                error=f"{len(unknown)} test id(s) are not visible tests of this task ({shown}); "
                "choose from the observation's test_ids"
            )
        if not chosen:
            return Reply("This task has no visible tests: submit grades it on the hidden ones.")
        report = self.report = self._runner.run_tests(self.task, self._baselines, self.tree, chosen)
        self.stats.test_runs += 1
        of = f" (of {len(chosen)} selected)" if action.tests else ""
        return Reply(
            f"Visible tests{of}: {report.passed} passed, {report.failed} failed. "
            "(Not scored: submit grades the tree on the hidden tests.)"
        )

    def _review(self, action: CodeReviewAction) -> Reply:
        findings = action.findings or []
        start = self._baselines.start
        missing = [i for i, f in enumerate(findings) if f.path not in start]
        if missing:
            named = ", ".join(repr(findings[i].path) for i in missing[:SHOWN])
            return Reply(
                error=f"finding(s) {missing} name no file of the tree as it started ({named}); "
                "give each finding the path of its file; nothing was recorded"
            )
        outside = [
            i for i, f in enumerate(findings) if f.end_line > len(split_lines(start[f.path]))
        ]
        if outside:
            where = ", ".join(
                f"{findings[i].path} has {len(split_lines(start[findings[i].path]))} lines"
                for i in outside[:SHOWN]
            )
            return Reply(
                error=f"finding(s) {outside} point past the last line of their file ({where}); "
                "nothing was recorded"
            )
        self.findings.extend(findings)
        self.stats.reviews += 1
        if Component.REVIEW not in component_weights(self.task):
            return Reply("Recorded; this task grades fixes, not findings.")
        self.components[Component.REVIEW] = self._runner.review(self.task, self.findings).f1
        return Reply(f"Recorded {len(findings)} finding(s).")


def _changed(old: Workspace, new: Workspace) -> list[str]:
    """The paths whose content differs (added and deleted files too), sorted; unchanged files
    share their string, so each comparison is an identity check."""
    return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))


def _note(note: str) -> str:
    return f"[{note}]\n" if note else ""


def _capped(text: str) -> str:
    """``text`` cut to ``MAX_OUTPUT_CHARS`` at a line's end, saying how much was left off."""
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_OUTPUT_CHARS) + 1 or MAX_OUTPUT_CHARS
    return text[:cut] + f"[{len(text) - cut:,} more characters not shown]\n"


def _compile_error(path: str, text: str) -> str:
    """A warning if a Python file does not compile, else ``""``."""
    try:
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{path} does not compile (line {line}): {getattr(exc, 'msg', exc)}"
    return ""
