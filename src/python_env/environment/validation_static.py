"""The task-validation rules that read a task's files without running them (``validation``).

Answer-key spans must point at real, non-blank lines of ``code.py``; an issue that names a rule
ruff knows must fire it inside its spans (the grader counts that rule on repairs); and tests and
benchmarks must not read the clock, whose value differs on every run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from python_env import syntax
from python_env.analysis.linters import known_rules, ruff_batch
from python_env.grading.fixes import source_lines
from python_env.types import Issue, Task, TaskProblem, TestStyle

MAX_EVIDENCE = 200  # characters of evidence per problem: the CLI prints one line each

_TIME_READS = ("time", "perf_counter", "monotonic", "process_time", "thread_time", "clock_gettime")
CLOCK_READS = frozenset(
    {f"time.{name}{suffix}" for name in _TIME_READS for suffix in ("", "_ns")}
    | {"datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today"}
    | {"datetime.date.today"}
)


def problem(task: Task, rule: str, evidence: str) -> TaskProblem:
    """A problem of ``task``, its evidence cut to ``MAX_EVIDENCE`` characters."""
    if len(evidence) > MAX_EVIDENCE:
        evidence = evidence[: MAX_EVIDENCE - 1] + "…"
    return TaskProblem(task=task.id, rule=rule, evidence=evidence)


def more(count: int) -> str:
    """`` (+N more)`` after the first piece of evidence of ``count``, or nothing."""
    return f" (+{count - 1} more)" if count > 1 else ""


def _span_text(span: tuple[int, int]) -> str:
    start, end = span
    return str(start) if start == end else f"{start}-{end}"


def span_problems(task: Task) -> list[TaskProblem]:
    """``span-in-file`` and ``span-not-blank``: at most one of each per issue."""
    lines = source_lines(task.code)
    found = []
    for issue in task.issues:
        outside = [s for s in issue.spans if s[1] > len(lines)]
        blank = [
            s for s in issue.spans
            if s not in outside and not any(lines[k - 1].strip() for k in range(s[0], s[1] + 1))
        ]  # fmt: skip
        if outside:
            where = f"span {_span_text(outside[0])} is past the last line of code.py ({len(lines)})"
            found.append(problem(task, "span-in-file", f"issue {issue.id}: {where}"))
        if blank:
            where = f"line(s) {_span_text(blank[0])} of code.py are blank"
            found.append(problem(task, "span-not-blank", f"issue {issue.id}: {where}"))
    return found


def rule_problems(task: Task) -> list[TaskProblem]:
    """``rule-fires``: each issue whose ``rule_id`` ruff knows fires it on ``code.py`` inside one
    of its spans (``# noqa`` ignored, as when grading). Bandit-only ids are not checked."""
    rules = known_rules(sorted({i.rule_id for i in task.issues if i.rule_id}))
    if not rules:
        return []
    hits = ruff_batch([task.code], sorted(rules), ignore_noqa=True)[0]
    if any(rule == "E999" for rule, _, _ in hits):
        return [problem(task, "rule-fires", "code.py does not parse, so no answer-key rule fires")]
    found = []
    for issue in (i for i in task.issues if i.rule_id in rules):
        if any(_overlaps(hit, issue) for hit in hits if hit[0] == issue.rule_id):
            continue
        lines = sorted({start for rule, start, _ in hits if rule == issue.rule_id})
        spans = ", ".join(_span_text(s) for s in issue.spans)
        where = f"only on line(s) {', '.join(map(str, lines))}" if lines else "nowhere"
        evidence = f"issue {issue.id}: {issue.rule_id} fires {where} of code.py, not in {spans}"
        found.append(problem(task, "rule-fires", evidence))
    return found


def _overlaps(hit: tuple[str, int, int], issue: Issue) -> bool:
    return any(hit[1] <= end and start <= hit[2] for start, end in issue.spans)


def clock_problems(task: Task) -> list[TaskProblem]:
    """``no-wall-clock``: one problem per test, conftest or benchmark file that reads the clock."""
    files = {
        "visible_tests.py": task.visible_tests,
        "hidden_tests.py": task.hidden_tests,
        "conftest.py": task.conftest if task.test_style is TestStyle.PYTEST else "",
        "benchmark.py": task.benchmark,
    }
    found = []
    for name, source in files.items():
        reads = sorted(clock_reads(source))
        if reads:
            line, what = reads[0]
            evidence = f"{name} line {line}: {what} reads the clock{more(len(reads))}"
            found.append(problem(task, "no-wall-clock", evidence))
    return found


def clock_reads(source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every reference to a clock-reading function in ``source``, however
    it was imported (``import time as t``, ``from datetime import datetime``). A file that does
    not parse has none here (its run reports the syntax error)."""
    try:
        tree = syntax.parse(source)
    except (SyntaxError, ValueError):
        return
    aliases = _imported_names(tree)
    for node in ast.walk(tree):
        name = _dotted(node, aliases)
        if name in CLOCK_READS:
            yield node.lineno, name  # type: ignore[attr-defined]  # a Name or an Attribute


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """Each name an import binds -> the dotted name of what it is bound to."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                aliases[alias.asname or root] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` with ``a`` resolved through the imports, for a Name or Attribute chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])
