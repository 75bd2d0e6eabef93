"""The words of a generated task: title, instructions, visible/hidden test files, benchmark."""

from __future__ import annotations

from collections.abc import Sequence

from python_env import syntax
from python_env.tasks.generate.corpora import Source
from python_env.types import TaskKind

_ASK = {
    TaskKind.REVIEW: "Review the code and report each problem you find as a finding: its line "
    "span, category (bug, security, performance, maintainability or style), severity and what "
    "is wrong. Report only real problems; unfounded findings cost precision.",
    TaskKind.REPAIR: "Fix the code so that `{entry}` behaves as described. The visible tests "
    "show how it is called; hidden tests check the same behaviour on other inputs.",
    TaskKind.OPTIMIZE: "`{entry}` returns the right results but does far more work than "
    "needed. Make it faster without changing any result; the benchmark counts executed Python "
    "lines.",
}


def title(source: Source) -> str:
    """A short title: the task description's first sentence, or the HumanEval entry point."""
    if source.description:
        text = source.description.split(". ")[0].split("? ")[0].rstrip(".?")
        if len(text) > 72:
            text = text[:72].rsplit(" ", 1)[0] + "..."
        return text
    return f"HumanEval: {source.entry}"


def instructions(source: Source, kinds: Sequence[TaskKind]) -> str:
    parts = []
    if source.description:
        parts.append(f"The module answers this problem: {source.description}")
        if source.io_spec:
            parts.append(f"Inputs and output of `{source.entry}`:\n{source.io_spec}")
    else:
        parts.append(
            f"The module implements `{source.entry}` as documented in its docstring "
            f"(a {source.corpus} function)."
        )
    parts += [_ASK[k].format(entry=source.entry) for k in kinds]
    return "\n\n".join(parts)


def call_text(entry: str, probe: str) -> str:
    """``entry(...)`` with the literal arguments of one probe."""
    args, kwargs = syntax.literal_eval(probe)
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{entry}({', '.join(parts)})"


def test_file(source: Source, probes: Sequence[str], suite: str) -> str:
    """A test module: one function per probe, returning the entry point's result."""
    origin = "the task's input generator" if source.generator else "the original test suite"
    lines = [
        f'"""{suite.capitalize()} tests: `{source.entry}` on inputs from {origin}.',
        "",
        "Each test returns the result; it passes when the result equals the reference's.",
        '"""',
        "",
        f"from solution import {source.entry}",
    ]
    for k, probe in enumerate(probes, 1):
        lines += [
            "",
            "",
            f"def test_{suite}_{k:02d}():",
            f"    return {call_text(source.entry, probe)}",
        ]
    return "\n".join(lines) + "\n"


def benchmark_file(source: Source, probes: Sequence[str], repeat: int = 2) -> str:
    calls = ",\n".join(f"    {syntax.literal_eval(p)!r}" for p in probes)
    return (
        f'"""Benchmark: `{source.entry}` on larger and test inputs, {repeat} times."""\n\n'
        f"from solution import {source.entry}\n\n"
        f"INPUTS = [\n{calls},\n]\n\n\n"
        "def benchmark():\n"
        f"    return [{source.entry}(*args, **kwargs)\n"
        f"            for _ in range({repeat}) for args, kwargs in INPUTS]\n"
    )
