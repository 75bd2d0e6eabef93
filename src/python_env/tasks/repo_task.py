"""Repository tasks: a change to a real project, in its own tree, graded by its own tests.

A ``RepoTask`` never holds a whole project. It names a stored base snapshot of one project
version (``snapshot``: the digest of its ``Workspace``) and carries two unified diffs: ``start``
(snapshot -> the tree the agent starts from: the mutant, or the head of a pull request) and
``fix`` (start -> a reference fix; empty for a clean pull request). The project's tests are the
snapshot's files under ``test_paths`` (and every ``conftest.py``): at grading they always come
from the snapshot, so an agent that edits them changes nothing but what it can run by hand.

Pure domain: pydantic and the workspace only; no I/O (``repo_store`` reads and writes them).
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any, Self

from pydantic import Field, model_validator

from python_env.tasks.workspace import Workspace, validate_path
from python_env.types import Issue, TaskInfo, TaskSetting, _Frozen


def is_test_file(path: str, test_paths: tuple[str, ...]) -> bool:
    """Whether ``path`` is test code of a project whose tests are under ``test_paths``: a file
    under one of them, or any ``conftest.py``."""
    if path == "conftest.py" or path.endswith("/conftest.py"):
        return True
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in test_paths)


class ProjectRef(_Frozen):
    """Which release of which open-source project a task comes from, and under what licence."""

    name: str = Field(description="The project's PyPI name.")
    version: str = Field(description="The release the snapshot was taken from.")
    licence: str = Field(description="SPDX identifier of the project's licence.")
    attribution: str = Field(description="The copyright line of the project's LICENSE.")
    url: str = Field(description="Where the release came from (its sdist on PyPI).")


class RepoIssue(Issue):
    """A planted issue in a repository task: an ``Issue`` located in one file of the tree."""

    path: str = Field(description="The file of the tree the issue is in (POSIX, relative).")


class PullRequest(_Frozen):
    """What a reviewer of a pull request sees besides the tree: its words and its diff."""

    title: str = Field(description="The pull request's title.")
    description: str = Field(description="What the author says the change does.")
    diff: str = Field(description="Unified diff from the base (the snapshot) to the head.")


class RepoTask(_Frozen):
    """A complete repository task, hidden parts included."""

    info: TaskInfo
    instructions: str
    project: ProjectRef
    snapshot: str = Field(description="Digest of the base snapshot (Workspace.digest()).")
    start: str = Field(description="Unified diff: the snapshot -> the tree the agent starts from.")
    fix: str = Field(description="Unified diff: the start -> a reference fix ('' if none needed).")
    roots: tuple[str, ...] = Field(
        default=("",), description="Import roots ('src' for a src layout)."
    )
    test_paths: tuple[str, ...] = Field(description="The project's test directories and files.")
    visible_tests: tuple[str, ...] = Field(description="Test ids run_tests runs.")
    hidden_tests: tuple[str, ...] = Field(description="Test ids graded at submit.")
    fail_to_pass: tuple[str, ...] = Field(
        default=(), description="The hidden tests the planted issues break (the rest must stay)."
    )
    issues: tuple[RepoIssue, ...] = Field(description="The answer key (empty for a clean PR).")
    pull_request: PullRequest | None = Field(default=None, description="Set on PR-review tasks.")

    @model_validator(mode="before")
    @classmethod
    def _default_setting(cls, data: Any) -> Any:
        """Stores written before ``TaskInfo.setting`` existed: derive it from the task."""
        info = data.get("info") if isinstance(data, dict) else None
        if isinstance(info, dict) and "setting" not in info:
            pr = data.get("pull_request") is not None
            setting = TaskSetting.PULL_REQUEST if pr else TaskSetting.REPOSITORY
            data = {**data, "info": {**info, "setting": setting}}
        return data

    @model_validator(mode="after")
    def _setting_fits(self) -> Self:
        wanted = TaskSetting.PULL_REQUEST if self.pull_request else TaskSetting.REPOSITORY
        if self.info.setting is not wanted:
            raise ValueError(f"{self.info.id}: a repository task's setting must be {wanted}")
        return self

    @property
    def id(self) -> str:
        """The task's id (from its public info)."""
        return self.info.id

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything that decides the task's test outcomes."""
        parts = (self.id, self.snapshot, self.start, self.fix, self.roots, self.test_paths,
                 self.visible_tests, self.hidden_tests)  # fmt: skip
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def is_test_file(self, path: str) -> bool:
        """Whether ``path`` is the project's test code (trusted: always taken from the snapshot)."""
        return is_test_file(path, self.test_paths)

    def start_tree(self, base: Workspace) -> Workspace:
        """The tree the agent starts from."""
        return base.apply_patch(self.start) if self.start else base

    def reference_tree(self, base: Workspace) -> Workspace:
        """The start with the reference fix applied."""
        start = self.start_tree(base)
        return start.apply_patch(self.fix) if self.fix else start

    def split_tree(self, base: Workspace, tree: Workspace) -> tuple[dict[str, str], dict[str, str]]:
        """A sandbox job's two halves: ``tree`` without the test files (the candidate's), and
        the test files of the snapshot (trusted)."""
        candidate = {p: t for p, t in tree.items() if not self.is_test_file(p)}
        trusted = {p: t for p, t in base.items() if self.is_test_file(p)}
        return candidate, trusted

    def check(self, base: Workspace) -> None:
        """Raise ValueError when the task does not fit its snapshot (a stale or corrupt store)."""
        if base.digest() != self.snapshot:
            raise ValueError(f"{self.id}: snapshot {self.snapshot[:12]} is not the one given")
        for path in (*self.roots, *self.test_paths, *(i.path for i in self.issues)):
            if path:
                validate_path(path)
        self.reference_tree(base)  # both diffs apply
