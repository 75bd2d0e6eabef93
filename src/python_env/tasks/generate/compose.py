"""Candidates: one or more injections applied to a source, with every answer-key span located.

Spans come from a line diff between the reference (fix) and the injected code, so they point at
exactly the lines that changed (for a deleted line: the two lines around the gap). A composite
candidate attributes each changed hunk to the one component whose own single-injection diff
touched the same original lines; any ambiguity rejects the composite.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from python_env.tasks.generate.injectors import REGISTRY, Injector
from python_env.tasks.generate.injectors.base import Scan, Site, apply, hunk_span, hunks
from python_env.tasks.generate.injectors.security import TEMPLATE_BY_NAME

HELPER_GAP = "\n\n\n"


@dataclass(frozen=True)
class Helper:
    """A security helper template rendered for one task."""

    template: str
    fn: str
    safe: str
    unsafe: str


@dataclass(frozen=True)
class Component:
    """One injected issue of a candidate."""

    injector: str
    site: Site | None  # None for a helper template
    helper: Helper | None
    touched: tuple[int, int]  # 0-based half-open line range of the fix that its diff touches
    old: str
    new: str
    explanation: str

    @property
    def spec(self) -> Injector:
        return REGISTRY[self.injector]


@dataclass(frozen=True)
class Candidate:
    tag: str
    components: tuple[Component, ...]
    code: str  # the task's code (injected)
    fix: str  # the reference: the source, plus the safe helper if there is one
    spans: tuple[tuple[int, int], ...]  # per component: 1-based inclusive lines of ``code``

    @property
    def families(self) -> set[str]:
        return {c.spec.family for c in self.components}

    @property
    def helper(self) -> Helper | None:
        return next((c.helper for c in self.components if c.helper), None)


def _touched(fix: str, code: str) -> tuple[int, int] | None:
    changed = hunks(fix, code)
    if not changed:
        return None
    return min(h[0] for h in changed), max(max(h[1], h[0] + 1) for h in changed)


def single(scan: Scan, site: Site, tag: str) -> Candidate | None:
    """The source with one libcst injection, or None if it is a no-op or does not compile."""
    code = apply(scan, [site])
    if code is None or code == scan.code:
        return None
    touched = _touched(scan.code, code)
    if touched is None:
        return None
    site = scan.finish(site)
    comp = Component(site.injector, site, None, touched, site.old or "", site.new or "",
                     site.explanation)  # fmt: skip
    return _located(tag, (comp,), code, scan.code)


def render_helper(template_name: str, rng: random.Random) -> Helper:
    template = TEMPLATE_BY_NAME[template_name]
    fn, safe, unsafe = template.render(rng)
    return Helper(template_name, fn, safe, unsafe)


def with_helper(code: str, text: str) -> str:
    return code.rstrip("\n") + HELPER_GAP + text


def helper_single(scan: Scan, helper: Helper, tag: str) -> Candidate | None:
    fix = with_helper(scan.code, helper.safe)
    code = with_helper(scan.code, helper.unsafe)
    touched = _touched(fix, code)
    if touched is None:
        return None
    template = TEMPLATE_BY_NAME[helper.template]
    safe_lines = set(helper.safe.splitlines())
    unsafe_lines = set(helper.unsafe.splitlines())
    old = " / ".join(x.strip() for x in helper.safe.splitlines() if x not in unsafe_lines)
    new = " / ".join(x.strip() for x in helper.unsafe.splitlines() if x not in safe_lines)
    comp = Component(helper.template, None, helper, touched, old, new, template.explanation)
    return _located(tag, (comp,), code, fix)


def combine(scan: Scan, parts: Sequence[Candidate], tag: str) -> Candidate | None:
    """All components of ``parts`` in one candidate (at most one helper template)."""
    comps = tuple(c for p in parts for c in p.components)
    helpers = [c.helper for c in comps if c.helper is not None]
    if len(helpers) > 1 or not _separated([c.touched for c in comps]):
        return None
    sites = [c.site for c in comps if c.site is not None]
    code = apply(scan, sites) if sites else scan.code
    if code is None:
        return None
    fix = scan.code
    if helpers:
        fix, code = with_helper(fix, helpers[0].safe), with_helper(code, helpers[0].unsafe)
    return _located(tag, comps, code, fix)


def _separated(ranges: list[tuple[int, int]], gap: int = 2) -> bool:
    ordered = sorted(ranges)
    return all(b[0] - a[1] >= gap for a, b in pairwise(ordered))


def _located(tag: str, comps: tuple[Component, ...], code: str, fix: str) -> Candidate | None:
    """Attach each changed hunk to its component; None if any hunk or component is unmatched."""
    n_lines = len(code.splitlines())
    spans: list[list[tuple[int, int]]] = [[] for _ in comps]
    for hunk in hunks(fix, code):
        i1, i2 = hunk[0], max(hunk[1], hunk[0] + 1)
        owners = [k for k, c in enumerate(comps) if i1 < c.touched[1] + 1 and c.touched[0] < i2 + 1]
        if len(owners) != 1:
            return None
        spans[owners[0]].append(hunk_span(hunk, n_lines))
    if any(not s for s in spans):
        return None
    merged = tuple((min(a for a, _ in s), max(b for _, b in s)) for s in spans)
    lines = code.splitlines()
    for start, end in merged:
        if not any(lines[i - 1].strip() for i in range(start, end + 1)):
            return None
    return Candidate(tag, comps, code, fix, merged)
