"""Observation → prompt text, and model reply → action: shared by the LLM agent, inference.py,
the rollout exporter and the training example, so a model sees the same format everywhere."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.types import TaskSetting

SYSTEM_PROMPT = """\
You are a senior Python engineer reviewing and repairing code in a graded environment.
Each turn you receive the task and the current state, and you answer with exactly ONE action as a
single JSON object, with no other text. The four actions:

{"kind": "review", "findings": [{"start_line": 12, "end_line": 13, "category": "bug",
  "severity": "high", "rule_id": "", "message": "what is wrong and why",
  "suggested_fix": "    replacement for lines 12-13, indented as in the file\n"}]}
    Report problems. category: bug | security | performance | maintainability | style.
    severity: low | medium | high | critical. Line numbers refer to the ORIGINAL code.
    Findings are graded against a hidden answer key: false alarms and duplicates cost points.
    A finding in the right place earns half; its suggested_fix (the replacement code for
    exactly its lines, at most a dozen lines) earns the other half when it fixes the problem.
{"kind": "edit", "code": "<the complete new file>"}
    Replace the whole file with your repaired or faster version.
{"kind": "run_tests"}
    Run the visible tests against the current code.
{"kind": "submit"}
    End the episode; hidden tests and the final grading run.

Do what the task's kinds ask: review → report findings; repair → fix the bugs with an edit;
optimize → make it faster with an edit, keeping behaviour identical. Submit when done."""

REPO_SYSTEM_PROMPT = """\
You are a senior Python engineer reviewing and repairing a whole project (a real open-source
package) in a graded environment. You never see the whole tree: you ask for what you need. Each
turn you answer with exactly ONE action as a single JSON object, with no other text. "code" is
empty on these tasks; what you asked to see is in the "Output" part of the next turn.

{"kind": "list_files", "pattern": "src/**/*.py"}     the paths matching a glob (default **/*)
{"kind": "read_file", "path": "pkg/mod.py", "start_line": 1, "end_line": 120}
    numbered lines of a file (at most 400 per read; the range is optional)
{"kind": "search", "pattern": "def parse\\\\(", "path_glob": "*.py"}  matches: path:line: text
{"kind": "edit_file", "path": "pkg/mod.py", "start_line": 12, "end_line": 13,
  "new_text": "    fixed lines\\n"}    replace lines (or give "content": the whole new file)
{"kind": "apply_patch", "diff": "--- a/pkg/mod.py\\n+++ b/pkg/mod.py\\n@@ ... @@\\n..."}
    a unified diff, paths from the project root, applied all or nothing
{"kind": "run_tests", "tests": ["tests/test_mod.py::test_x"]}
    run the visible tests (all of them without "tests"); not scored. A test that raised
    says where: "(raised at pkg/mod.py:88 in pop, from tests/test_mod.py:40 in test_pop)"
{"kind": "review", "findings": [{"path": "pkg/mod.py", "start_line": 12, "end_line": 13,
  "category": "bug", "severity": "high", "message": "what is wrong and why"}]}
    report problems; each finding names its file ("path"). Line numbers are those of the files
    as they were at the start, whatever you edited since. category: bug | security |
    performance | maintainability | style; severity: low | medium | high | critical.
    False alarms cost points.
{"kind": "submit"}    end the episode: the project's hidden tests grade the tree
{"kind": "approve"}   pull-request tasks only: end the episode with the verdict that the pull
    request has no problem. Approving a clean pull request with no finding earns the review;
    approving one with a problem earns nothing for it, and so does a finding on a clean one.

Do what the task's kinds ask: review -> report findings; repair -> fix the code (edit_file or
apply_patch) so the project's tests pass. The test files always run as the project ships them.
Submit when done (or approve a pull request you find nothing wrong with)."""

RETRY_PROMPT = (
    "Your reply was not a valid action: {problem}\n"
    'Answer with exactly one JSON object such as {{"kind": "submit"}} and nothing else.'
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


MAX_SHOWN_CHARS = 20_000  # of a pull request's diff or an action's output, in one prompt
MAX_SHOWN_TESTS = 50


def system_prompt(obs: CodeReviewObservation) -> str:
    """The system prompt for the episode ``obs`` belongs to (repository tasks have their own)."""
    return REPO_SYSTEM_PROMPT if obs.workspace is not None else SYSTEM_PROMPT


def numbered(code: str) -> str:
    """``code`` with 1-based line numbers, as findings refer to them."""
    return "\n".join(f"{i:4d} | {line}" for i, line in enumerate(code.splitlines(), start=1))


def render_observation(
    obs: CodeReviewObservation, original_code: str | None = None, history: list[str] | None = None
) -> str:
    """The observation as a prompt: task, state, original code with line numbers, current code."""
    parts = []
    if obs.task is not None:
        t = obs.task
        planted = (
            "; whether the change has a problem is for your review to find"
            if t.setting is TaskSetting.PULL_REQUEST
            else f"; planted issues: {t.num_issues} ({', '.join(t.categories)})"
        )
        parts.append(
            f"Task {t.id}: {t.title}\nkinds: {', '.join(t.kinds)}; difficulty: {t.difficulty.value}"
            + planted
        )
    parts.append(f"Instructions:\n{obs.instructions.strip()}")
    if obs.workspace is not None:
        parts += _repository_parts(obs)
    else:
        original = original_code if original_code is not None else obs.code
        parts.append(f"Original code (cite these line numbers):\n{numbered(original)}")
        if obs.code != original:
            parts.append(f"Current code (after your edits):\n{obs.code}")
    if obs.visible_tests:
        parts.append(f"Visible tests:\n{obs.visible_tests.strip()}")
    if obs.test_report is not None:
        failed = [v for v in obs.test_report.verdicts if not v.passed]
        lines = [f"Last test run: {obs.test_report.passed} passed, {len(failed)} failed."]
        lines += [f"  FAILED {v.name}: {v.message[:300]}" for v in failed[:10]]
        if obs.test_report.error:
            lines.append(f"  error: {obs.test_report.error[:500]}")
        parts.append("\n".join(lines))
    if history:
        parts.append("Your actions so far:\n" + "\n".join(f"  {h}" for h in history[-12:]))
    parts.append(f"Findings reported so far: {len(obs.findings)}")
    state = f"Steps left: {obs.steps_left}. Running score: {obs.score:.2f}"
    if obs.score_components:
        state += " (" + ", ".join(f"{k}={v:.2f}" for k, v in obs.score_components.items()) + ")"
    parts.append(state)
    if obs.feedback:
        parts.append(f"Feedback: {obs.feedback}")
    if obs.error:
        parts.append(f"Error: {obs.error}")
    parts.append("Your action (one JSON object):")
    return "\n\n".join(parts)


def _repository_parts(obs: CodeReviewObservation) -> list[str]:
    """A repository episode's state: the project, what changed, the pull request, the test ids
    and what the last navigation action showed (each capped)."""
    ws = obs.workspace
    assert ws is not None
    changed = ", ".join(ws.changed[:20]) + (", ..." if len(ws.changed) > 20 else "")
    parts = [
        f"Repository: {ws.project} {ws.version}, {ws.files} files; "
        f"changed by you: {changed or 'nothing yet'}"
    ]
    if obs.pull_request is not None:
        pr = obs.pull_request
        parts.append(
            f"Pull request: {pr.title}\n{pr.description.strip()}\n\nDiff:\n{_capped(pr.diff)}"
            "\n\nYour verdict: approve if this change has no problem; otherwise report the "
            "problems as findings (and fix them if the task asks for a repair), then submit."
        )
    if obs.test_ids:
        more = len(obs.test_ids) - MAX_SHOWN_TESTS
        shown = "\n".join(f"  {t}" for t in obs.test_ids[:MAX_SHOWN_TESTS])
        parts.append(f"Visible test ids:\n{shown}" + (f"\n  ... {more} more" if more > 0 else ""))
    if obs.output:
        parts.append(f"Output of your last action:\n{_capped(obs.output)}")
    return parts


def _capped(text: str) -> str:
    if len(text) <= MAX_SHOWN_CHARS:
        return text.rstrip("\n")
    return text[:MAX_SHOWN_CHARS] + f"\n[{len(text) - MAX_SHOWN_CHARS:,} more characters]"


def outcome_line(label: str, after: CodeReviewObservation) -> str:
    """A history entry: the action and what the environment said about it."""
    said = after.error or after.feedback
    return f"{label} -> {said}"[:200] if said else label


def invalid_line(problem: str) -> str:
    """The line that tells the model why its last reply was refused."""
    return f"invalid reply ({problem[:80]})"


def parse_action(reply: str) -> tuple[CodeReviewAction | None, str]:
    """``(action, "")`` for a valid reply, else ``(None, why)``.

    Accepts a bare JSON object, one inside a Markdown fence, or one surrounded by prose.
    """
    text = reply.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0:
        return None, "no JSON object found"
    try:
        data: Any = json.loads(text[start : end + 1] if end > start else text[start:])
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON ({exc.msg} at char {exc.pos})"
    if isinstance(data, dict) and isinstance(data.get("action"), dict):
        data = data["action"]  # {"action": {...}} is a common wrapping
    if not isinstance(data, dict):
        return None, "the JSON value is not an object"
    try:
        return CodeReviewAction.model_validate(data), ""
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'action'}: {e['msg']}" for e in exc.errors()
        )
        return None, f"invalid action ({problems[:500]})"
