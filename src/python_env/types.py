"""Pure domain types shared by tasks, sandbox, grading and the environment.

Nothing here imports openenv or FastAPI: the wire models in
``python_env.environment.models`` build on these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

MAX_CODE_CHARS = 100_000
MAX_FINDINGS = 50
MAX_PATH_CHARS = 255  # a file of a repository task (tasks.workspace holds the same cap)


class Category(StrEnum):
    """What kind of problem a finding reports."""

    BUG = "bug"
    SECURITY = "security"
    PERFORMANCE = "performance"
    MAINTAINABILITY = "maintainability"
    STYLE = "style"


class Severity(StrEnum):
    """How bad a problem is, from ``low`` to ``critical``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return list(Severity).index(self)


class TaskKind(StrEnum):
    """What a task asks for; a task may combine several kinds."""

    REVIEW = "review"
    REPAIR = "repair"
    OPTIMIZE = "optimize"


class TaskSetting(StrEnum):
    """What the agent works on: one file, a project's tree, or a pull request to a project."""

    FILE = "file"
    REPOSITORY = "repository"
    PULL_REQUEST = "pull_request"


class Difficulty(StrEnum):
    """How hard a task is meant to be."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class TestStyle(StrEnum):
    """How a task's test files are written, and so how the sandbox runs them."""

    __test__ = False  # not a pytest class

    RETURN = "return"  # zero-argument ``test_*`` functions; return values and asserts compared
    PYTEST = "pytest"  # a pytest suite: fixtures, parametrize, raises, approx, marks, conftest


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    """One problem reported by a reviewer, located by a line span of the code under review."""

    start_line: Annotated[int, Field(ge=1, description="First line of the problem (1-based).")]
    end_line: Annotated[int, Field(ge=1, description="Last line of the problem, inclusive.")]
    category: Category = Field(description="bug, security, performance, maintainability or style.")
    severity: Severity = Field(description="low, medium, high or critical.")
    rule_id: str = Field(
        default="", max_length=32, description="Analyzer rule code if one applies, e.g. S608, B006."
    )
    message: str = Field(min_length=1, max_length=2_000, description="What is wrong and why.")
    suggested_fix: str = Field(
        default="",
        max_length=4_000,
        description="Optional replacement for lines start_line..end_line of the original code, "
        "with their indentation, at most max(12, 4 x span) lines (empty: no fix; to delete a "
        "line, replace it with its neighbour). At submit the grader runs it on the hidden tests "
        "in the sandbox; a fix that works doubles the finding's credit.",
    )
    path: str = Field(
        default="",
        max_length=MAX_PATH_CHARS,
        description="Repository tasks: the file the lines are in (POSIX, relative to the project "
        "root); a finding matches an issue only in the same file. Single-file tasks: leave empty.",
    )

    @model_validator(mode="after")
    def _span_ordered(self) -> Self:
        if self.end_line < self.start_line:
            raise PydanticCustomError(
                "span_order",
                "end_line ({end}) is before start_line ({start})",
                {"end": self.end_line, "start": self.start_line},
            )
        return self


class Issue(_Frozen):
    """One planted issue: an entry of a task's hidden answer key."""

    id: str = Field(description="The issue's id, unique within its task.")
    start_line: int = Field(ge=1, description="First line of the issue in the original code.")
    end_line: int = Field(ge=1, description="Last line of the issue, inclusive.")
    category: Category = Field(description="The review category a finding must name.")
    severity: Severity = Field(description="How serious it is; a finding's severity earns credit.")
    rule_id: str = Field(default="", description="The ruff or bandit rule it violates, if any.")
    alt_spans: tuple[tuple[int, int], ...] = Field(
        default=(), description="Other spans that locate it too, e.g. root cause and symptom."
    )
    alt_categories: tuple[Category, ...] = Field(
        default=(), description="Other categories a careful reviewer could file it under."
    )
    explanation: str = Field(description="What is wrong, why, and how to fix it.")

    @model_validator(mode="after")
    def _spans_ordered(self) -> Self:
        for start, end in self.spans:
            if not 1 <= start <= end:
                raise PydanticCustomError(
                    "span_order", "span ({start}, {end}) is not 1 <= start <= end",
                    {"start": start, "end": end},
                )  # fmt: skip
        return self

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """Every span that locates the issue: its own first, then the alternatives."""
        return ((self.start_line, self.end_line), *self.alt_spans)

    @property
    def categories(self) -> tuple[Category, ...]:
        """Every category a finding may name: its own first, then the alternatives."""
        return (self.category, *self.alt_categories)


class TaskInfo(_Frozen):
    """The public description of a task: everything except the hidden parts."""

    id: str = Field(description="Stable id, e.g. bill-split-lost-cents.")
    title: str = Field(description="One line saying what the code is.")
    kinds: tuple[TaskKind, ...] = Field(description="What is asked: review, repair, optimize.")
    difficulty: Difficulty = Field(description="easy, medium or hard.")
    split: str = Field(description="curated, train or test (never trained on).")
    source: str = Field(description="Where the task comes from: curated, or a generator corpus.")
    categories: tuple[Category, ...] = Field(
        description="Categories of the planted issues (empty on a pull-request task: whether "
        "its change has a problem is for the review to find out)."
    )
    num_issues: int = Field(
        description="How many issues are planted (the answer key's size); 0 on a pull-request "
        "task, which does not say."
    )
    max_steps: int = Field(description="Actions allowed before the episode is auto-submitted.")
    setting: TaskSetting = Field(
        default=TaskSetting.FILE,
        description="file (one module), repository (a project's tree) or pull_request (review "
        "a change to a project; a clean one is answered with approve).",
    )


class Task(_Frozen):
    """A complete task, including the hidden tests, answer key and reference fix."""

    info: TaskInfo
    instructions: str
    code: str
    visible_tests: str
    hidden_tests: str
    fix: str
    issues: tuple[Issue, ...]
    benchmark: str = ""
    test_style: TestStyle = TestStyle.RETURN
    conftest: str = Field(default="", description="pytest tasks: the task's conftest.py.")
    module: str = Field(
        default="solution",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The module name the tests import the code under review as.",
    )

    @property
    def id(self) -> str:
        """The task's id (from its public info)."""
        return self.info.id

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything that decides the task's test outcomes (not just its id)."""
        parts = (
            self.id,
            self.code,
            self.fix,
            self.visible_tests,
            self.hidden_tests,
            self.benchmark,
            self.test_style.value,
            self.conftest,
            self.module,
        )
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def has(self, kind: TaskKind) -> bool:
        """Whether the task asks for this kind of work."""
        return kind in self.info.kinds


@dataclass(frozen=True)
class TaskProblem:
    """One rule a task breaks: which task, which rule (a short id), and the evidence."""

    task: str
    rule: str
    evidence: str

    def line(self) -> str:
        """The one-line form the CLI prints: ``task: rule: evidence``."""
        return f"{self.task}: {self.rule}: {self.evidence}"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandbox job. CPU time, not wall time, decides "too slow"."""

    cpu_seconds: float = 5.0
    wall_seconds: float = 20.0
    memory_mb: int = 512
    output_bytes: int = 64_000
    file_size_mb: int = 8
    open_files: int = 64
    processes: int = 32


class Suite(StrEnum):
    """Which test file of a task runs: the one the agent sees, or the held-back one."""

    VISIBLE = "visible"
    HIDDEN = "hidden"


class VerdictKind(StrEnum):
    """What a test pins down: the bug (fails on the original) or behaviour that must survive."""

    FAIL_TO_PASS = "fail_to_pass"
    PASS_TO_PASS = "pass_to_pass"


class Component(StrEnum):
    """A part of the task score; a task is scored on the parts its kinds ask for."""

    REVIEW = "review"
    TESTS = "tests"
    PERFORMANCE = "performance"


class ExitReason(StrEnum):
    """How a sandbox job ended. Only ``ok`` means the harness finished normally."""

    OK = "ok"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    OUTPUT_LIMIT = "output_limit"
    PROTOCOL_ERROR = "protocol_error"


class TestStatus(StrEnum):
    """Outcome of one test function in the sandbox, before comparison with the reference."""

    __test__ = False  # not a pytest class

    RETURNED = "returned"
    RAISED = "raised"
    SKIPPED = "skipped"  # pytest: a skip mark, pytest.skip(), importorskip; never a pass
    NOT_RUN = "not_run"


class TestOutcome(_Frozen):
    """What one test did: returned a JSON-normalised value, or raised an exception."""

    __test__ = False  # not a pytest class

    name: str
    status: TestStatus
    value: Any = None
    message: str = Field(default="", description="Exception type and message when it raised.")

    def same_as(self, other: TestOutcome) -> bool:
        """Outcomes match when both returned equal values or both raised the same type.

        ``other`` is the reference: a check of it made with ``pytest.approx`` carries its
        tolerance, and the same check here matches within that tolerance of its value.
        """
        if self.status != other.status or self.status == TestStatus.NOT_RUN:
            return False
        return bool(self.value == other.value) or _checks_close(self.value, other.value)


def _checks_close(got: Any, expected: Any) -> bool:
    """Equal checks and return value, approx checks within the reference's tolerance."""
    if not (isinstance(got, dict) and isinstance(expected, dict)):
        return False
    mine, theirs = got.get("checks"), expected.get("checks")
    if not (isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs)):
        return False
    if got.get("returned") != expected.get("returned"):
        return False
    return all(a == b or _approx_close(a, b) for a, b in zip(mine, theirs, strict=True))


def _approx_close(got: Any, expected: Any) -> bool:
    if not (isinstance(expected, list) and len(expected) == 3 and isinstance(expected[2], dict)):
        return False
    if not (isinstance(got, list) and len(got) == 3 and got[0] == expected[0]):
        return False
    tolerance = expected[2]
    if got[2] != tolerance or set(tolerance) != {"rel", "abs"}:
        return False
    return _close(got[1], expected[1], float(tolerance["rel"]), float(tolerance["abs"]))


def _close(got: Any, expected: Any, rel: float, abs_: float) -> bool:
    """pytest.approx's rule, |got - expected| <= max(rel * |expected|, abs), through lists and
    dicts of numbers (normalised values: dicts are sorted key/value pairs)."""
    numbers = (int, float)
    if isinstance(got, bool) or isinstance(expected, bool):
        return bool(got == expected)
    if isinstance(got, numbers) and isinstance(expected, numbers):
        return abs(got - expected) <= max(rel * abs(expected), abs_)
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return all(_close(a, b, rel, abs_) for a, b in zip(got, expected, strict=True))
    if isinstance(got, dict) and isinstance(expected, dict) and got.keys() == expected.keys():
        return all(_close(got[k], expected[k], rel, abs_) for k in expected)
    return bool(got == expected)


class ExecReport(_Frozen):
    """Everything a sandbox job produced; agent mistakes are data here, never exceptions."""

    exit_reason: ExitReason
    outcomes: tuple[TestOutcome, ...] = ()
    cost: int | None = Field(default=None, description="Counted operations of benchmark().")
    cost_tampered: bool = False
    stdout: str = ""
    stderr: str = ""
    error: str = Field(default="", description="Import or collection error, if any.")
    unfinished: str = Field(default="", description="The test the job ended in, if it did.")
    cpu_ms: float = 0.0
    wall_ms: float = 0.0
    peak_memory_kb: int = 0
    # Each test's CPU time (ms) as the child measured it: what the task builder picks cheap
    # tests by. A measurement, not an outcome: left out of dumps, schema, repr and equality.
    test_cpu_ms: SkipJsonSchema[dict[str, float]] = Field(
        default_factory=dict, exclude=True, repr=False
    )

    def outcome(self, name: str) -> TestOutcome | None:
        """The outcome of the test called ``name``, if it ran."""
        return next((o for o in self.outcomes if o.name == name), None)

    def _result(self) -> tuple[Any, ...]:
        return tuple(value for name, value in self if name != "test_cpu_ms")

    def __eq__(self, other: object) -> bool:
        """Reports are equal when the runs did the same, however long their tests took."""
        if not isinstance(other, ExecReport):
            return NotImplemented
        return self._result() == other._result()

    def __hash__(self) -> int:
        return hash(self._result())


class TestVerdict(_Frozen):
    """A test's outcome compared with the reference's."""

    __test__ = False

    name: str = Field(description="The test function's name.")
    passed: bool = Field(description="True when the outcome equals the reference fix's.")
    kind: VerdictKind = Field(description="fail_to_pass (the bug) or pass_to_pass.")
    message: str = Field(default="", description="Why it failed (visible tests only).")


class TestReport(_Frozen):
    """The graded result of running a test file against the candidate code."""

    __test__ = False

    suite: Suite = Field(description="visible or hidden.")
    exit_reason: ExitReason = Field(description="How the run ended: ok, timeout, crashed, ...")
    verdicts: tuple[TestVerdict, ...] = Field(description="Pass or fail per test, by name.")
    skipped: tuple[str, ...] = Field(
        default=(), description="Tests the reference fix skips too: not graded either way."
    )
    error: str = Field(default="", description="Why the code or tests failed to import.")
    stdout: str = Field(default="", description="What the code printed (visible runs only).")
    stderr: str = Field(default="", description="What the code wrote to stderr (visible only).")
    cpu_ms: float = Field(default=0.0, description="CPU time of the run (visible runs only).")

    @property
    def passed(self) -> int:
        """How many tests passed."""
        return sum(v.passed for v in self.verdicts)

    @property
    def failed(self) -> int:
        """How many tests failed."""
        return len(self.verdicts) - self.passed


class FixStatus(StrEnum):
    """What became of a matched finding's ``suggested_fix``."""

    NONE = "none"  # no fix given: the finding earns the located credit
    PENDING = "pending"  # checked at submit
    VERIFIED = "verified"  # in place of the finding's lines, it fixes the issue: full credit
    FAILED = "failed"  # it does not fix the issue, or breaks a test: the located credit
    SKIPPED = "skipped"  # over the episode's budget of fix checks: the located credit
    UNCHECKABLE = "uncheckable"  # nothing can check a fix for this issue: locating it is all


class MatchedFinding(_Frozen):
    """A finding paired with the planted issue it matched, and the credit it earned."""

    finding_index: int = Field(description="Index of the finding in the episode's list.")
    issue_id: str = Field(description="The answer-key issue it matched.")
    credit: float = Field(description="Located (0.5) or fixed (1.0), times the severity factor.")
    fix: FixStatus = Field(default=FixStatus.NONE, description="What became of its fix.")


class ReviewScore(_Frozen):
    """Findings against the answer key: precision, recall and F1 over credited matches."""

    precision: float = Field(description="Credit / findings reported.")
    recall: float = Field(description="Credit / issues planted.")
    f1: float = Field(description="Harmonic mean of precision and recall: the review component.")
    matched: tuple[MatchedFinding, ...] = Field(default=(), description="Credited matches.")
    unmatched_findings: tuple[int, ...] = Field(
        default=(), description="Indices of findings that matched no planted issue (or duplicates)."
    )
    missed_issues: tuple[str, ...] = Field(default=(), description="Issues no finding matched.")


class TestScore(_Frozen):
    """The repair score: fail-to-pass pass rate times pass-to-pass pass rate."""

    __test__ = False

    score: float = Field(description="The tests component, in [0, 1].")
    fail_to_pass: tuple[int, int] = Field(description="(passed, total) of fail-to-pass tests.")
    pass_to_pass: tuple[int, int] = Field(description="(passed, total) of pass-to-pass tests.")


class PerfScore(_Frozen):
    """The optimize score: share of the reference's speed-up, from counted costs."""

    score: float = Field(description="The performance component, in [0, 1].")
    baseline_cost: int = Field(description="Counted cost of the original code's benchmark.")
    reference_cost: int = Field(description="Counted cost of the reference fix's benchmark.")
    candidate_cost: int | None = Field(description="Counted cost of the candidate (None: failed).")
    note: str = Field(default="", description="Why the score is 0, when it is.")


class Evaluation(_Frozen):
    """The final, complete grade of an episode; every component is in [0, 1]."""

    score: float = Field(ge=0.0, le=1.0, description="The final task score.")
    components: dict[str, float] = Field(description="Component name -> score in [0, 1].")
    weights: dict[str, float] = Field(description="Component name -> its weight in the score.")
    review: ReviewScore | None = Field(default=None, description="Findings vs. the answer key.")
    tests: TestScore | None = Field(default=None, description="The repair score's parts.")
    performance: PerfScore | None = Field(default=None, description="The speed-up's parts.")
    hidden_tests: TestReport | None = Field(
        default=None, description="Hidden verdicts by name (nothing the code printed or raised)."
    )
    issues: tuple[Issue, ...] = Field(
        default=(), description="The answer key, revealed at the end."
    )
    issue_paths: dict[str, str] = Field(
        default_factory=dict,
        description="Repository tasks: the file each revealed issue is in, by issue id.",
    )
