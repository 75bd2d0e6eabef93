"""Pull requests to review: benign changes to a few modules, with or without a planted issue.

The head of a pull request is the snapshot with the same seeded benign changes (``benign``)
applied to each module it touches; a planted issue is a mutant of one of those modules, changed
the same way, so its lines sit among the benign ones and only they are the answer key. A draft
whose planted change cannot be told apart from its benign ones (the two diffs overlap) is
refused. The generator then runs the project's tests on the head: a clean pull request must
change no outcome, a planted one must break at least one test.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from python_env.tasks.patches import changed_lines, unified_diff
from python_env.tasks.repo_task import PullRequest
from python_env.tasks.repos.benign import CHANGES, apply_changes
from python_env.tasks.workspace import Workspace

TITLES = ("Tidy up {where}", "Clean up {where}", "Readability pass over {where}",
          "Small cleanups in {where}")  # fmt: skip
CLEAN_WORDS = "No behaviour change intended."


@dataclass(frozen=True)
class Draft:
    """A pull request's head tree and words, and where its planted issue is (if any)."""

    head: Workspace
    pull_request: PullRequest
    issue_path: str = ""
    issue_lines: tuple[int, int] = (0, 0)  # first and last head line of the planted change


def draft(
    base: Workspace,
    modules: Sequence[str],
    rng: random.Random,
    planted: tuple[str, str] | None = None,
) -> Draft | None:
    """A pull request over ``modules`` (paths in ``base``); ``planted`` = (path, mutant text of
    that module), which must be one of ``modules``. None when no benign change applies, or the
    planted change cannot be located apart from the benign ones."""
    if planted is not None and planted[0] not in modules:
        raise ValueError("the planted module must be one of the pull request's modules")
    changes: dict[str, str | None] = {}
    said: list[str] = []
    issue_path, issue_lines = "", (0, 0)
    for path in sorted(modules):
        names = rng.sample(sorted(CHANGES), len(CHANGES))  # tried in this order
        most, seed = rng.randint(1, 2), rng.getrandbits(32)
        benign, lines = apply_changes(base[path], names, random.Random(seed), most)
        if not lines:
            continue
        head = benign
        if planted is not None and path == planted[0]:
            head, again = apply_changes(planted[1], names, random.Random(seed), most)
            span = _planted_span(benign, head, path)
            if again != lines or span is None:
                return None
            issue_path, issue_lines = path, span
        changes[path] = head
        said += [f"- `{path}`: {line}" for line in lines]
    if not changes or (planted is not None and not issue_path):
        return None
    head_tree = base.updated(changes)
    where = _where(sorted(changes))
    title = rng.choice(TITLES).format(where=where)
    description = "\n".join([f"This pull request tidies {where}:", "", *said, "", CLEAN_WORDS])
    pr = PullRequest(title=title, description=description, diff=unified_diff(base, head_tree))
    return Draft(head_tree, pr, issue_path, issue_lines)


def _planted_span(benign: str, head: str, path: str) -> tuple[int, int] | None:
    """The head lines the planted change touches, if they form one contiguous block."""
    lines = changed_lines(unified_diff(Workspace({path: benign}), Workspace({path: head})))
    touched = sorted(lines.get(path, ()))
    if not touched or touched[-1] - touched[0] > 12:
        return None
    return touched[0], touched[-1]


def _where(paths: Sequence[str]) -> str:
    names = [p.rsplit("/", 1)[-1].removesuffix(".py") for p in paths]
    return f"`{names[0]}`" if len(names) == 1 else ", ".join(f"`{n}`" for n in names)
