"""``generate --ray``: the same build as ``runner.generate``, the sources validated by Ray actors.

Each actor holds what a local worker process holds (``runner.make_builder``: a ``Builder`` over its
own sandbox executor); ``runner.generate`` submits the sources, consumes the outcomes in source
order and writes the dataset, so the same seed gives the same bytes on either backend. Every node
needs this package (and the generator's corpora) installed, at the same versions as the driver.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from python_env.config import SandboxSettings
from python_env.ray_support import LOCAL, Actors, ray_session
from python_env.tasks.generate.corpora import Source
from python_env.tasks.generate.runner import (
    Result,
    Submit,
    default_workers,
    generate,
    make_builder,
)


class BuildActor:
    """One Ray actor: a builder over its own sandbox executor, as in a local worker process."""

    def __init__(self, seed: int, sandbox: SandboxSettings) -> None:
        self.builder = make_builder(seed, sandbox)

    def build(self, source: Source) -> Any:
        """The ``SourceOutcome`` of one source."""
        return self.builder.build(source)

    def close(self) -> None:
        """Stop the sandbox executor."""
        self.builder.executor.close()


@contextmanager
def actor_pool(seed: int, sandbox: SandboxSettings, workers: int) -> Iterator[Submit]:
    """The Ray backend of ``runner.generate``: ``workers`` actors (one CPU each)."""
    actors = Actors(BuildActor, workers, seed, sandbox)
    try:
        yield lambda source: actors.submit("build", source)
    finally:
        actors.close()


def generate_ray(
    out: Path, seed: int, workers: int | None = None, address: str = LOCAL, **options: Any
) -> Result:
    """``runner.generate(out, seed, **options)`` through Ray: on a local instance of ``workers``
    CPUs (``address`` ``"local"``; default CPU count + 1 like the local pool), or on the cluster
    at ``address`` with ``workers`` actors (default and at most: the cluster's CPUs)."""
    if address == LOCAL and workers is None:
        workers = default_workers()
    with ray_session(address, num_cpus=workers) as cluster:
        actors = min(workers or cluster.cpus, cluster.cpus)
        if workers and actors < workers:
            print(f"python-env generate: the cluster has {cluster.cpus} CPUs: {actors} actors, "
                  f"not {workers}", file=sys.stderr)  # fmt: skip
        return generate(out, seed, workers=actors, pool=actor_pool, **options)
