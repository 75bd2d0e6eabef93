"""OpenEnv wire models: the action, observation and state that cross HTTP and WebSocket.

This is the only module that subclasses openenv types; the pure domain types live in
``python_env.types``. Every field carries a description because ``/schema`` publishes them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from python_env.environment.openenv_light import Action, Observation, State
from python_env.types import (
    MAX_CODE_CHARS,
    MAX_FINDINGS,
    Evaluation,
    Finding,
    TaskInfo,
    TestReport,
)


class ActionKind(StrEnum):
    """The four moves of an episode."""

    REVIEW = "review"
    EDIT = "edit"
    RUN_TESTS = "run_tests"
    SUBMIT = "submit"


class CodeReviewAction(Action):
    """One agent move. ``kind`` says which; each kind takes exactly the fields it needs:

    - ``review``: ``findings`` (1..50 findings on the current code);
    - ``edit``: ``code`` (the whole new file);
    - ``run_tests``: nothing — runs the visible tests against the current code;
    - ``submit``: nothing — ends the episode and runs the final, hidden evaluation.
    """

    kind: ActionKind = Field(description="review | edit | run_tests | submit")
    findings: list[Finding] | None = Field(
        default=None,
        max_length=MAX_FINDINGS,
        description="review only: the problems found, each with a line span of the current code.",
    )
    code: str | None = Field(
        default=None, max_length=MAX_CODE_CHARS, description="edit only: the complete new source."
    )

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Self:
        wants = {
            ActionKind.REVIEW: "findings",
            ActionKind.EDIT: "code",
            ActionKind.RUN_TESTS: None,
            ActionKind.SUBMIT: None,
        }[self.kind]
        for name in ("findings", "code"):
            given = getattr(self, name) is not None
            if name == wants and not given:
                raise _invalid(f"a {self.kind.value} action needs '{name}'")
            if name != wants and given:
                raise _invalid(f"a {self.kind.value} action takes no '{name}'")
        if self.kind == ActionKind.REVIEW and not self.findings:
            raise _invalid("a review action needs at least one finding")
        return self


def _invalid(message: str) -> PydanticCustomError:
    # A custom error keeps errors() JSON-serialisable; a ValueError would not be (OpenEnv sends
    # errors() in the WebSocket error frame and the HTTP 422 body).
    return PydanticCustomError("invalid_action", message)


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


class CodeReviewState(State):
    """Episode bookkeeping, returned by the ``state`` message."""

    task_id: str | None = Field(default=None, description="Id of the current task.")
    seed: int | None = Field(default=None, description="Seed passed to reset(), if any.")
    max_steps: int = Field(default=0, description="Step budget of the task.")
    done: bool = Field(default=False, description="True once the episode has ended.")
    score: float = Field(default=0.0, description="Running (or final) task score.")
