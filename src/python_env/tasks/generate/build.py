"""Per-source pipeline: sample injections, validate them (analyzer + sandbox), emit tasks.

Everything random derives from ``(seed, source key)``, so a source yields the same tasks whatever
order or process it is handled in.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from python_env import syntax
from python_env.analysis import ruff_batch
from python_env.sandbox import Executor, Job
from python_env.tasks.generate.batch import JOB_LIMITS, BatchResult, digest, run_batch
from python_env.tasks.generate.compose import (
    Candidate,
    combine,
    helper_single,
    render_helper,
    single,
)
from python_env.tasks.generate.corpora import Source
from python_env.tasks.generate.injectors import REGISTRY, load_all
from python_env.tasks.generate.injectors.base import Scan, Site, call_name
from python_env.tasks.generate.injectors.security import TEMPLATE_BY_NAME
from python_env.tasks.generate.select import choose_tasks
from python_env.tasks.generate.validate import behaviour, lint_rules, lint_verdict, verdict

PERF_RATIO = 3  # optimize tasks: the injected code costs >= 3x the fix
MAX_BENCH_COST = 1_500_000  # line events: keeps the traced benchmark well inside the CPU limit
REVIEW_RATIO = 1.5  # review-only performance tasks: a measurable, smaller slow-down
_PROBE_PLAN = {True: (13, 3, 8), False: (0, 2, 3)}  # has generator -> (need, visible, min hidden)


_HASHED_NAMES = {"set", "frozenset", "hash", "id"}
_SET_OPS = (cst.BitAnd, cst.BitOr, cst.BitXor, cst.Subtract)


def hash_sensitive(scan: Scan, probes: Sequence[str] = ()) -> bool:
    """Could results depend on hash or address order (iterating a set, ``hash``, ``id``)?

    The sandbox's string-hash seed differs between processes, so such a source could grade
    differently from run to run, and make the dataset depend on the seeds of the generating
    processes. They are left out (an over-approximation: any use of those names, set displays,
    set operators on dict views, or set literals among the inputs).
    """
    if any(scan.of_type(kind) for kind in (cst.Set, cst.SetComp)):
        return True
    if any(n.value in _HASHED_NAMES for n, _ in scan.of_type(cst.Name)):
        return True
    for op, _ in scan.of_type(cst.BinaryOperation):
        if isinstance(op.operator, _SET_OPS) and any(
            call_name(side).endswith((".keys", ".items")) for side in (op.left, op.right)
        ):
            return True
    return any(isinstance(n, ast.Set) for p in probes for n in ast.walk(syntax.parse(p)))


def source_seed(seed: int, key: str) -> int:
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:16], 16)


@dataclass
class SourceOutcome:
    """Tasks made from one source, and what happened to every single-injection candidate."""

    key: str
    status: str = "ok"
    tasks: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    jobs: int = 0
    error: str = ""  # why the sandbox could not run the source (probe_error only)


def _names(family: str, templates: bool = False) -> list[str]:
    return sorted(
        n for n, inj in REGISTRY.items()
        if inj.family == family and (n in TEMPLATE_BY_NAME) == templates
    )  # fmt: skip


def _sample(scan: Scan, names: list[str], rng: random.Random, per: int, total: int) -> list[Site]:
    """Up to ``total`` sites, at most ``per`` per injector, injectors taken round-robin."""
    pools = []
    for name in names:
        sites = REGISTRY[name].find(scan)
        if sites:
            pools.append(rng.sample(sites, min(per, len(sites))))
    rng.shuffle(pools)
    chosen: list[Site] = []
    for depth in range(per):
        for pool in pools:
            if depth < len(pool) and len(chosen) < total:
                chosen.append(pool[depth])
    return chosen


def candidates(scan: Scan, rng: random.Random) -> list[Candidate]:
    """Singles of every family, then composites of them (pairs, triples, mixed)."""
    bugs = [single(scan, s, f"b{i}") for i, s in enumerate(_sample(scan, _names("bug"), rng, 2, 8))]
    stat = [
        single(scan, s, f"s{i}") for i, s in enumerate(_sample(scan, _names("static"), rng, 1, 5))
    ]
    perf = [
        single(scan, s, f"p{i}") for i, s in enumerate(_sample(scan, _names("perf"), rng, 1, 3))
    ]
    helper = helper_single(scan, render_helper(rng.choice(_names("static", True)), rng), "h0")
    b = [c for c in bugs if c]
    s = [c for c in stat if c]
    out: list[Candidate | None] = [*b, *s, *(c for c in perf if c), helper]
    groups: list[list[Candidate]] = []
    for size, count in ((2, 2), (3, 1)):
        for _ in range(count):
            if len(b) >= size:
                groups.append(rng.sample(b, size))
    if b and s:
        groups.append([rng.choice(b), rng.choice(s)])
    if helper and s:
        groups.append([helper, rng.choice(s)])
    if helper and b:
        groups.append([rng.choice(b), helper])
    seen: set[tuple[str, ...]] = set()
    for k, group in enumerate(groups):
        tags = tuple(sorted(c.tag for c in group))
        if tags not in seen:
            seen.add(tags)
            out.append(combine(scan, group, f"m{k}"))
    unique: dict[str, Candidate] = {}
    for cand in out:
        if cand is not None and cand.code not in unique:
            unique[cand.code] = cand
    return list(unique.values())


class Builder:
    """Turns sources into validated task records; one per process (it owns an executor)."""

    def __init__(self, executor: Executor, seed: int) -> None:
        load_all()
        self.executor = executor
        self.seed = seed

    def build(self, source: Source) -> SourceOutcome:
        out = SourceOutcome(source.key)
        rng = random.Random(source_seed(self.seed, source.key))
        try:
            scan = Scan.of(source.code, source.entry)
        except Exception:
            out.status = "unparsable"
            return out
        if hash_sensitive(scan):
            out.status = "hash_sensitive"
            return out
        cands = candidates(scan, rng)
        for cand in cands:
            if len(cand.components) == 1:
                out.stats[cand.components[0].injector]["candidates"] += 1
        texts = sorted({source.code, *(c.code for c in cands), *(c.fix for c in cands)})
        hits = dict(zip(texts, ruff_batch(texts, lint_rules()), strict=True))
        linted = []
        for cand in cands:
            lv = lint_verdict(cand, hits[cand.code], hits[cand.fix])
            if lv.ok:
                linted.append(cand)
            elif len(cand.components) == 1:
                out.stats[cand.components[0].injector][lv.reason] += 1
        batch = self._batch(source, linted, rng)
        out.jobs += 1
        if not batch.ok:
            out.status = "probe_error" if batch.error else "no_probes"
            out.error = batch.error[:300]
            for reason in ("slow_source", "nondeterministic_inputs"):
                if batch.rejected.get(reason):
                    out.status = reason
            return out
        if batch.runs[0] != batch.runs[1]:
            out.status = "nondeterministic"
            return out
        if hash_sensitive(scan, batch.probes):
            out.status = "hash_sensitive"
            return out
        valid = self._judge(linted, batch, out)
        return self._finish(source, batch, valid, rng, out)

    def _batch(self, source: Source, cands: Sequence[Candidate], rng: random.Random) -> BatchResult:
        need, nvis, min_hidden = _PROBE_PLAN[bool(source.generator)]
        fixed = None if source.generator else list(source.probes)
        return run_batch(
            self.executor, [source.code, source.code, *(c.code for c in cands)], source.entry,
            rng.randrange(2**31), source.generator, fixed, need or len(source.probes), nvis,
            min_hidden,
        )  # fmt: skip

    def _judge(
        self, cands: Sequence[Candidate], batch: BatchResult, out: SourceOutcome
    ) -> list[Candidate]:
        original = batch.runs[0]
        results = [behaviour(original, batch.runs.get(i + 2)) for i in range(len(cands))]
        good = {
            id(c.components[0])
            for c, r in zip(cands, results, strict=True)
            if len(c.components) == 1 and verdict(c, r)
        }
        valid = []
        for i, (cand, result) in enumerate(zip(cands, results, strict=True)):
            if len(cand.components) == 1:
                stats = out.stats[cand.components[0].injector]
                stats["run"] += 1
                stats[f"behaviour_{result}"] += 1
                run = batch.runs.get(i + 2)
                if result != "bad" and run and run.get("h") != original.get("h"):
                    stats["killed_hidden"] += 1
            if verdict(cand, result) and all(id(c) in good for c in cand.components):
                valid.append(cand)
        return valid

    def _finish(
        self, source: Source, batch: BatchResult, valid: list[Candidate], rng: random.Random,
        out: SourceOutcome,
    ) -> SourceOutcome:  # fmt: skip
        from python_env.tasks.generate.texts import benchmark_file, test_file

        visible, hidden = batch.probes[: batch.nvis], batch.probes[batch.nvis :]
        hidden_text = test_file(source, hidden, "hidden")
        perf = [c for c in valid if c.families == {"perf"}]
        bench = benchmark_file(source, [*batch.bench, *batch.probes]) if perf else ""
        visible_text = test_file(source, visible, "visible")
        ref = self.executor.run(Job(solution=source.code, tests=hidden_text, benchmark=bench,
                                    limits=JOB_LIMITS))  # fmt: skip
        out.jobs += 1
        if [digest(o) for o in ref.outcomes] != batch.runs[0]["h"] or ref.error:
            out.status = "cross_check_failed"
            return out
        costs: dict[str, tuple[int, int]] = {}
        for cand in perf:
            rep = self.executor.run(Job(solution=cand.code, tests=hidden_text, benchmark=bench,
                                        limits=JOB_LIMITS))  # fmt: skip
            out.jobs += 1
            stats = out.stats[cand.components[0].injector]
            fits = rep.cost is not None and rep.cost <= MAX_BENCH_COST
            if ref.cost and rep.cost and fits and rep.cost >= REVIEW_RATIO * ref.cost:
                costs[cand.tag] = (rep.cost, ref.cost)
                stats["cost_ok" if rep.cost >= PERF_RATIO * ref.cost else "cost_review_only"] += 1
            else:
                stats["cost_low"] += 1
        valid = [c for c in valid if c.families != {"perf"} or c.tag in costs]
        for cand in valid:
            if len(cand.components) == 1:
                out.stats[cand.components[0].injector]["kept"] += 1
        probes = {"visible": visible_text, "hidden": hidden_text,
                  "benchmark": bench}  # fmt: skip
        out.tasks = choose_tasks(source, valid, probes, costs, rng)
        return out
