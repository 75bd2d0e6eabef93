"""The python_env Environment: one review/repair episode per instance (one per WS session)."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from enum import StrEnum
from typing import Any, TypeVar

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from python_env import __version__
from python_env.environment.models import (
    REPO_ONLY,
    ActionKind,
    CodeReviewAction,
    CodeReviewObservation,
    CodeReviewState,
)
from python_env.environment.repo_episode import RepoEpisode
from python_env.environment.rubric import ProgressRubric
from python_env.environment.task_runner import TaskRunner
from python_env.errors import EpisodeFinished, InvalidRequest, ResetNeeded
from python_env.grading.findings import review_f1
from python_env.grading.fixes import source_lines
from python_env.grading.score import component_weights, weighted_score
from python_env.sandbox.plans import Plan, drive, drive_async
from python_env.tasks.catalog import AnyTask, TaskCatalog
from python_env.tasks.repo_task import RepoTask
from python_env.types import (
    Category,
    Component,
    Difficulty,
    Evaluation,
    Finding,
    Task,
    TaskInfo,
    TaskKind,
    TestReport,
)

RESET_OPTIONS = ("task_id", "split", "index", "kind", "difficulty", "category", "repo")
# A review of at most this many findings in all is scored on the event loop (tens of µs); a
# longer one, which a client could grow step by step, goes to the blocking pool.
QUICK_REVIEW_FINDINGS = 200
EnumT = TypeVar("EnumT", bound=StrEnum)


class PythonEnvironment(Environment[CodeReviewAction, CodeReviewObservation, CodeReviewState]):
    """Review and repair Python code: reset onto a task, review/edit/run_tests, then submit."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(
        self,
        catalog: TaskCatalog,
        runner: TaskRunner,
        on_close: Callable[[], None] | None = None,
        blocking: Executor | None = None,
    ) -> None:
        """One episode at a time over ``catalog``; ``runner`` is shared by every session;
        ``on_close`` is called once when the server closes the environment (session end);
        ``blocking`` runs what may block (the sandbox, a repository) off the event loop: the
        server's bounded pool, shared by its sessions (None: the loop's default executor)."""
        super().__init__(rubric=ProgressRubric())
        self._on_close = on_close
        self._catalog = catalog
        self._runner = runner
        self._state = CodeReviewState()
        self._task: AnyTask | None = None
        self._repo: RepoEpisode | None = None  # set on repository tasks: it runs their actions
        self._code = ""
        self._findings: list[Finding] = []
        self._components: dict[str, float] = {}
        self._report: TestReport | None = None
        # Constant for an episode, so worked out once per episode rather than on every step.
        self._weights: dict[str, float] = {}
        self._uncheckable: frozenset[str] = frozenset()
        self._lines: int | None = None  # lines of the task's code, counted at the first review
        self._blocking = blocking

    # --- OpenEnv API -------------------------------------------------------------------------

    def close(self) -> None:
        """Called by OpenEnv when the session ends; runs ``on_close`` once."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> CodeReviewObservation:
        """``reset`` off the event loop: it may parse a split or run reference tests."""
        call = functools.partial(self.reset, seed, episode_id, **options)
        return await asyncio.get_running_loop().run_in_executor(self._blocking, call)

    async def step_async(
        self, action: CodeReviewAction, timeout_s: float | None = None, **kwargs: Any
    ) -> CodeReviewObservation:
        """``step`` as OpenEnv's ``/ws`` handler plays it. A step that cannot block runs right
        here on the event loop (two thread hand-offs cost more than it does), and so does a
        graded ``run_tests`` whose only wait is the sandbox (``_graded_here``): it waits for
        its jobs on the loop. Any other step that may run the sandbox or read a repository runs
        in ``blocking``."""
        if self._quick(action):
            return self.step(action, timeout_s, **kwargs)
        if self._graded_here(action):
            return await drive_async(self._step(action), self._runner.executor)
        call = functools.partial(self.step, action, timeout_s, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._blocking, call)

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> CodeReviewObservation:
        """Start an episode on ``task_id``, on ``split`` + ``index``, or on a seeded pick
        filtered by ``split``, ``kind``, ``difficulty`` and ``category``."""
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise InvalidRequest(
                f"unknown reset option(s) {unknown}; known: {list(RESET_OPTIONS)}",
                field=unknown[0],
            )
        task = self._pick(seed, options)
        # An unfair task is rejected here, before it is served.
        if isinstance(task, RepoTask):
            self._repo = RepoEpisode.start(task, self._catalog.repo_base(task), self._runner.repos)
            self._code = ""
            self._uncheckable = frozenset()
        else:
            self._runner.prepare(task)
            self._uncheckable = self._runner.uncheckable(task)
            self._repo = None
            self._code = task.code
        self._weights = component_weights(task)
        self._lines = None
        self._task = task
        self._findings = []
        self._components = {}
        self._report = None
        self._state = CodeReviewState(
            episode_id=episode_id or str(uuid.uuid4()),
            step_count=0,
            task_id=task.id,
            seed=seed,
            max_steps=task.info.max_steps,
        )
        assert isinstance(self.rubric, ProgressRubric)
        self.rubric.reset()
        feedback = "New episode. Findings use the line numbers of the code as given here."
        if self._repo is not None:
            feedback = self._repo.greeting()
        return self._observe(feedback=feedback, reward=None)

    def step(
        self, action: CodeReviewAction, timeout_s: float | None = None, **kwargs: Any
    ) -> CodeReviewObservation:
        """Apply one action; its reward is the change of the task score."""
        return drive(self._step(action), self._runner.executor)

    def _step(self, action: CodeReviewAction) -> Plan[CodeReviewObservation]:
        if self._task is None:
            raise ResetNeeded()
        if self._state.done:
            raise EpisodeFinished()
        self._state.step_count += 1
        obs = yield from self._dispatch(self._task, action)
        if not obs.done and self._state.step_count >= self._state.max_steps:
            obs = self._finish(self._task, "Step budget used up: the episode was submitted.")
        obs.reward = self._apply_rubric(action, obs)
        return obs

    @property
    def state(self) -> CodeReviewState:
        """The episode's bookkeeping (OpenEnv ``state``)."""
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        """Name, description and version for ``/metadata``."""
        return EnvironmentMetadata(
            name="python_env",
            description="Review and repair Python code: planted issues, hidden tests, sandboxed "
            "grading, dense rewards in [-1, 1] that sum to a task score in [0, 1].",
            version=__version__,
            documentation_url="https://github.com/python-env/python_env#readme",
        )

    # --- TaskProvider API (read-only; works on a freshly built instance) ---------------------

    def list_splits(self) -> list[str]:
        """The splits this environment serves (Task API)."""
        return self._catalog.split_names()

    def list_tasks(self, split: str) -> list[dict[str, Any]]:
        """Public descriptions of every task of ``split`` (Task API)."""
        return [info.model_dump(mode="json") for info in self._infos(split)]

    def num_tasks(self, split: str) -> int:
        """How many tasks ``split`` holds (Task API)."""
        return self._catalog.size(split)

    def get_task(self, split: str, index: int) -> dict[str, Any]:
        """The public description of one task (Task API)."""
        return self._catalog.at(split, index).info.model_dump(mode="json")

    def get_task_range(
        self, split: str, start: int | None = None, stop: int | None = None
    ) -> list[dict[str, Any]]:
        """Public descriptions of a slice of ``split`` (Task API)."""
        return [info.model_dump(mode="json") for info in self._infos(split)[start:stop]]

    # --- episode logic -----------------------------------------------------------------------

    def _quick(self, action: CodeReviewAction) -> bool:
        """A review of a single file, short of the step budget (the last step submits) and of
        ``QUICK_REVIEW_FINDINGS``: pure scoring, no sandbox, no file."""
        return (
            action.kind is ActionKind.REVIEW
            and self._midway_on_a_file(action) is not None
            and len(self._findings) + len(action.findings or ()) <= QUICK_REVIEW_FINDINGS
        )

    def _graded_here(self, action: CodeReviewAction) -> bool:
        """``run_tests`` on a single file whose baselines are built, short of the step budget:
        its plan's only wait is its sandbox jobs (no baseline to build, no submit, no linter
        run, no repository), so it may run on the event loop."""
        task = self._midway_on_a_file(action)
        return action.kind is ActionKind.RUN_TESTS and task is not None and self._runner.ready(task)

    def _midway_on_a_file(self, action: CodeReviewAction) -> Task | None:
        """The task, when ``action`` is a step on a single file before the last (which
        submits); else None."""
        task, state = self._task, self._state
        if not isinstance(task, Task) or action.tests is not None or self._repo is not None:
            return None
        return task if not state.done and state.step_count + 1 < state.max_steps else None

    def _infos(self, split: str) -> list[TaskInfo]:
        return self._catalog.infos(split)

    def _pick(self, seed: int | None, options: dict[str, Any]) -> AnyTask:
        _check_whole(seed, "seed")
        for name in ("task_id", "split"):
            if options.get(name) is not None and not isinstance(options[name], str):
                raise InvalidRequest(f"{name!r} must be a string", field=name)
        if options.get("task_id") is not None:
            return self._catalog.get(options["task_id"])
        split = options.get("split")
        if options.get("index") is not None:
            if split is None:
                raise InvalidRequest("'index' needs a 'split'", field="index")
            return self._catalog.at(split, _check_whole(options["index"], "index"))
        return self._catalog.select(
            seed,
            split=split,
            kind=_enum(TaskKind, options.get("kind")),
            difficulty=_enum(Difficulty, options.get("difficulty")),
            category=_enum(Category, options.get("category")),
            repo=_flag(options.get("repo"), "repo") or False,
        )

    def _dispatch(self, task: AnyTask, action: CodeReviewAction) -> Plan[CodeReviewObservation]:
        if self._repo is not None:
            reply = self._repo.act(action)
            self._state.done = self._repo.done
            return self._observe(
                feedback=reply.feedback, error=reply.error, evaluation=reply.evaluation
            )
        assert isinstance(task, Task)
        if action.kind is ActionKind.APPROVE:
            return self._observe(
                error="approve is the verdict on a pull-request task; this task is a single "
                "file: use review, edit, run_tests and submit"
            )
        if action.kind in REPO_ONLY or action.tests is not None:
            what = action.kind.value if action.kind in REPO_ONLY else "a selection of tests"
            return self._observe(
                error=f"{what} is for repository tasks; this task is a single file: use review, "
                "edit, run_tests (every visible test) and submit"
            )
        if action.kind is ActionKind.REVIEW:
            return self._review(task, action.findings or [])
        if action.kind is ActionKind.EDIT:
            return self._edit(action.code or "")
        if action.kind is ActionKind.RUN_TESTS:
            return (yield from self._run_tests(task))
        return self._finish(task, "Submitted.")

    def _review(self, task: Task, findings: list[Finding]) -> CodeReviewObservation:
        if self._lines is None:
            self._lines = len(source_lines(task.code))
        lines = self._lines
        outside = [i for i, f in enumerate(findings) if f.end_line > lines]
        if outside:
            return self._observe(
                error=f"finding(s) {outside} point past the last line ({lines}) of the code; "
                "nothing was recorded"
            )
        self._findings.extend(findings)
        if Component.REVIEW not in self._weights:
            return self._observe(feedback="Recorded; this task grades fixes, not findings.")
        # score_findings(...).f1 with the uncheckable issues reset looked up (see review_f1)
        f1 = review_f1(self._findings, task.issues, self._uncheckable)
        self._components[Component.REVIEW] = f1
        return self._observe(feedback=f"Recorded {len(findings)} finding(s).")

    def _edit(self, code: str) -> CodeReviewObservation:
        if code == self._code:
            return self._observe(feedback="The code is unchanged.")
        self._code = code
        try:
            compile(code, "solution.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            return self._observe(
                feedback=f"Code updated, but it does not compile (line {line}): "
                f"{exc.__class__.__name__}: {getattr(exc, 'msg', exc)}"
            )
        return self._observe(feedback="Code updated.")

    def _run_tests(self, task: Task) -> Plan[CodeReviewObservation]:
        # Information, not reward: visible tests can be passed by code that special-cases their
        # inputs, and any reward paid here and taken back at submit would still pay under a
        # discount. The tests and performance components are paid once, on the hidden tests.
        run = yield from self._runner.tests_plan(task, self._code)
        report = self._report = run.report
        feedback = f"Visible tests: {report.passed} passed, {report.failed} failed."
        if run.performance is not None and run.performance.candidate_cost is not None:
            feedback += (
                f" Benchmark cost {run.performance.candidate_cost} "
                f"(original {run.performance.baseline_cost})."
            )
        feedback += " (Not scored: submit grades the code on the hidden tests.)"
        return self._observe(feedback=feedback)

    def _finish(self, task: AnyTask, feedback: str) -> CodeReviewObservation:
        if self._repo is not None:
            reply = self._repo.finish(feedback)
            self._state.done = True
            return self._observe(feedback=reply.feedback, evaluation=reply.evaluation)
        assert isinstance(task, Task)
        evaluation: Evaluation = self._runner.evaluate(task, self._code, self._findings)
        self._components = dict(evaluation.components)
        self._state.done = True
        return self._observe(
            feedback=f"{feedback} Final score {evaluation.score:.3f}.", evaluation=evaluation
        )

    def _observe(self, reward: float | None = 0.0, **fields: Any) -> CodeReviewObservation:
        task = self._task
        assert task is not None
        if self._repo is not None:
            episode = self._repo.view()
            self._state.navigation = self._repo.stats.model_copy()
        else:
            assert isinstance(task, Task)
            episode = {
                "code": self._code,
                "visible_tests": task.visible_tests,
                "test_report": self._report,
                "findings": list(self._findings),
                "score_components": dict(self._components),
            }
        components = episode["score_components"]
        self._state.score = weighted_score(components, self._weights)
        return CodeReviewObservation(
            task=task.info,
            instructions=task.instructions,
            steps_left=max(0, self._state.max_steps - self._state.step_count),
            score=self._state.score,
            done=self._state.done,
            reward=reward,
            **episode,
            **fields,
        )


def _check_whole(value: Any, name: str) -> Any:
    # JSON gives true, "1" and 1.0 too; none of them is an index or a seed.
    if value is not None and (type(value) is not int or value < 0):
        raise InvalidRequest(f"{name!r} must be a whole number >= 0, got {value!r:.50}", field=name)
    return value


def _flag(value: Any, name: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(f"{name!r} must be true or false, got {value!r:.50}", field=name)
    return value


def _enum(cls: type[EnumT], value: Any) -> EnumT | None:
    if value is None:
        return None
    try:
        return cls(value)
    except (ValueError, TypeError):
        choices = ", ".join(member.value for member in cls)
        raise InvalidRequest(
            f"{value!r} is not a valid {cls.__name__}; choose from {choices}",
            field=cls.__name__.lower(),
        ) from None
