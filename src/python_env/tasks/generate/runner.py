"""Parallel, reproducible generation: sources in a seeded order, fanned out to worker processes
(or to Ray actors, ``ray_runner.py``), results consumed in order, so the same seed (and corpora)
always gives the same dataset bytes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import platform
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from python_env.config import SandboxSettings, SandboxTier
from python_env.tasks.generate.corpora import CORPORA, Source, corpus_versions, load_sources
from python_env.tasks.generate.dataset import SPLITS, write_dataset
from python_env.tasks.generate.select import GENERATOR_VERSION

# A backend's pool: (seed, sandbox, workers) -> a context that yields ``submit``, which takes a
# source and returns the future of its ``SourceOutcome``; the pool stops when the context exits.
Submit = Callable[[Source], "Future[Any]"]
Pool = Callable[[int, SandboxSettings, int], AbstractContextManager[Submit]]

_builder: Any = None


def make_builder(seed: int, sandbox: SandboxSettings) -> Any:
    """A ``Builder`` over its own sandbox executor (``builder.executor``; the caller closes it).
    A pool already has a process per core: one sandbox worker each, unless asked otherwise."""
    from python_env.sandbox import make_executor
    from python_env.tasks.generate.build import Builder

    executor = make_executor(
        sandbox if sandbox.workers else sandbox.model_copy(update={"workers": 1})
    )
    return Builder(executor, seed)


def _init_worker(seed: int, sandbox: SandboxSettings) -> None:
    """Per worker process: one builder (its executor closed when the worker exits)."""
    global _builder
    from multiprocessing import util

    _builder = make_builder(seed, sandbox)
    util.Finalize(None, _builder.executor.close, exitpriority=10)


def _work(source: Source) -> Any:
    return _builder.build(source)


def _resolved(sandbox: SandboxSettings) -> SandboxSettings:
    """The settings with the tier this host can run, found once here (and said once, if a
    stronger tier is missing) rather than by every worker process."""
    from python_env.sandbox import make_executor

    probe = make_executor(sandbox.model_copy(update={"workers": 1}))
    try:
        tier = getattr(probe, "tier", None)
    finally:
        probe.close()
    return sandbox.model_copy(update={"tier": SandboxTier(tier)}) if tier else sandbox


@contextmanager
def process_pool(seed: int, sandbox: SandboxSettings, workers: int) -> Iterator[Submit]:
    """The local backend: ``workers`` spawned processes, each with its own builder."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(seed, sandbox)) as pool:  # fmt: skip
        yield lambda source: pool.submit(_work, source)


def default_workers() -> int:
    """Worker processes when not told: one more than the cores (a worker waits on its sandbox)."""
    return max(2, (os.cpu_count() or 1) + 1)


def source_order(sources: Sequence[Source], seed: int) -> list[Source]:
    def key(s: Source) -> str:
        return hashlib.sha256(f"{seed}:order:{s.key}".encode()).hexdigest()

    return sorted(sources, key=key)


@dataclass
class Result:
    manifest: dict[str, Any]
    seconds: float
    sources_done: int
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def tasks(self) -> int:
        return int(self.manifest["total_tasks"])

    @property
    def rate(self) -> float:
        return self.tasks / self.seconds if self.seconds else 0.0


def generate(
    out: Path, seed: int, count: int | None = None, workers: int | None = None,
    corpora: Sequence[str] = CORPORA, max_sources: int | None = None,
    progress: Callable[[int, int], None] | None = None, sandbox: SandboxSettings | None = None,
    pool: Pool = process_pool,
) -> Result:  # fmt: skip
    """Build up to ``count`` tasks (all sources if None) and write the dataset to ``out``;
    ``pool`` runs the builds (any backend: the results are consumed in source order)."""
    sandbox = _resolved(sandbox or SandboxSettings())
    started = time.perf_counter()
    sources = source_order(load_sources(corpora), seed)[:max_sources]
    workers = workers or default_workers()
    splits: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: Counter[str] = Counter()
    total = 0
    done = 0
    with pool(seed, sandbox, workers) as submit:
        pending: deque[Future[Any]] = deque()
        feed = iter(sources)
        window = workers * 4
        while True:
            while len(pending) < window and (count is None or total < count):
                nxt = next(feed, None)
                if nxt is None:
                    break
                pending.append(submit(nxt))
            if not pending:
                break
            outcome = pending.popleft().result()
            done += 1
            statuses[outcome.status] += 1
            if outcome.error and statuses[outcome.status] <= 3:
                print(f"python-env generate: {outcome.key}: {outcome.error}", file=sys.stderr)
            for name, counter in outcome.stats.items():
                stats[name].update(counter)
            for rec in outcome.tasks:
                if count is None or total < count:
                    splits[rec["info"]["split"]].append(rec)
                    total += 1
            if progress:
                progress(done, total)
            if count is not None and total >= count:
                for fut in pending:
                    fut.cancel()
                break
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "count_requested": count,
        "corpora": list(corpora),
        "corpus_versions": corpus_versions(),
        "analyzers": {"ruff": metadata.version("ruff"), "libcst": metadata.version("libcst")},
        "python": platform.python_version(),
        "sources_processed": done,
        "source_status": dict(sorted(statuses.items())),
        "injector_stats": {k: dict(sorted(v.items())) for k, v in sorted(stats.items())},
        "command": f"python-env generate --seed {seed}"
        + (f" --count {count}" if count is not None else ""),
    }
    manifest = write_dataset(out, splits, manifest)
    return Result(manifest, time.perf_counter() - started, done, statuses)


def main() -> None:  # pragma: no cover - debugging entry point
    result = generate(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    print(result.tasks, f"{result.rate:.1f}/s")
