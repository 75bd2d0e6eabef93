from python_env.analysis import category_of, ruff_fix, run_bandit, run_ruff
from python_env.types import Category, Severity

CODE = """import subprocess


def run(cmd, seen=[]):
    seen.append(cmd)
    try:
        return subprocess.call("ls " + cmd, shell=True)
    except:
        return None
"""


def test_ruff_reports_rules_with_categories_and_lines() -> None:
    hits = {h.rule_id: h for h in run_ruff(CODE)}
    assert hits["B006"].start_line == 4 and hits["B006"].category is Category.MAINTAINABILITY
    assert hits["S602"].start_line == 7 and hits["S602"].category is Category.SECURITY
    assert hits["E722"].start_line == 8
    assert hits["S602"].to_finding().rule_id == "S602"


def test_bandit_reports_security_with_severity() -> None:
    hits = {h.rule_id: h for h in run_bandit(CODE)}
    assert hits["B602"].start_line == 7 and hits["B602"].severity is Severity.HIGH


def test_ruff_fix_applies_safe_fixes_only() -> None:
    assert ruff_fix("import os\nx = 1\n", select=["F401"]) == "x = 1\n"
    assert "shell=True" in ruff_fix(CODE)  # unsafe fixes are never applied


def test_category_mapping() -> None:
    assert category_of("S608") is Category.SECURITY
    assert category_of("PERF401") is Category.PERFORMANCE
    assert category_of("F821") is Category.BUG
    assert category_of("E711") is Category.STYLE
    assert category_of("C901") is Category.MAINTAINABILITY
