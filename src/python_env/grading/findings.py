"""Matches reported findings against a task's answer key (pure functions).

A finding matches a planted issue when the categories are equal and the finding's span lies
inside the issue's span widened by ``tolerance`` lines on each side (no whole-file claims).
Each issue is matched at most once; the credit of a match depends on how close the severity is.
Unmatched findings and duplicates count against precision.
"""

from __future__ import annotations

from collections.abc import Sequence

from python_env.types import Finding, Issue, MatchedFinding, ReviewScore

LINE_TOLERANCE = 2
SEVERITY_CREDIT = (1.0, 0.5, 0.25, 0.25)  # indexed by the distance between severity ranks


def matches(finding: Finding, issue: Issue, tolerance: int = LINE_TOLERANCE) -> bool:
    """Same category, and the finding's span lies within the issue's lines +- ``tolerance``."""
    return (
        finding.category == issue.category
        and finding.start_line >= issue.start_line - tolerance
        and finding.end_line <= issue.end_line + tolerance
    )


def credit(finding: Finding, issue: Issue) -> float:
    """Credit of a matching finding: 1 for the right severity, 0.5 one level off, else 0.25."""
    return SEVERITY_CREDIT[abs(finding.severity.rank - issue.severity.rank)]


def score_findings(
    findings: Sequence[Finding], issues: Sequence[Issue], tolerance: int = LINE_TOLERANCE
) -> ReviewScore:
    """Precision, recall and F1 of ``findings`` against ``issues``, with the pairing used."""
    candidates = sorted(
        (
            (-credit(f, issue), abs(f.start_line - issue.start_line), i, j)
            for i, f in enumerate(findings)
            for j, issue in enumerate(issues)
            if matches(f, issue, tolerance)
        )
    )
    used_findings: set[int] = set()
    used_issues: set[int] = set()
    matched: list[MatchedFinding] = []
    for neg_credit, _, i, j in candidates:
        if i in used_findings or j in used_issues:
            continue
        used_findings.add(i)
        used_issues.add(j)
        matched.append(MatchedFinding(finding_index=i, issue_id=issues[j].id, credit=-neg_credit))
    total = sum(m.credit for m in matched)
    precision = total / len(findings) if findings else 0.0
    recall = total / len(issues) if issues else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ReviewScore(
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(f1, 6),
        matched=tuple(sorted(matched, key=lambda m: m.finding_index)),
        unmatched_findings=tuple(i for i in range(len(findings)) if i not in used_findings),
        missed_issues=tuple(issue.id for j, issue in enumerate(issues) if j not in used_issues),
    )
