"""Matches reported findings against a task's answer key (pure functions).

The rule, term by term (the README's credit table is produced from it by a test):

- **File** (repository tasks): a finding matches an issue only in the issue's file.
- **Place**: a finding locates an issue when its span overlaps one of the issue's spans (its own,
  or an alternative the answer key lists, such as the root cause of a symptom) widened by
  ``LINE_TOLERANCE`` lines, and is not much larger than that span: at most
  ``max(MIN_SPAN_LIMIT, SPAN_FACTOR x span)`` lines. Pointing at a long function or the whole
  file earns nothing.
- **Category**: the issue's category or one of its acceptable alternatives.
- **Substance**: a located finding earns ``LOCATED_CREDIT``; one whose ``suggested_fix`` the
  grader verified (``grading.fixes``) earns full credit. An issue no check can see gives full
  credit for locating it.
- **Severity** multiplies the credit: 1 when right, 0.5 one level off, else 0.25.
- Each issue is matched at most once and each finding at most once; unmatched findings and
  duplicates count against precision.
- **Verdict** (pull-request tasks, ``review_pull_request``): the episode ends with ``submit`` or
  with ``approve`` ("nothing wrong here"). A clean pull request (no issue) earns 1 (precision,
  recall and F1 all 1) only when it is approved and no finding was reported, else 0: a finding
  on it is a false alarm, and submitting without a verdict earns nothing. Approving a pull
  request with a planted issue earns 0, whatever the findings; otherwise its findings are
  scored as above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from python_env.types import Finding, FixStatus, Issue, MatchedFinding, ReviewScore

LINE_TOLERANCE = 2
MIN_SPAN_LIMIT = 6
SPAN_FACTOR = 3
LOCATED_CREDIT = 0.5
SEVERITY_CREDIT = (1.0, 0.5, 0.25, 0.25)  # indexed by the distance between severity ranks
FULL_CREDIT_FIXES = (FixStatus.VERIFIED, FixStatus.UNCHECKABLE)


def locates(finding: Finding, span: tuple[int, int], tolerance: int = LINE_TOLERANCE) -> bool:
    """The finding overlaps ``span`` +- ``tolerance`` and is not much larger than it."""
    start, end = span
    size = finding.end_line - finding.start_line + 1
    return (
        finding.start_line <= end + tolerance
        and finding.end_line >= start - tolerance
        and size <= max(MIN_SPAN_LIMIT, SPAN_FACTOR * (end - start + 1))
    )


def same_file(finding: Finding, issue: Issue) -> bool:
    """Whether the finding is in the issue's file: a repository task's issue names its file
    (``path``), and only findings in that file can match it; a single-file task's has none."""
    # RepoIssue: grading does not import the tasks layer. Read through __dict__ (pydantic keeps
    # field values there): getattr on a model without the field goes through pydantic's
    # __getattr__ and a raised AttributeError, the costliest part of matching a review.
    path = issue.__dict__.get("path")
    return path is None or finding.path == path


def matches(finding: Finding, issue: Issue, tolerance: int = LINE_TOLERANCE) -> bool:
    """The same file, an acceptable category, and a span that locates the issue."""
    return (
        same_file(finding, issue)
        and finding.category in issue.categories
        and any(locates(finding, span, tolerance) for span in issue.spans)
    )


def credit(finding: Finding, issue: Issue, fix: FixStatus = FixStatus.NONE) -> float:
    """Located or fixed credit, times the severity factor."""
    base = 1.0 if fix in FULL_CREDIT_FIXES else LOCATED_CREDIT
    return base * SEVERITY_CREDIT[abs(finding.severity.rank - issue.severity.rank)]


def candidate_pairs(
    findings: Sequence[Finding], issues: Sequence[Issue], tolerance: int = LINE_TOLERANCE
) -> list[tuple[int, int]]:
    """Every (finding index, issue index) that matches, before one-to-one pairing."""
    return [
        (i, j)
        for i, f in enumerate(findings)
        for j, issue in enumerate(issues)
        if matches(f, issue, tolerance)
    ]


def score_findings(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    fixes: Mapping[tuple[int, str], FixStatus] | None = None,
    uncheckable: frozenset[str] = frozenset(),
    tolerance: int = LINE_TOLERANCE,
) -> ReviewScore:
    """Precision, recall and F1 of ``findings`` against ``issues``, with the pairing used.

    ``fixes`` maps (finding index, issue id) to what became of the finding's fix for that
    issue; ``uncheckable`` names the issues no check can verify a fix for.
    """
    pairs = _pairing(findings, issues, fixes or {}, uncheckable, tolerance)
    matched = [
        MatchedFinding(finding_index=i, issue_id=issues[j].id, credit=credit, fix=fix)
        for i, j, credit, fix in pairs
    ]
    precision, recall, f1 = _rates(sum(m.credit for m in matched), len(findings), len(issues))
    used_findings = {i for i, _, _, _ in pairs}
    used_issues = {j for _, j, _, _ in pairs}
    return ReviewScore(
        precision=precision,
        recall=recall,
        f1=f1,
        matched=tuple(sorted(matched, key=lambda m: m.finding_index)),
        unmatched_findings=tuple(i for i in range(len(findings)) if i not in used_findings),
        missed_issues=tuple(issue.id for j, issue in enumerate(issues) if j not in used_issues),
    )


def review_f1(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    uncheckable: frozenset[str] = frozenset(),
    tolerance: int = LINE_TOLERANCE,
) -> float:
    """``score_findings(findings, issues, uncheckable=uncheckable).f1``, without building the
    score: a review step needs only this number, and the models cost more than the pairing."""
    pairs = _pairing(findings, issues, {}, uncheckable, tolerance)
    return _rates(sum(credit for _, _, credit, _ in pairs), len(findings), len(issues))[2]


def _pairing(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    fixes: Mapping[tuple[int, str], FixStatus],
    uncheckable: frozenset[str],
    tolerance: int,
) -> list[tuple[int, int, float, FixStatus]]:
    """The one-to-one pairing: (finding index, issue index, credit, fix), best credit first."""

    def status(i: int, issue: Issue) -> FixStatus:
        if issue.id in uncheckable:
            return FixStatus.UNCHECKABLE
        default = FixStatus.PENDING if findings[i].suggested_fix else FixStatus.NONE
        return fixes.get((i, issue.id), default)

    ranked = sorted(
        (
            -credit(findings[i], issues[j], status(i, issues[j])),
            abs(findings[i].start_line - issues[j].start_line),
            i,
            j,
        )
        for i, j in candidate_pairs(findings, issues, tolerance)
    )
    used_findings: set[int] = set()
    used_issues: set[int] = set()
    pairs = []
    for neg_credit, _, i, j in ranked:
        if i in used_findings or j in used_issues:
            continue
        used_findings.add(i)
        used_issues.add(j)
        pairs.append((i, j, -neg_credit, status(i, issues[j])))
    return pairs


def _rates(total: float, findings: int, issues: int) -> tuple[float, float, float]:
    """(precision, recall, F1) of ``total`` credit, each rounded to 6 places."""
    precision = total / findings if findings else 0.0
    recall = total / issues if issues else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(precision, 6), round(recall, 6), round(f1, 6)


def review_pull_request(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    approved: bool,
    uncheckable: frozenset[str] = frozenset(),
) -> ReviewScore:
    """The review of a pull request given its verdict (``approved``): 1 for approving a clean
    one without findings, the findings' F1 on a planted one not approved, else 0."""
    if approved and not issues and not findings:
        return ReviewScore(precision=1.0, recall=1.0, f1=1.0)
    if issues and not approved:
        return score_findings(findings, issues, uncheckable=uncheckable)
    # A false alarm on a clean pull request, no verdict on it, or an approved planted issue.
    return ReviewScore(
        precision=0.0,
        recall=0.0,
        f1=0.0,
        unmatched_findings=tuple(range(len(findings))),
        missed_issues=tuple(issue.id for issue in issues),
    )
