"""Repository episodes in process: a two-module project in a store built here, a planted bug
(``add`` subtracts), the file actions and their mistakes, run_tests selections, findings with
paths, and the final score of the reference fix (1.0) and of the untouched tree (0.0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from python_env.config import CatalogSettings, Settings
from python_env.environment import models
from python_env.environment.env import PythonEnvironment
from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.environment.task_runner import TaskRunner
from python_env.errors import InvalidRequest, InvalidTask
from python_env.tasks import workspace
from python_env.tasks.catalog import TaskCatalog, serving_catalog
from python_env.tasks.repo_splits import RepoSplits
from python_env.tasks.repo_store import RepoStore
from python_env.types import MAX_PATH_CHARS, Task, TaskKind
from tests.repo_helpers import (
    ADD,
    BASE,
    CLEAN,
    EMPTY_MEAN,
    ESCAPE,
    GOOD,
    MEAN,
    MUL,
    OPS,
    OPS_PY,
    SIGN,
    build_store,
    repo_task,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RepoStore:
    return build_store(tmp_path_factory.mktemp("repos"))


@pytest.fixture
def env(store: RepoStore, tiny_task: Task, runner: TaskRunner) -> Iterator[PythonEnvironment]:
    catalog = TaskCatalog({"fixtures": [tiny_task]}).with_repos(RepoSplits(store))
    yield PythonEnvironment(catalog, runner)


def act(env: PythonEnvironment, **action: object) -> CodeReviewObservation:
    return env.step(CodeReviewAction.model_validate(action))


def test_reset_shows_the_project_and_what_to_run_never_the_tree(env: PythonEnvironment) -> None:
    obs = env.reset(task_id=SIGN.id)
    assert obs.code == "" and obs.visible_tests == "" and obs.output == ""
    assert obs.test_ids == [ADD, MUL] and "calc 1.0" in obs.feedback
    assert obs.workspace is not None and obs.workspace.files == len(BASE)
    summary = (obs.workspace.project, obs.workspace.version, obs.workspace.changed)
    assert summary == ("calc", "1.0", [])
    assert obs.pull_request is not None and obs.pull_request.title == "Simpler add"
    assert env.state.navigation is not None and env.state.navigation.steps == 0
    assert env.reset(task_id=EMPTY_MEAN.id).pull_request is None


def test_repository_tasks_are_in_their_splits_and_picked_by_seed(env: PythonEnvironment) -> None:
    assert env.list_splits() == ["fixtures", "test", "train"]
    assert [t["id"] for t in env.list_tasks("train")] == [SIGN.id]
    assert env.get_task("test", 0)["id"] == EMPTY_MEAN.id
    picks = {env.reset(seed=seed, repo=True).task.id for seed in range(6)}  # type: ignore[union-attr]
    assert EMPTY_MEAN.id not in picks  # the test split is held out of unfiltered picks
    assert env.reset(split="test", kind="repair", seed=1, repo=True).task.id == EMPTY_MEAN.id  # type: ignore[union-attr]
    assert env.reset(seed=4, repo=True).task.id == SIGN.id  # type: ignore[union-attr]
    assert env.reset(seed=4, repo=False).task.id == "tiny-average"  # type: ignore[union-attr]
    with pytest.raises(InvalidRequest, match="'repo' must be true or false"):
        env.reset(repo="yes")


def test_list_read_and_search(env: PythonEnvironment) -> None:
    env.reset(task_id=SIGN.id)
    obs = act(env, kind="list_files", pattern="*.py")
    assert obs.error is None and "6 file(s)" in obs.feedback
    assert obs.output.splitlines() == sorted(p for p in BASE if p.endswith(".py"))
    obs = act(env, kind="list_files")
    assert len(obs.output.splitlines()) == len(BASE)
    obs = act(env, kind="read_file", path="src/calc/ops.py", start_line=2, end_line=3)
    assert obs.output == "    2 |     return a - b\n    3 | \n[lines 2-3 of 6]\n"
    assert obs.feedback == "src/calc/ops.py: lines 2-3 of 6."
    obs = act(env, kind="search", pattern=r"return a [-+] b", path_glob="src/")
    assert obs.output == "src/calc/ops.py:2:     return a - b\n"
    assert obs.feedback.startswith("1 match(es) in 3 file(s) searched")
    assert act(env, kind="search", pattern="nothing like this").output == ""
    stats = env.state.navigation
    assert stats is not None
    counts = (stats.list_calls, stats.reads, stats.files_read, stats.searches, stats.steps)
    assert counts == (2, 1, 1, 2, 5)
    assert env.state.score == 0.0


@pytest.mark.parametrize(
    ("action", "says"),
    [
        (
            {"kind": "read_file", "path": "src/calc/opz.py"},
            "no such file: 'src/calc/opz.py' (did you mean 'src/calc/ops.py'",
        ),
        ({"kind": "read_file", "path": "../etc/passwd"}, "invalid_path"),
        ({"kind": "read_file", "path": OPS_PY, "start_line": 40}, "start_line 40 is out of range"),
        ({"kind": "search", "pattern": "(unclosed"}, "invalid regular expression"),
        ({"kind": "list_files", "pattern": "a\x00b"}, "bad_pattern"),
        ({"kind": "edit", "code": "x = 1\n"}, "change files with edit_file or apply_patch"),
        ({"kind": "run_tests", "tests": ["tests/test_ops.py::test_nope"]}, "not visible tests"),
        ({"kind": "run_tests", "tests": [MEAN]}, "not visible tests"),  # hidden, not visible
    ],
)
def test_mistakes_are_errors_in_the_observation(
    env: PythonEnvironment, action: dict[str, object], says: str
) -> None:
    env.reset(task_id=SIGN.id)
    obs = act(env, **action)
    assert obs.error is not None and says in obs.error, obs.error
    assert not obs.done and obs.reward == 0.0 and obs.output == ""
    assert env.state.navigation is not None and env.state.navigation.errors == 1


def test_edit_file_and_apply_patch_change_the_tree(env: PythonEnvironment) -> None:
    env.reset(task_id=SIGN.id)
    obs = act(env, kind="edit_file", path="src/calc/ops.py", start_line=2, end_line=2,
              new_text="    return a + b")  # fmt: skip
    assert obs.error is None and obs.feedback == "Changed 1 file(s): src/calc/ops.py."
    assert "-    return a - b\n+    return a + b\n" in obs.output
    assert obs.workspace is not None and obs.workspace.changed == ["src/calc/ops.py"]
    obs = act(env, kind="edit_file", path="src/calc/extra.py", content="def broken(:\n")
    assert "src/calc/extra.py does not compile (line 1)" in obs.feedback
    assert obs.workspace is not None
    assert obs.workspace.changed == ["src/calc/extra.py", "src/calc/ops.py"]
    obs = act(env, kind="edit_file", path="tests/test_ops.py", content="def test_add(): pass\n")
    assert "test files; the tests always run from the project's own copies" in obs.feedback
    obs = act(env, kind="apply_patch", diff="--- a/src/calc/extra.py\n+++ /dev/null\n")
    assert obs.error is None and obs.workspace is not None
    assert obs.workspace.changed == ["src/calc/ops.py", "tests/test_ops.py"]
    assert obs.workspace.files == len(BASE)
    stats = env.state.navigation
    assert stats is not None and (stats.edits, stats.patches_applied) == (3, 1)


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ({"kind": "edit_file", "path": "../up.py", "content": "x\n"}, "invalid path '../up.py'"),
        ({"kind": "edit_file", "path": "src/../../x.py", "content": ""}, "'..' components"),
        (
            {"kind": "edit_file", "path": OPS_PY, "start_line": 9, "end_line": 9, "new_text": "x"},
            "start_line 9 is out of range",
        ),
        ({"kind": "apply_patch", "diff": ESCAPE}, "invalid_path"),
        (
            {"kind": "apply_patch", "diff": SIGN.fix.replace(OPS_PY, "src/calc/opz.py")},
            "no such file: 'src/calc/opz.py'",
        ),
        (
            {"kind": "apply_patch", "diff": SIGN.fix.replace("-    return a - b", "-    return a")},
            "src/calc/ops.py: hunk 1 (@@ -1,5 +1,5 @@) does not apply: line 2 expected "
            "'    return a'",
        ),
        ({"kind": "apply_patch", "diff": "this is not a diff\n"}, "bad_patch"),
    ],
)
def test_bad_edits_and_patches_change_nothing(
    env: PythonEnvironment, action: dict[str, object], says: str
) -> None:
    env.reset(task_id=SIGN.id)
    obs = act(env, **action)
    assert obs.error is not None and says in obs.error, obs.error
    assert obs.workspace is not None and obs.workspace.changed == []


def test_run_tests_runs_the_visible_tests_or_a_selection(env: PythonEnvironment) -> None:
    env.reset(task_id=SIGN.id)
    obs = act(env, kind="run_tests")
    report = obs.test_report
    assert report is not None
    assert [(v.name, v.passed) for v in report.verdicts] == [(ADD, False), (MUL, True)]
    assert "assert on line 5: got [-1], expected [5]" in report.verdicts[0].message
    assert obs.feedback.startswith("Visible tests: 1 passed, 1 failed.") and obs.reward == 0.0
    obs = act(env, kind="run_tests", tests=[MUL, MUL])
    assert obs.test_report is not None and [v.name for v in obs.test_report.verdicts] == [MUL]
    assert "(of 1 selected): 1 passed, 0 failed" in obs.feedback
    act(env, kind="apply_patch", diff=SIGN.fix)
    obs = act(env, kind="run_tests", tests=[ADD])
    assert obs.test_report is not None and obs.test_report.passed == 1 and obs.reward == 0.0
    assert env.state.navigation is not None and env.state.navigation.test_runs == 3


def test_findings_need_a_file_of_the_tree_and_lines_inside_it(env: PythonEnvironment) -> None:
    env.reset(task_id=SIGN.id)
    for finding, says in (
        ({**GOOD, "path": ""}, "name no file of the tree"),
        ({**GOOD, "path": "src/calc/nope.py"}, "'src/calc/nope.py'"),
        ({**GOOD, "start_line": 7, "end_line": 9}, "src/calc/ops.py has 6 lines"),
    ):
        obs = act(env, kind="review", findings=[GOOD, finding])
        assert obs.error is not None and says in obs.error and "nothing was recorded" in obs.error
        assert obs.findings == []
    obs = act(env, kind="review", findings=[{**GOOD, "path": "src/calc/stats.py"}])
    assert obs.error is None and obs.score_components == {"review": 0.0}  # the wrong file
    obs = act(env, kind="review", findings=[GOOD])
    assert obs.score_components["review"] == pytest.approx(2 / 3, abs=1e-5)
    assert obs.reward == pytest.approx(1 / 3, abs=1e-5)
    assert [f.path for f in obs.findings] == ["src/calc/stats.py", "src/calc/ops.py"]


def test_the_right_finding_and_the_reference_patch_score_one(env: PythonEnvironment) -> None:
    env.reset(task_id=SIGN.id)
    rewards = [
        act(env, kind="search", pattern="a - b").reward,
        act(env, kind="review", findings=[GOOD]).reward,
        act(env, kind="apply_patch", diff=SIGN.fix).reward,
    ]
    obs = act(env, kind="submit")
    evaluation = obs.evaluation
    assert obs.done and evaluation is not None and evaluation.score == 1.0
    assert sum(r or 0.0 for r in [*rewards, obs.reward]) == pytest.approx(1.0)
    assert env.state.done and env.state.score == 1.0
    assert evaluation.components == {"review": 1.0, "tests": 1.0}
    assert evaluation.tests is not None and evaluation.tests.fail_to_pass == (2, 2)
    assert evaluation.hidden_tests is not None and len(evaluation.hidden_tests.verdicts) == 4
    assert all(not v.message for v in evaluation.hidden_tests.verdicts)  # names, not outputs
    assert evaluation.issue_paths == {"add-sign": "src/calc/ops.py"}
    assert env.state.navigation is not None and env.state.navigation.patches_applied == 1


def test_the_untouched_tree_scores_zero_and_scores_repeat(env: PythonEnvironment) -> None:
    scores = []
    for _ in range(2):
        first = env.reset(split="train", seed=11, repo=True)
        assert first.task is not None and first.task.id == SIGN.id
        act(env, kind="edit_file", path="README.md", content="# calc, reviewed\n")
        final = act(env, kind="submit").evaluation
        assert final is not None
        scores.append((final.score, final.components, final.hidden_tests))
    assert scores[0] == scores[1] and scores[0][0] == 0.0


def test_a_repair_task_scores_the_fix_and_auto_submits(env: PythonEnvironment) -> None:
    env.reset(task_id=EMPTY_MEAN.id)
    assert act(env, kind="run_tests").test_report.passed == 1  # type: ignore[union-attr]
    act(env, kind="apply_patch", diff=EMPTY_MEAN.fix)
    obs = act(env, kind="list_files", pattern="src/")  # the third and last step
    assert obs.done and obs.evaluation is not None and obs.evaluation.score == 1.0
    assert "Step budget used up" in obs.feedback and obs.reward == 1.0
    assert obs.evaluation.weights == {"tests": 1.0} and obs.evaluation.review is None


def test_a_single_file_task_refuses_repository_actions_as_mistakes(env: PythonEnvironment) -> None:
    obs = env.reset(task_id="tiny-average")
    assert obs.workspace is None and obs.test_ids == [] and env.state.navigation is None
    for action in (
        {"kind": "list_files"},
        {"kind": "read_file", "path": "solution.py"},
        {"kind": "apply_patch", "diff": "x"},
        {"kind": "run_tests", "tests": [ADD]},
    ):
        obs = act(env, **action)
        assert obs.error is not None and "repository tasks" in obs.error and not obs.done
    assert act(env, kind="run_tests").test_report is not None


def test_an_unfair_repository_task_is_refused_at_reset(
    tmp_path: Path, tiny_task: Task, runner: TaskRunner
) -> None:
    mutant = {OPS_PY: OPS.replace("a * b", "a ** b")}
    broken = repo_task("calc-bad-reference", "train", mutant, (TaskKind.REPAIR,))
    broken = broken.model_copy(update={"fix": ""})  # the reference is the mutant itself
    catalog = TaskCatalog({}).with_repos(RepoSplits(build_store(tmp_path, (CLEAN, broken))))
    env = PythonEnvironment(catalog, runner)
    with pytest.raises(InvalidTask, match="needs a hidden test that fails before the fix"):
        env.reset(task_id=CLEAN.id)
    with pytest.raises(InvalidTask, match="the reference fix does not pass its visible tests"):
        env.reset(task_id=broken.id)


def test_settings_select_the_store_and_single_file_indices_stay(store: RepoStore) -> None:
    settings = Settings.from_env({"PYTHON_ENV_REPO_TASKS_DIR": str(store.root)}).catalog
    assert settings.repo_tasks_dir == store.root
    catalog, problems = serving_catalog(settings)
    plain, _ = serving_catalog(CatalogSettings(repo_tasks_dir=store.root / "absent"))
    assert problems == [] and plain.split_names() == catalog.split_names()
    size = plain.size("train")
    assert catalog.size("train") == size + 1 and catalog.at("train", size).id == SIGN.id
    assert catalog.at("train", 0).id == plain.at("train", 0).id
    assert catalog.get(EMPTY_MEAN.id) == EMPTY_MEAN
    assert catalog.select(7, split="train", repo=True).id == SIGN.id
    assert plain.select(7, split="train") == catalog.select(7, split="train", repo=False)
    curated = CatalogSettings(splits=("curated",), repo_tasks_dir=store.root)
    assert serving_catalog(curated)[0].split_names() == ["curated"]


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"kind": "edit_file", "path": "a.py"}, "either 'content', or 'start_line'"),
        ({"kind": "edit_file", "path": "a.py", "content": "", "new_text": ""}, "either"),
        ({"kind": "edit_file", "path": "a.py", "start_line": 1, "new_text": ""}, "either"),
        ({"kind": "read_file"}, "a read_file action needs 'path'"),
        ({"kind": "search", "path_glob": "*.py"}, "a search action needs 'pattern'"),
        ({"kind": "list_files", "path": "a.py"}, "a list_files action takes no 'path'"),
        ({"kind": "submit", "diff": "x"}, "a submit action takes no 'diff'"),
        ({"kind": "run_tests", "tests": []}, "at least 1 item"),
        ({"kind": "apply_patch", "diff": "x" * 200_001}, "at most 200000 characters"),
    ],
)
def test_each_repository_action_takes_exactly_its_fields(
    payload: dict[str, object], says: str
) -> None:
    with pytest.raises(ValidationError, match=says.replace("(", r"\(")):
        CodeReviewAction.model_validate(payload)


def test_the_wire_caps_are_the_workspaces() -> None:
    # The wire models keep their own copies: agents load them, and never the tasks package.
    assert models.MAX_PATTERN_CHARS == workspace.MAX_PATTERN_CHARS
    assert MAX_PATH_CHARS == workspace.MAX_PATH_CHARS
