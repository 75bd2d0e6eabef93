"""``eval --ray``: Ray actors, each with its own embedded server, score every episode as a local
run does; the episodes of an actor that died fail apart from the scores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from python_env.agents.evaluation import plan_episodes
from python_env.agents.report import build_report
from python_env.cli import main
from python_env.tasks.catalog import default_catalog
from tests.ray_helpers import local_ray, needs_ray

pytestmark = needs_ray


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    yield from local_ray(num_cpus=2)


def scored(report: dict) -> list[tuple[str, int, float]]:  # type: ignore[type-arg]
    return [(e["task_id"], e["seed"], e["score"]) for e in report["episodes"]]


def test_ray_run_scores_each_episode_as_the_local_run(
    server_url: str, tmp_path: Path, ray_cluster: object
) -> None:
    common = ["eval", "--agent", "oracle", "--split", "curated", "--limit", "6", "--quiet",
              "--no-plot", "--concurrency", "4"]  # fmt: skip
    assert main([*common, "--url", server_url, "--out", str(tmp_path / "local.json")]) == 0
    assert main([*common, "--ray", "--out", str(tmp_path / "ray.json")]) == 0
    local, ray = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    assert scored(ray) == scored(local) and len(scored(ray)) == 6
    assert ray.keys() == local.keys() and ray["server"] == "embedded"
    assert ray["aggregate"].keys() == local["aggregate"].keys()
    assert ray["aggregate"]["overall"]["errors"] == 0 and ray["run"]["concurrency"] == 4


def test_episodes_of_a_dead_actor_fail_and_stay_out_of_the_mean(ray_cluster: object) -> None:
    import ray

    from python_env.agents.ray_eval import EvalActor, play_on
    from python_env.ray_support import Actors

    episodes = plan_episodes(default_catalog().infos("curated"), 6)
    pool = Actors(EvalActor, 2, "oracle", {}, 2)
    try:
        ray.kill(pool.handles[1])
        stats = play_on(pool, "oracle", episodes, sessions=2)
    finally:
        pool.close()
    assert [(r.task_id, r.seed) for r in stats.results] == [(e.task.id, e.seed) for e in episodes]
    failed = [r for r in stats.results if r.error is not None]
    assert failed and stats.errors == len(failed) < 6 and pool.dead == {1}
    assert all(r.error.startswith(("ActorDiedError", "RayActorError")) for r in failed)
    overall = build_report("oracle", "curated", "embedded", stats)["aggregate"]["overall"]
    assert overall["completed"] == 6 - len(failed) and overall["errors"] == len(failed)
    assert overall["mean_score"] == pytest.approx(1.0)  # over the completed episodes only
