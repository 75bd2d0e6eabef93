"""Each answer-key issue's own part of the reference fix, as a finding (pure functions).

The reference fix repairs every issue at once; a suggested fix repairs one. ``reference_finding``
cuts the reference fix down to the changes near one issue, so the grader can tell whether a fix
for that issue can be checked at all (one that cannot is uncheckable: locating it earns full
credit), and the oracle agent can show that full credit is reachable.
"""

from __future__ import annotations

import difflib

from python_env.grading.findings import matches
from python_env.types import Finding, Issue, Task

NEAR = 3  # lines around an issue whose changes in the reference fix belong to it
Hunk = tuple[str, int, int, int, int]  # a difflib opcode: tag, original i1:i2, fix j1:j2


def reference_finding(task: Task, issue: Issue) -> Finding:
    """A finding for ``issue`` whose suggested fix is the part of the reference fix near it.

    Changes of the fix far from every issue that add top-level lines (imports, constants) are
    put in front of the replacement, so the fix works applied alone. When the changes near the
    issue span more lines than a finding may, the finding carries no fix.
    """
    code, fix = task.code.splitlines(keepends=True), task.fix.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, code, fix, autojunk=False)
    hunks: list[Hunk] = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    spans = [s for i in task.issues for s in i.spans]
    far = [
        h for h in hunks if not any(_touches(h, a - NEAR, b + NEAR, len(code)) for a, b in spans)
    ]
    support = [
        line
        for _, _, _, j1, j2 in far
        for line in fix[j1:j2]
        if line.strip() and not line[0].isspace()
    ]
    finding = Finding(
        start_line=issue.start_line,
        end_line=issue.end_line,
        category=issue.category,
        severity=issue.severity,
        rule_id=issue.rule_id,
        message=issue.explanation[:2_000],
    )
    for start, end in issue.spans:
        near = [h for h in hunks if _touches(h, start - NEAR, end + NEAR, len(code))]
        if not near:
            continue
        first = min(start, *(_lines(h, len(code))[0] for h in near))
        last = max(end, *(_lines(h, len(code))[1] for h in near))
        if first == last and not _patch(code, fix, near, first, last).strip():
            first = max(1, first - 1)  # a deleted line: replace it together with its neighbour
        replacement = _patch(code, fix, near, first, last)
        indent = replacement[: len(replacement) - len(replacement.lstrip())].split("\n")[-1]
        replacement = "".join(indent + line for line in support) + replacement
        located = finding.model_copy(
            update={"start_line": first, "end_line": last, "suggested_fix": replacement[:4_000]}
        )
        if matches(located, issue):
            return located
    return finding


def _lines(hunk: Hunk, count: int) -> tuple[int, int]:
    """The 1-based lines of the original a hunk replaces (an insertion: the lines around it)."""
    _, i1, i2, _, _ = hunk
    if i2 > i1:
        return i1 + 1, i2
    return max(1, i1), max(1, min(count, i1 + 1))


def _touches(hunk: Hunk, start: int, end: int, count: int) -> bool:
    first, last = _lines(hunk, count)
    return first <= end and last >= start


def _patch(code: list[str], fix: list[str], hunks: list[Hunk], first: int, last: int) -> str:
    """Lines ``first..last`` of the original with ``hunks`` of the reference fix applied."""
    out, pos = [], first - 1
    for _, i1, i2, j1, j2 in sorted(hunks, key=lambda h: h[1]):
        out += code[pos:i1] + fix[j1:j2]
        pos = i2
    return "".join(out + code[pos:last])
