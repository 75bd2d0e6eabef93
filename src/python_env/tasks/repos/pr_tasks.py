"""Pull-request review tasks of one project: a killed mutant among benign changes, or benign
changes alone (a clean pull request, which the right review approves).

A planted pull request (``planted``) changes the mutant's module, and sometimes one more module
of the package, with the same seeded benign changes applied to the original and to the mutant
(``pull_requests.draft``); the reference fix reverts only the planted lines. A clean one
(``clean``) makes benign changes only. The generator runs the project's tests on both heads.

Nothing a task discloses tells the two apart: every pull-request task has the same words (title
and description from the same templates, the planted change described as a refactor of its
function, the same instructions for the same kinds), kinds drawn per task (review only for
every clean pull request and for about half of the planted ones; review and repair, which says
there is something to fix, for the rest), a difficulty from the number of described changes,
visible tests that pass on the head (unless repair is asked), and no count or category of
issues (``num_issues`` 0, ``categories`` empty).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from python_env.tasks.patches import unified_diff
from python_env.tasks.repo_task import RepoIssue, RepoTask
from python_env.tasks.repos.hidden import cheap_sample
from python_env.tasks.repos.mutants import Mutant
from python_env.tasks.repos.projects import Project
from python_env.tasks.repos.pull_requests import Draft, draft
from python_env.tasks.repos.suite import Layout
from python_env.tasks.repos.texts import MAX_STEPS, pr_difficulty, pr_instructions
from python_env.tasks.workspace import Workspace
from python_env.types import TaskInfo, TaskKind, TaskSetting

PR_SHARE = 0.5  # killed mutants that become a pull request to review rather than a bug report
REPAIR_SHARE = 0.5  # planted pull requests that ask for the fix too
CLEAN_PER_PLANTED = 0.25  # clean pull requests per planted one (at least one per project)
SECOND_MODULE = 0.4  # pull requests that touch one more module of the package
MAX_VISIBLE_FAILING, MAX_VISIBLE_PASSING = 3, 3  # run_tests' tests when repair is asked
REVIEW_ONLY = (TaskKind.REVIEW,)
REVIEW_AND_REPAIR = (TaskKind.REVIEW, TaskKind.REPAIR)


@dataclass(frozen=True)
class PlantedDraft:
    """A planted pull request: its draft and kinds."""

    draft: Draft
    kinds: tuple[TaskKind, ...]


def modules_for(layout: Layout, snapshot: Workspace, first: str, rng: random.Random) -> list[str]:
    """The modules a pull request touches: ``first`` and, sometimes, one more of the package."""
    others = [m for m in layout.modules(snapshot) if m != first]
    if others and rng.random() < SECOND_MODULE:
        return [first, rng.choice(others)]
    return [first]


def planted(
    layout: Layout, snapshot: Workspace, mutant: Mutant, rng: random.Random
) -> PlantedDraft | None:
    """A pull request carrying ``mutant`` among benign changes, or None when no benign change
    applies or the planted lines cannot be told apart from them."""
    modules = modules_for(layout, snapshot, mutant.module, rng)
    made = draft(snapshot, modules, rng, (mutant.module, mutant.candidate.code))
    if made is None:
        return None
    kinds = REVIEW_AND_REPAIR if rng.random() < REPAIR_SHARE else REVIEW_ONLY
    return PlantedDraft(made, kinds)


def clean(layout: Layout, snapshot: Workspace, rng: random.Random) -> Draft | None:
    """A pull request of benign changes only, to modules chosen with ``rng``."""
    modules = layout.modules(snapshot)
    if not modules:
        return None
    return draft(snapshot, modules_for(layout, snapshot, rng.choice(modules), rng), rng)


def visible_tests(
    kinds: Sequence[TaskKind],
    failing: Sequence[str],
    passed: Sequence[str],
    cost: Mapping[str, float],
    rng: random.Random,
) -> list[str]:
    """What run_tests runs (a bug report's too): when repair is asked, some failing tests
    (never all) and a few cheap passing ones; on a review only, one to three cheap tests that
    pass on the head, so that running them says nothing about whether the change is sound."""
    if TaskKind.REPAIR in kinds:
        count = rng.randint(1, min(MAX_VISIBLE_FAILING, len(failing) - 1))
        shown = rng.sample(list(failing), count)
        return shown + cheap_sample(passed, cost, rng, MAX_VISIBLE_PASSING)
    return cheap_sample(passed, cost, rng, rng.randint(1, 3))


def pr_task(
    project: Project,
    layout: Layout,
    snapshot: Workspace,
    made: Draft,
    kinds: tuple[TaskKind, ...],
    tests: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    issue: RepoIssue | None,
    key: Sequence[object],
) -> RepoTask:
    """The task of a drafted pull request (a right repair reaches its ``reference``: the head
    itself for a clean one); ``tests`` = (visible, hidden, fail-to-pass)."""
    visible, hidden, f2p = tests
    digest = hashlib.sha256(json.dumps([project.name, project.version, *key]).encode())
    pr = made.pull_request
    info = TaskInfo(
        id=f"pr-{project.name}-{digest.hexdigest()[:10]}",
        title=f"{project.name} {project.version}: {pr.title}",
        kinds=kinds,
        difficulty=pr_difficulty(made.changes),
        split=project.split,
        source=f"repo:{project.name}",
        categories=(),
        num_issues=0,
        max_steps=MAX_STEPS,
        setting=TaskSetting.PULL_REQUEST,
    )
    return RepoTask(
        info=info,
        instructions=pr_instructions(project, kinds, visible),
        project=project.ref,
        snapshot=snapshot.digest(),
        start=unified_diff(snapshot, made.head),
        fix=unified_diff(made.head, made.reference),
        roots=layout.roots,
        test_paths=layout.test_paths,
        visible_tests=visible,
        hidden_tests=hidden,
        fail_to_pass=f2p,
        issues=(issue,) if issue is not None else (),
        pull_request=pr,
    )
