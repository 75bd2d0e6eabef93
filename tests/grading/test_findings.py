import random

from python_env.grading.findings import review_f1, score_findings
from python_env.grading.fixes import apply_fix
from python_env.types import Category, Finding, FixStatus, Issue, Severity

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


def fixed(f: Finding) -> Finding:
    return f.model_copy(update={"suggested_fix": "x = 1"})


VERIFIED = {(0, "a"): FixStatus.VERIFIED, (1, "b"): FixStatus.VERIFIED}


def test_located_findings_earn_half_and_verified_fixes_the_rest() -> None:
    exact = [finding(10, 11), finding(30, 30, "security", "critical")]
    assert score_findings(exact, ISSUES).f1 == 0.5
    score = score_findings([fixed(f) for f in exact], ISSUES, VERIFIED)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)
    assert [m.fix for m in score.matched] == [FixStatus.VERIFIED, FixStatus.VERIFIED]
    failed = {key: FixStatus.FAILED for key in VERIFIED}
    assert score_findings([fixed(f) for f in exact], ISSUES, failed).f1 == 0.5


def test_an_issue_nothing_can_check_gives_full_credit_for_locating_it() -> None:
    score = score_findings([finding(10, 11)], ISSUES, uncheckable=frozenset({"a"}))
    assert score.recall == 0.5 and score.matched[0].fix is FixStatus.UNCHECKABLE


def test_overlap_within_two_lines_locates() -> None:
    assert score_findings([finding(8, 8)], ISSUES).recall == 0.25
    assert score_findings([finding(13, 13)], ISSUES).recall == 0.25
    assert score_findings([finding(7, 7)], ISSUES).recall == 0.0
    assert score_findings([finding(5, 9)], ISSUES).recall == 0.25  # overlaps, 5 lines


def test_a_finding_much_larger_than_the_issue_does_not_locate_it() -> None:
    assert score_findings([finding(6, 11)], ISSUES).recall == 0.25  # 6 lines: the floor
    assert score_findings([finding(5, 11)], ISSUES).recall == 0.0  # 7 lines
    assert score_findings([finding(1, 40)], ISSUES).f1 == 0.0


def test_alternative_spans_and_categories_are_accepted() -> None:
    issue = ISSUES[0].model_copy(
        update={"alt_spans": ((20, 21),), "alt_categories": (Category.MAINTAINABILITY,)}
    )
    assert score_findings([finding(21, 21)], [issue]).recall == 0.5
    assert score_findings([finding(10, 10, "maintainability")], [issue]).recall == 0.5
    assert score_findings([finding(10, 11, "style")], [issue]).f1 == 0.0


def test_category_must_be_acceptable() -> None:
    assert score_findings([finding(10, 11, "style")], ISSUES).f1 == 0.0


def test_severity_scales_the_credit() -> None:
    assert score_findings([finding(10, 10, severity="medium")], ISSUES).recall == 0.125
    assert score_findings([finding(10, 10, severity="low")], ISSUES).recall == 0.0625


def test_duplicates_and_noise_cost_precision() -> None:
    score = score_findings([finding(10, 10), finding(11, 11), finding(50, 50)], ISSUES)
    assert score.precision == round(0.5 / 3, 6)
    assert score.unmatched_findings == (1, 2)
    assert score.missed_issues == ("b",)


def test_the_verified_duplicate_is_the_one_credited() -> None:
    findings = [finding(10, 10), fixed(finding(11, 11))]
    score = score_findings(findings, ISSUES, {(1, "a"): FixStatus.VERIFIED})
    assert [(m.finding_index, m.credit) for m in score.matched] == [(1, 1.0)]


def test_no_findings_scores_zero() -> None:
    assert score_findings([], ISSUES).f1 == 0.0


def test_a_fix_replaces_exactly_its_lines() -> None:
    code = "a = 1\nb = 2\nc = 3\n"
    f = finding(2, 2).model_copy(update={"suggested_fix": "b = 20\nbb = 21"})
    assert apply_fix(code, f) == "a = 1\nb = 20\nbb = 21\nc = 3\n"


def test_review_f1_is_the_f1_of_score_findings() -> None:
    # A review step scores with review_f1 (no models built); its number must be score_findings'.
    rng = random.Random(3)
    categories, severities = list(Category), list(Severity)
    for _ in range(300):
        findings = [
            Finding(
                start_line=(start := rng.randint(1, 35)),
                end_line=start + rng.randint(0, 8),
                category=rng.choice(categories),
                severity=rng.choice(severities),
                message="m",
                suggested_fix=rng.choice(["", "x = 1"]),
            )
            for _ in range(rng.randint(0, 6))
        ]
        uncheckable = frozenset(rng.sample(["a", "b"], rng.randint(0, 2)))
        expected = score_findings(findings, ISSUES, uncheckable=uncheckable).f1
        assert review_f1(findings, ISSUES, uncheckable) == expected
