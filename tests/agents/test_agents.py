"""Every agent plays real episodes against a real server on 127.0.0.1, through the client."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys

import pytest

from python_env.agents import AGENTS, make_factory
from python_env.agents.base import EpisodeResult, run_episode
from python_env.agents.evaluation import Episode, run_episodes
from python_env.errors import InvalidRequest
from python_env.tasks.catalog import default_catalog

CURATED = [info.id for info in default_catalog().infos("curated")]


def play_all(url: str, agent: str, task_ids: list[str], seed: int = 0) -> list[EpisodeResult]:
    async def main() -> list[EpisodeResult]:
        slots = asyncio.Semaphore(8)

        async def one(i: int, task_id: str) -> EpisodeResult:
            async with slots:
                return await run_episode(url, make_factory(agent), {"task_id": task_id}, seed + i)

        return await asyncio.gather(*(one(i, t) for i, t in enumerate(task_ids)))

    return asyncio.run(main())


def assert_finished(result: EpisodeResult) -> None:
    assert result.error is None and result.done, result
    assert result.evaluation is not None
    assert result.score == pytest.approx(result.evaluation.score)
    # The rewards of an episode sum to its final score.
    assert result.reward_sum == pytest.approx(result.score, abs=1e-5)
    assert result.transitions[-1].done


def test_oracle_reaches_a_perfect_score_on_every_curated_task(server_url: str) -> None:
    results = play_all(server_url, "oracle", CURATED)
    assert [r.task_id for r in results] == CURATED
    for result in results:
        assert_finished(result)
        assert result.score == pytest.approx(1.0, abs=1e-6), result.task_id
        assert result.invalid_actions == 0


def test_random_agent_plays_valid_moves_and_scores_about_zero(server_url: str) -> None:
    results = play_all(server_url, "random", CURATED, seed=100)
    for result in results:
        assert_finished(result)
        assert result.invalid_actions == 0
    # Random findings are never valid line references past the end, so the server refuses none.
    assert all(t.error is None for r in results for t in r.transitions)
    assert statistics.fmean(r.score for r in results) < 0.05
    assert len({t.action_label().split("(")[0] for r in results for t in r.transitions}) == 4


def test_random_agent_is_reproducible_per_seed(server_url: str) -> None:
    first = play_all(server_url, "random", CURATED[:1], seed=7)[0]
    second = play_all(server_url, "random", CURATED[:1], seed=7)[0]
    labels = [t.action_label() for t in first.transitions]
    assert labels == [t.action_label() for t in second.transitions]


def test_heuristic_sits_between_random_and_oracle(server_url: str) -> None:
    results = play_all(server_url, "heuristic", CURATED)
    for result in results:
        assert_finished(result)
    mean = statistics.fmean(r.score for r in results)
    assert 0.03 < mean < 0.6
    reviewed = [r for r in results if r.evaluation and r.evaluation.review is not None]
    assert any(r.evaluation.review.f1 > 0 for r in reviewed if r.evaluation and r.evaluation.review)


def test_heuristic_reports_analyzer_findings_in_the_task_categories(server_url: str) -> None:
    (result,) = play_all(server_url, "heuristic", ["userstore-sqlite-lookup"])
    assert_finished(result)
    review = next(t for t in result.transitions if t.action and t.action.kind == "review")
    assert review.action is not None and review.action.findings
    task = default_catalog().get("userstore-sqlite-lookup")
    assert {f.category for f in review.action.findings} <= set(task.info.categories)
    assert any(f.rule_id in {"S608", "B608"} for f in review.action.findings)
    kinds = [t.action_label() for t in result.transitions]
    assert kinds[-2:] == ["run_tests()", "submit()"]  # repair task: test, then submit
    assert result.evaluation is not None and result.evaluation.components["review"] > 0


def test_agents_other_than_the_oracle_never_load_the_answer_key() -> None:
    modules = [f"python_env.agents.{m}" for m in ("random_agent", "heuristic", "llm", "base")]
    modules += ["python_env.agents.evaluation", "python_env.agents.report", "python_env.cli.eval"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('python_env.tasks')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_agent_is_refused() -> None:
    assert set(AGENTS) == {"random", "heuristic", "oracle", "llm"}
    with pytest.raises(InvalidRequest, match="unknown agent 'nope'"):
        make_factory("nope")


def test_a_failed_episode_is_recorded_and_the_run_goes_on(server_url: str) -> None:
    infos = default_catalog().infos("curated")[:2]
    ghost = infos[0].model_copy(update={"id": "no-such-task"})
    episodes = [Episode(ghost, 0), Episode(infos[0], 1), Episode(infos[1], 2)]
    seen: list[str] = []
    stats = asyncio.run(
        run_episodes(
            server_url,
            "oracle",
            make_factory("oracle"),
            episodes,
            1,
            lambda r: seen.append(r.task_id),
        )
    )
    assert seen == ["no-such-task", infos[0].id, infos[1].id]  # one session, in episode order
    failed, *rest = stats.results
    assert failed.error is not None and "no-such-task" in failed.error and not failed.done
    assert stats.errors == 1 and [r.score for r in rest] == [1.0, 1.0]
