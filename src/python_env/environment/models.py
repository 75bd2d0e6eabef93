"""OpenEnv wire models: the action, observation and state that cross HTTP and WebSocket.

This is the only module that subclasses openenv types; the pure domain types live in
``python_env.types``. Every field carries a description because ``/schema`` publishes them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from python_env.environment.openenv_light import Action, Observation, State
from python_env.types import (
    MAX_CODE_CHARS,
    MAX_FINDINGS,
    MAX_PATH_CHARS,
    Evaluation,
    Finding,
    TaskInfo,
    TestReport,
)

# No import of python_env.tasks here: agents load these models, and never the tasks (answer keys).
MAX_PATTERN_CHARS = 200  # tasks.workspace's cap on globs and regexes (a test checks they agree)
MAX_DIFF_CHARS = 2 * MAX_CODE_CHARS  # a patch carries context and removed lines besides the new
MAX_TEST_IDS = 500
MAX_TEST_ID_CHARS = 1_000


class ActionKind(StrEnum):
    """The moves of an episode: four on any task, five more that navigate a repository, and
    ``approve``, the verdict "nothing wrong here" on a pull-request task."""

    REVIEW = "review"
    EDIT = "edit"
    RUN_TESTS = "run_tests"
    SUBMIT = "submit"
    LIST_FILES = "list_files"
    READ_FILE = "read_file"
    SEARCH = "search"
    EDIT_FILE = "edit_file"
    APPLY_PATCH = "apply_patch"
    APPROVE = "approve"


REPO_ONLY = frozenset(
    {ActionKind.LIST_FILES, ActionKind.READ_FILE, ActionKind.SEARCH, ActionKind.EDIT_FILE,
     ActionKind.APPLY_PATCH}
)  # fmt: skip
# kind -> (the fields it needs, the fields it may take); every other field must be left out.
_FIELDS: dict[ActionKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ActionKind.REVIEW: (("findings",), ()),
    ActionKind.EDIT: (("code",), ()),
    ActionKind.RUN_TESTS: ((), ("tests",)),
    ActionKind.SUBMIT: ((), ()),
    ActionKind.LIST_FILES: ((), ("pattern",)),
    ActionKind.READ_FILE: (("path",), ("start_line", "end_line")),
    ActionKind.SEARCH: (("pattern",), ("path_glob",)),
    ActionKind.EDIT_FILE: (("path",), ("content", "start_line", "end_line", "new_text")),
    ActionKind.APPLY_PATCH: (("diff",), ()),
    ActionKind.APPROVE: ((), ()),
}
_OPTIONAL = ("findings", "code", "tests", "pattern", "path", "path_glob", "start_line",
             "end_line", "content", "new_text", "diff")  # fmt: skip
TestId = Annotated[str, Field(min_length=1, max_length=MAX_TEST_ID_CHARS)]


class CodeReviewAction(Action):
    """One agent move. ``kind`` says which; each kind takes exactly the fields it needs:

    - ``review``: ``findings`` (1..50 findings on the current code; on a repository task each
      names its file in ``path``);
    - ``edit``: ``code`` (the whole new file; single-file tasks);
    - ``run_tests``: nothing — runs the visible tests against the current code; on a repository
      task optionally ``tests``, a selection of the visible test ids;
    - ``submit``: nothing — ends the episode and runs the final, hidden evaluation.

    Repository tasks only:

    - ``list_files``: optional ``pattern`` (a glob, default ``**/*``);
    - ``read_file``: ``path``, optional ``start_line`` and ``end_line``;
    - ``search``: ``pattern`` (a regular expression), optional ``path_glob``;
    - ``edit_file``: ``path`` and either ``content`` (the whole file, which may be new) or
      ``start_line``, ``end_line`` and ``new_text`` (those lines replaced);
    - ``apply_patch``: ``diff`` (a unified diff, paths relative to the project root).

    Pull-request tasks only:

    - ``approve``: nothing — ends the episode like ``submit``, with the verdict that the pull
      request has no problem; it earns the review component only on a clean pull request, and
      only if no finding was reported.
    """

    kind: ActionKind = Field(
        description="review | edit | run_tests | submit, on repository tasks list_files | "
        "read_file | search | edit_file | apply_patch, and on pull-request tasks approve (ends "
        "the episode: the pull request has no problem)"
    )
    findings: list[Finding] | None = Field(
        default=None,
        max_length=MAX_FINDINGS,
        description="review only: the problems found, each with a line span of the current code.",
    )
    code: str | None = Field(
        default=None, max_length=MAX_CODE_CHARS, description="edit only: the complete new source."
    )
    tests: list[TestId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEST_IDS,
        description="run_tests on a repository task, optional: which of the visible test ids "
        "to run (default all of them).",
    )
    pattern: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATTERN_CHARS,
        description="list_files: a glob of paths (default **/*; *.py matches at any depth); "
        "search: a regular expression (Python syntax), matched line by line.",
    )
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH_CHARS,
        description="read_file, edit_file: a file of the project (POSIX, relative to its root).",
    )
    path_glob: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATTERN_CHARS,
        description="search, optional: search only the files matching this glob.",
    )
    start_line: int | None = Field(
        default=None,
        ge=1,
        description="read_file: first line to show (default 1); edit_file: first line replaced.",
    )
    end_line: int | None = Field(
        default=None,
        ge=0,
        description="read_file: last line to show (default the end); edit_file: last line "
        "replaced, inclusive (start_line - 1 inserts before start_line).",
    )
    content: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="edit_file: the complete new text of the file (creates it if it is new).",
    )
    new_text: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="edit_file: the text that replaces lines start_line..end_line ('' deletes).",
    )
    diff: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DIFF_CHARS,
        description="apply_patch: a unified diff (git's a/ b/ prefixes or none), applied all "
        "or nothing.",
    )

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Self:
        needs, takes = _FIELDS[self.kind]
        an = "an" if self.kind.value[0] in "aeiou" else "a"
        for name in _OPTIONAL:
            given = getattr(self, name) is not None
            if name in needs and not given:
                raise _invalid(f"{an} {self.kind.value} action needs '{name}'")
            if given and name not in needs and name not in takes:
                raise _invalid(f"{an} {self.kind.value} action takes no '{name}'")
        if self.kind == ActionKind.REVIEW and not self.findings:
            raise _invalid("a review action needs at least one finding")
        if self.kind == ActionKind.EDIT_FILE:
            ranged = [getattr(self, n) is not None for n in ("start_line", "end_line", "new_text")]
            if (self.content is not None) == any(ranged) or (any(ranged) and not all(ranged)):
                raise _invalid(
                    "an edit_file action needs either 'content', or 'start_line', 'end_line' "
                    "and 'new_text'"
                )
        return self


def _invalid(message: str) -> PydanticCustomError:
    # A custom error keeps errors() JSON-serialisable; a ValueError would not be (OpenEnv sends
    # errors() in the WebSocket error frame and the HTTP 422 body).
    return PydanticCustomError("invalid_action", message)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkspaceSummary(_Wire):
    """A repository task's tree in a few numbers: which project, how many files, what changed."""

    project: str = Field(description="The project's name.")
    version: str = Field(description="The release the task's tree comes from.")
    files: int = Field(description="Files in the current tree.")
    changed: list[str] = Field(
        default_factory=list,
        description="Files the agent changed, added or deleted since the start, sorted.",
    )


class PullRequestView(_Wire):
    """A pull request as its reviewer sees it."""

    title: str = Field(description="The pull request's title.")
    description: str = Field(description="What the author says the change does.")
    diff: str = Field(description="Unified diff from the base to the head (the start tree).")


class CodeReviewObservation(Observation):
    """What the agent sees after reset() and after every step."""

    task: TaskInfo | None = Field(default=None, description="Public task description.")
    instructions: str = Field(default="", description="What the agent is asked to do.")
    code: str = Field(default="", description="The current code (line numbers start at 1).")
    visible_tests: str = Field(default="", description="Tests the agent may run with run_tests.")
    test_report: TestReport | None = Field(
        default=None, description="Result of the last run_tests (visible tests)."
    )
    findings: list[Finding] = Field(
        default_factory=list, description="Every finding reported so far in this episode."
    )
    feedback: str = Field(default="", description="What the last action did.")
    error: str | None = Field(
        default=None, description="Why the last action was refused or failed, if it was."
    )
    steps_left: int = Field(default=0, ge=0, description="Actions left before auto-submit.")
    score: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Running task score; the reward is its change."
    )
    score_components: dict[str, float] = Field(
        default_factory=dict, description="Running score per component (review, tests, ...)."
    )
    evaluation: Evaluation | None = Field(
        default=None, description="The final evaluation, present once done is true."
    )
    output: str = Field(
        default="",
        description="Repository tasks: what the last list_files, read_file or search produced "
        "(paths; numbered lines; path:line: text matches), capped; empty after other actions.",
    )
    workspace: WorkspaceSummary | None = Field(
        default=None, description="Repository tasks: the project and the files changed so far."
    )
    test_ids: list[str] = Field(
        default_factory=list,
        description="Repository tasks: the visible test ids run_tests may select from.",
    )
    pull_request: PullRequestView | None = Field(
        default=None, description="Pull-request tasks: its title, description and diff."
    )


class NavigationStats(_Wire):
    """What an agent did in a repository episode, counted per kind of action."""

    steps: int = Field(default=0, description="Actions taken.")
    list_calls: int = Field(default=0, description="list_files actions that listed files.")
    reads: int = Field(default=0, description="read_file actions that read a file.")
    files_read: int = Field(default=0, description="Distinct files read.")
    searches: int = Field(default=0, description="search actions that searched.")
    edits: int = Field(default=0, description="edit_file actions that changed a file.")
    patches_applied: int = Field(default=0, description="apply_patch actions that applied.")
    test_runs: int = Field(default=0, description="run_tests actions that ran tests.")
    reviews: int = Field(default=0, description="review actions whose findings were recorded.")
    errors: int = Field(default=0, description="Actions refused as mistakes (see error).")


class CodeReviewState(State):
    """Episode bookkeeping, returned by the ``state`` message."""

    task_id: str | None = Field(default=None, description="Id of the current task.")
    seed: int | None = Field(default=None, description="Seed passed to reset(), if any.")
    max_steps: int = Field(default=0, description="Step budget of the task.")
    done: bool = Field(default=False, description="True once the episode has ended.")
    score: float = Field(default=0.0, description="Running (or final) task score.")
    navigation: NavigationStats | None = Field(
        default=None, description="Repository tasks: the episode's actions, counted by kind."
    )
