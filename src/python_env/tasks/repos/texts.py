"""The words and grades of a repository task: title, instructions, difficulty, step budget."""

from __future__ import annotations

from collections.abc import Sequence

from python_env.tasks.repos.projects import Project
from python_env.types import Difficulty, TaskKind

MAX_STEPS = 30  # a project is many files: reading, searching and running tests take steps
MANY_TESTS, FEW_TESTS = 10, 3  # a bug many tests catch is easier to find than one few catch

_ASK = {
    TaskKind.REVIEW: "Review the code and report each problem you find as a finding: the "
    "file's `path` (relative to the project root, as the file list shows it), its line span in "
    "that file, category (bug, security, performance, maintainability or style), severity and "
    "what is wrong. Report only real problems; unfounded findings cost precision.",
    TaskKind.REPAIR: "Fix the code so that the project's tests pass again. Hidden tests, more of "
    "the project's own suite, check the fix and that nothing else broke; the test files "
    "themselves always run as the project ships them, so editing them changes nothing.",
}


def title(project: Project, failing: str) -> str:
    """A bug report's title: the project and one test that now fails."""
    test = failing.rsplit("/", 1)[-1]
    if len(test) > 80:
        test = test[:77] + "..."
    return f"{project.name} {project.version}: {test} fails"


def instructions(project: Project, kinds: Sequence[TaskKind], visible: Sequence[str]) -> str:
    """What the agent is told: the project, that tests broke, which tests it can run, the ask."""
    tests = "\n".join(f"- `{test}`" for test in visible)
    parts = [
        f"The repository is the open-source project {project.name} {project.version} "
        f"({project.licence}; {project.attribution}). A change to its code broke behaviour "
        "that the project's own tests check; some of them now fail.",
        f"You can run these tests of the project (run_tests):\n{tests}",
        *(_ASK[kind] for kind in kinds),
    ]
    return "\n\n".join(parts)


_PR_ASK = {
    TaskKind.REVIEW: "Review the change. Report each problem the pull request brings in as a "
    "finding: the file's `path`, its line span in the head (the tree you read), category (bug, "
    "security, performance, maintainability or style), severity and what is wrong; unfounded "
    "findings cost precision. If the change is sound, approve it (approve) and report nothing: "
    "approving a change that brings in a problem earns nothing for the review.",
    TaskKind.REPAIR: "Then push a fix onto the pull request's branch: edit the files so that the "
    "project's tests pass, keeping the changes the pull request means to make. Hidden tests, "
    "more of the project's own suite, check the fix and that nothing else broke; the test "
    "files always run as the project ships them. Submit (not approve) when the fix is in.",
}
FEW_CHANGES, MANY_CHANGES = 2, 4  # described changes of an easy and of a hard review (2 at least)


def pr_instructions(project: Project, kinds: Sequence[TaskKind], visible: Sequence[str]) -> str:
    """What the reviewer of a pull request is told: the project, where the change is, the ask;
    the same words whether or not the change has a problem."""
    tests = "\n".join(f"- `{test}`" for test in visible)
    parts = [
        f"You are reviewing a pull request to the open-source project {project.name} "
        f"{project.version} ({project.licence}; {project.attribution}). Its title, description "
        "and diff (from the release to the pull request's head) are in the observation's "
        "pull_request; the files you list, read and search are the head's.",
        f"You can run these tests of the project (run_tests):\n{tests}",
        *(_PR_ASK[kind] for kind in kinds),
    ]
    return "\n\n".join(parts)


def pr_difficulty(changes: int) -> Difficulty:
    """A review is harder the more changes it must check (a planted problem reads as one of
    them, so the grade says nothing about whether there is one). Not the diff's size: a
    planted change is a line or two, a refactor often more, so size would tell them apart."""
    if changes <= FEW_CHANGES:
        return Difficulty.EASY
    return Difficulty.HARD if changes >= MANY_CHANGES else Difficulty.MEDIUM


def difficulty(subtlety: int, fail_to_pass: int) -> Difficulty:
    """Harder for a subtler injection and for a bug that fewer tests catch."""
    points = subtlety + (fail_to_pass < MANY_TESTS) + (fail_to_pass <= FEW_TESTS)
    if points <= 1:
        return Difficulty.EASY
    return Difficulty.HARD if points >= 4 else Difficulty.MEDIUM
