from python_env.grading.findings import score_findings
from python_env.types import Category, Finding, Issue, Severity

ISSUES = [
    Issue(
        id="a",
        start_line=10,
        end_line=11,
        category=Category.BUG,
        severity=Severity.HIGH,
        explanation="x",
    ),
    Issue(
        id="b",
        start_line=30,
        end_line=30,
        category=Category.SECURITY,
        severity=Severity.CRITICAL,
        explanation="y",
    ),
]


def finding(start: int, end: int, category: str = "bug", severity: str = "high") -> Finding:
    return Finding(
        start_line=start,
        end_line=end,
        category=Category(category),
        severity=Severity(severity),
        message="m",
    )


def test_exact_findings_score_one() -> None:
    score = score_findings([finding(10, 11), finding(30, 30, "security", "critical")], ISSUES)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)
    assert score.missed_issues == ()


def test_line_tolerance_is_two_lines() -> None:
    assert score_findings([finding(8, 8)], ISSUES).recall == 0.5
    assert score_findings([finding(7, 7)], ISSUES).recall == 0.0


def test_category_must_match() -> None:
    assert score_findings([finding(10, 11, "style")], ISSUES).f1 == 0.0


def test_whole_file_span_does_not_match() -> None:
    assert score_findings([finding(1, 40)], ISSUES).f1 == 0.0


def test_severity_gives_partial_credit() -> None:
    assert score_findings([finding(10, 10, severity="medium")], ISSUES).recall == 0.25
    assert score_findings([finding(10, 10, severity="low")], ISSUES).recall == 0.125


def test_duplicates_and_noise_cost_precision() -> None:
    score = score_findings([finding(10, 10), finding(11, 11), finding(50, 50)], ISSUES)
    assert score.precision == round(1 / 3, 6)
    assert score.unmatched_findings == (1, 2)
    assert score.missed_issues == ("b",)


def test_no_findings_scores_zero() -> None:
    assert score_findings([], ISSUES).f1 == 0.0
