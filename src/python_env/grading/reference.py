"""Each answer-key issue's own part of the reference fix (pure functions).

The reference fix repairs every issue at once; a suggested fix repairs one. An issue's part of
the fix is the changes within ``NEAR`` lines of its spans. ``counterfactual`` is the reference
fix with that part undone: the program a fix for the issue must complete, where the other
issues are already fixed. ``reference_finding`` is the part itself as a finding, so the grader
can tell whether a fix for the issue can be checked at all, and the oracle agent can show that
full credit is reachable.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from python_env.grading.findings import matches
from python_env.grading.fixes import apply_fix, fits, source_lines
from python_env.types import Finding, Issue, Task

NEAR = 3  # lines around an issue whose changes in the reference fix belong to it
Hunk = tuple[str, int, int, int, int]  # a difflib opcode: tag, original i1:i2, fix j1:j2


@dataclass(frozen=True)
class Counterfactual:
    """The reference fix with one issue's part undone, and where each original line is in it."""

    code: str
    where: tuple[int | None, ...]  # original line k is line where[k-1] (None: another's change)

    def apply(self, finding: Finding) -> str | None:
        """``code`` with the finding's fix in place of its lines (None when those lines belong
        to another issue's change)."""
        span = self.where[finding.start_line - 1 : finding.end_line]
        if len(span) != finding.end_line - finding.start_line + 1 or None in span:
            return None
        first, last = span[0], span[-1]
        if first is None or last is None or last - first != len(span) - 1:
            return None
        return apply_fix(
            self.code, finding.model_copy(update={"start_line": first, "end_line": last})
        )


def counterfactual(task: Task, issue: Issue) -> Counterfactual:
    """The reference fix with ``issue``'s part undone (its lines as in the original code)."""
    code, fix = source_lines(task.code), source_lines(task.fix)
    out: list[str] = []
    where: list[int | None] = [None] * len(code)
    for op in difflib.SequenceMatcher(None, code, fix, autojunk=False).get_opcodes():
        tag, i1, i2, j1, j2 = op
        mine = tag == "equal" or any(
            _touches(op, a - NEAR, b + NEAR, len(code)) for a, b in issue.spans
        )
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n"
        if mine or _imports_only(code[i1:i2]):  # an import another change drops may be ours
            for k in range(i1, i2):
                where[k] = len(out) + 1
                out.append(code[k])
        if not mine:
            out.extend(fix[j1:j2])
    return Counterfactual("".join(out), tuple(where))


def _imports_only(lines: list[str]) -> bool:
    return all(not line.strip() or line.startswith(("import ", "from ")) for line in lines)


def reference_finding(task: Task, issue: Issue) -> Finding:
    """A finding for ``issue`` whose suggested fix is the part of the reference fix near it.

    New top-level statements of the fix far from every issue (imports, constants) are put in
    front of the replacement, so the fix works on the original code too. When no such part fits in a
    finding (``fits``) the finding carries no fix.
    """
    code, fix = source_lines(task.code), source_lines(task.fix)
    matcher = difflib.SequenceMatcher(None, code, fix, autojunk=False)
    hunks: list[Hunk] = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    spans = [s for i in task.issues for s in i.spans]
    far = [
        h for h in hunks if not any(_touches(h, a - NEAR, b + NEAR, len(code)) for a, b in spans)
    ]
    support = _top_level_statements([line for _, _, _, j1, j2 in far for line in fix[j1:j2]])
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
        if not _patch(code, fix, near, first, last).strip():  # only deletions: keep a neighbour
            first, last = (first - 1, last) if first > 1 else (first, min(len(code), last + 1))
        replacement = _patch(code, fix, near, first, last)
        head = replacement.lstrip()
        if support and not head.startswith(_CLAUSES):
            indent = replacement[: len(replacement) - len(head)].split("\n")[-1]
            replacement = "".join(indent + line for line in support) + replacement
        located = finding.model_copy(
            update={"start_line": first, "end_line": last, "suggested_fix": replacement}
        )
        if len(replacement) <= MAX_FIX_CHARS and fits(located) and matches(located, issue):
            return located
    return finding


_CLAUSES = ("elif", "else", "except", "finally", "case")  # nothing may come before these
MAX_FIX_CHARS = 4_000  # Finding.suggested_fix's limit


def _top_level_statements(lines: list[str]) -> list[str]:
    """The complete statements among added ``lines`` that start at column 0 and fit on one
    line (imports, constants): a ``def`` or a multi-line statement is left out."""
    return [
        line
        for k, line in enumerate(lines)
        if line.strip()
        and not line[0].isspace()
        and not line.rstrip().endswith((":", "(", "[", "{", ",", "\\"))
        and not (k + 1 < len(lines) and lines[k + 1][:1].isspace())
    ]


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
