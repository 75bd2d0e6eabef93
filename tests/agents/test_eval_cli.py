"""``python-env eval``, ``report`` and ``rollouts`` end to end, against real servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_env.agents.evaluation import plan_episodes
from python_env.agents.launcher import server_process
from python_env.agents.prompting import REPO_SYSTEM_PROMPT
from python_env.cli import main
from python_env.client import PythonEnv
from python_env.tasks.catalog import default_catalog
from tests.agents.conftest import RepoServer
from tests.repo_helpers import CLEAN_PR, EMPTY_MEAN, EVAL_PR, PLANTED_PR, SIGN

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_eval(server_url: str, agent: str, out: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    argv = ["eval", "--agent", agent, "--url", server_url, "--out", str(out), "--quiet", *extra]
    assert main(argv) == 0
    return json.loads(out.read_text())


def test_eval_writes_a_report_and_a_plot(server_url: str, tmp_path: Path) -> None:
    report = run_eval(
        server_url, "oracle", tmp_path / "oracle.json", "--limit", "8", "--concurrency", "4"
    )
    assert report["agent"] == "oracle" and report["uses_answer_key"] is True
    assert report["split"] == "curated" and report["run"]["episodes"] == 8
    assert report["run"]["concurrency"] == 4 and report["run"]["episodes_per_s"] > 0
    curated = [t.id for t in default_catalog().infos("curated")]
    assert [e["task_id"] for e in report["episodes"]] == curated[:8]
    overall = report["aggregate"]["overall"]
    assert overall["mean_score"] == pytest.approx(1.0) and overall["solved"] == 8
    assert overall["errors"] == 0 and overall["invalid_rate"] == 0.0
    for episode in report["episodes"]:
        assert episode["score"] == pytest.approx(episode["reward_sum"], abs=1e-5)
        assert episode["steps"] >= 2 and episode["wall_s"] > 0
    by_kind = report["aggregate"]["by_kind"]
    assert set(by_kind) <= {"review", "repair", "optimize"} and by_kind
    assert sum(g["episodes"] for g in report["aggregate"]["by_difficulty"].values()) == 8
    reviewed = [e for e in report["episodes"] if e["findings"] is not None]
    assert reviewed and all(e["findings"]["f1"] == pytest.approx(1.0) for e in reviewed)
    assert (tmp_path / "oracle.png").read_bytes().startswith(PNG_MAGIC)


def test_limit_cycles_over_the_split_and_report_compares(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = len(default_catalog().infos("curated"))
    random_report = run_eval(
        server_url, "random", tmp_path / "r.json", "--limit", str(n + 2), "--no-plot"
    )
    rows = random_report["episodes"]
    assert len(rows) == n + 2 and rows[n]["task_id"] == rows[0]["task_id"]
    assert rows[n]["seed"] == n  # repeats get new seeds
    assert not (tmp_path / "r.png").exists()
    run_eval(server_url, "oracle", tmp_path / "o.json", "--kind", "optimize", "--no-plot")
    capsys.readouterr()

    plot = tmp_path / "both.png"
    files = [str(tmp_path / "r.json"), str(tmp_path / "o.json")]
    assert main(["report", *files, "--plot", str(plot)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| metric | random | oracle |"
    mean_row = next(line for line in table if line.startswith("| mean score (completed) |"))
    assert mean_row.endswith("| 1.000 |")
    assert any(line.startswith("| score: kind optimize |") for line in table)
    assert plot.read_bytes().startswith(PNG_MAGIC)


def test_unknown_split_lists_the_servers_splits(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", "--url", server_url, "--split", "nope", "--out", str(tmp_path / "x.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no split 'nope'" in err and "curated" in err


def test_report_refuses_a_file_that_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    assert main(["report", str(bogus)]) == 2
    assert "not a python-env eval report" in capsys.readouterr().err


def test_eval_starts_its_own_server_when_no_url_is_given(tmp_path: Path) -> None:
    out = tmp_path / "h.json"
    argv = ["eval", "--agent", "heuristic", "--limit", "3", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["server"] == "embedded" and report["run"]["episodes"] == 3
    assert report["aggregate"]["overall"]["errors"] == 0


def test_rollouts_export_trajectories_as_jsonl(server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "traj.jsonl"
    argv = ["rollouts", "--agent", "oracle", "--url", server_url, "--limit", "4", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    episodes: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for line in lines:
        assert {"observation", "action", "reward", "done", "prompt", "completion"} <= set(line)
        episodes.setdefault(line["episode"], []).append(line)
    assert len(episodes) == 4
    for turns in episodes.values():
        assert [t["step"] for t in turns] == list(range(1, len(turns) + 1))
        assert [t["done"] for t in turns] == [False] * (len(turns) - 1) + [True]
        assert sum(t["reward"] for t in turns) == pytest.approx(turns[-1]["episode_score"])
        assert turns[0]["observation"]["task"]["id"] == turns[0]["task_id"]
        assert json.loads(turns[-1]["completion"]) == {"kind": "submit"}
        assert "   1 | " in turns[0]["prompt"]


def test_rollouts_can_keep_only_good_episodes(server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "good.jsonl"
    argv = ["rollouts", "--agent", "random", "--url", server_url, "--limit", "3", "--quiet"]
    assert main([*argv, "--min-score", "0.5", "--out", str(out)]) == 0
    assert out.read_text() == ""  # random play never scores 0.5 on these tasks


def test_a_full_server_costs_only_the_overflow_and_refusals_fail_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """More sessions than the server holds (asked for): the extra ones wait for a slot and every
    episode is played; episodes no session could start are failures, counted apart, not 0s."""
    env = {"PYTHON_ENV_SANDBOX_WORKERS": "1"}
    with server_process(max_concurrent_envs=1, timeout_s=60, env=env) as (url, _proc):
        base = ["eval", "--agent", "random", "--url", url, "--limit", "6", "--quiet", "--no-plot"]
        assert main([*base, "--concurrency", "3", "--out", str(tmp_path / "x.json")]) == 2
        assert "above the 1 sessions" in capsys.readouterr().err  # refused before starting
        jsonl = tmp_path / "refused.jsonl"
        rollouts = ["rollouts", "--url", url, "--concurrency", "3", "--out", str(jsonl)]
        assert main(rollouts) == 2 and not jsonl.exists()  # no empty file left behind
        out = tmp_path / "over.json"
        argv = [*base, "--concurrency", "3", "--oversubscribe", "--out", str(out)]
        assert main(argv) == 0
        overall = json.loads(out.read_text())["aggregate"]["overall"]
        assert (overall["completed"], overall["errors"]) == (6, 0)
        with PythonEnv(base_url=url).sync() as holder:  # another client takes the one slot
            holder.reset(seed=0)
            refused = [*argv[:-1], str(tmp_path / "refused.json"), "--capacity-wait", "1"]
            assert main(refused) == 1
            assert "failed" in capsys.readouterr().err
            overall = json.loads((tmp_path / "refused.json").read_text())["aggregate"]["overall"]
            assert (overall["completed"], overall["errors"]) == (0, 6)
            assert overall["error_kinds"] == {"ServerAtCapacity": 6}
            again = [*refused[:-3], str(tmp_path / "again.json"), "--capacity-wait", "1"]
            assert main([*again, "--allow-errors"]) == 1  # allowed errors, but nothing done
            assert "no episode completed" in capsys.readouterr().err


def test_outputs_are_never_overwritten_without_force(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kept.json"
    out.write_text("precious")
    argv = ["eval", "--url", server_url, "--limit", "1", "--out", str(out), "--no-plot", "--quiet"]
    assert main(argv) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "precious"
    assert main([*argv, "--force"]) == 0 and out.read_text() != "precious"
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("kept\n")
    rollouts = ["rollouts", "--url", server_url, "--limit", "1", "--quiet", "--out", str(jsonl)]
    assert main(rollouts) == 2 and jsonl.read_text() == "kept\n"


def test_a_url_without_a_scheme_is_taken_as_http(server_url: str, tmp_path: Path) -> None:
    bare = server_url.removeprefix("http://")
    out = tmp_path / "bare.json"
    argv = ["eval", "--url", bare, "--limit", "1", "--out", str(out), "--no-plot", "--quiet"]
    assert main(argv) == 0 and json.loads(out.read_text())["run"]["episodes"] == 1


def test_an_older_report_is_read_with_its_failures_counted_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = {"task_id": "t", "seed": 0, "kinds": ["review"], "difficulty": "easy",
           "categories": ["bug"], "score": 1.0, "reward_sum": 1.0, "steps": 2,
           "invalid_actions": 0, "components": {"review": 1.0}, "findings": None, "tests": None,
           "wall_s": 0.1, "error": None}  # fmt: skip
    failed = row | {"score": 0.0, "reward_sum": 0.0, "error": "RuntimeError: lost"}
    old = {"agent": "x", "split": "curated", "aggregate": {"overall": {"mean_score": 0.5}},
           "episodes": [row, failed]}  # fmt: skip
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    assert main(["report", str(path)]) == 0
    table = capsys.readouterr().out
    assert "| completed | 1 |" in table and "| mean score (completed) | 1.000 |" in table
    assert "| error kinds | RuntimeError: 1 |" in table


def test_eval_repo_plays_each_listed_repository_task_once(
    repo_server: RepoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The oracle reads the store the settings name, as the server it plays against does.
    monkeypatch.setenv("PYTHON_ENV_REPO_TASKS_DIR", str(repo_server.store))
    common = ("--repo", "--split", "train", "--no-plot")
    oracle = run_eval(repo_server.url, "oracle", tmp_path / "o.json", *common)
    assert oracle["repo"] is True and oracle["split"] == "train"
    assert oracle["settings"] == ["repository", "pull_request"]
    rows = oracle["episodes"]  # the listing's order; none of train's single-file tasks
    assert [(r["task_id"], r["seed"]) for r in rows] == [(EVAL_PR.id, 0), (SIGN.id, 1)]
    assert oracle["run"]["tasks"] == 2
    overall = oracle["aggregate"]["overall"]
    assert overall["mean_score"] == pytest.approx(1.0) and overall["errors"] == 0
    random = run_eval(repo_server.url, "random", tmp_path / "r.json", *common)
    assert [r["task_id"] for r in random["episodes"]] == [r["task_id"] for r in rows]
    assert random["aggregate"]["overall"]["mean_score"] < 0.2
    jsonl = tmp_path / "o.jsonl"
    argv = ["rollouts", "--agent", "oracle", "--url", repo_server.url, "--quiet", *common[:-1]]
    assert main([*argv, "--limit", "1", "--out", str(jsonl)]) == 0
    turns = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert turns and {t["task_id"] for t in turns} == {EVAL_PR.id}
    assert all(t["system"] == REPO_SYSTEM_PROMPT for t in turns)
    assert "Repository: calc 1.0, 7 files" in turns[0]["prompt"]


def test_a_setting_filter_and_limit_give_a_spread_sample_or_cycle(
    repo_server: RepoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("--agent", "heuristic", "--url", repo_server.url, "--quiet", "--no-plot")
    out = tmp_path / "one.json"
    argv = ["eval", *base, "--setting", "pull_request", "--split", "review", "--limit", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["repo"] is False and report["settings"] == ["pull_request"]
    assert [r["task_id"] for r in report["episodes"]] == [CLEAN_PR.id]  # index 0 of 2
    assert "1 episodes of 1 distinct tasks (split 'review', settings pull_request)" in (
        capsys.readouterr().out
    )
    out = tmp_path / "cycle.json"
    argv = ["eval", *base, "--repo", "--split", "review", "--limit", "3", "--out", str(out)]
    assert main(argv) == 0
    rows = json.loads(out.read_text())["episodes"]
    assert [(r["task_id"], r["seed"]) for r in rows] == [
        (CLEAN_PR.id, 0), (PLANTED_PR.id, 1), (CLEAN_PR.id, 2)
    ]  # fmt: skip
    assert "3 episodes of 2 distinct tasks" in capsys.readouterr().out


def test_a_spread_sample_takes_evenly_spaced_tasks_of_the_listing() -> None:
    infos = [t.info for t in (SIGN, EVAL_PR, EMPTY_MEAN, PLANTED_PR, CLEAN_PR)]
    names = [f"{p}-{n}" for p in "abc" for n in (1, 2, 3)]  # grouped by project, as listed
    listing = [infos[0].model_copy(update={"id": name}) for name in names]
    picked = plan_episodes(listing, 3, seed=5, spread=True)
    assert [(e.task_id, e.seed) for e in picked] == [("a-1", 5), ("b-1", 6), ("c-1", 7)]
    assert [e.task_id for e in plan_episodes(listing, 3, seed=5)] == ["a-1", "a-2", "a-3"]
    sample = plan_episodes(listing, 6, spread=True)  # indices floor(i * 9 / 6)
    assert [e.task_id for e in sample] == ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"]
    assert [e.task_id for e in plan_episodes(infos, 7, spread=True)][5:] == [SIGN.id, EVAL_PR.id]
    assert plan_episodes(infos, None, spread=True) == plan_episodes(infos, None)
    assert plan_episodes(infos[:2], None)[1].reset_options() == {"task_id": EVAL_PR.id}


def test_eval_refuses_contradicting_settings_and_a_split_without_repository_tasks(
    repo_server: RepoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", "--url", repo_server.url, "--quiet", "--no-plot"]
    both = ["--url", repo_server.url, "--quiet", "--repo", "--setting", "file"]
    assert main(["eval", *both, "--out", str(tmp_path / "a.json")]) == 2
    assert "cannot be given with --setting file" in capsys.readouterr().err
    assert main(["rollouts", *both, "--out", str(tmp_path / "a.jsonl")]) == 2
    assert "cannot be given with --setting file" in capsys.readouterr().err
    curated = [*argv, "--repo", "--split", "curated", "--out", str(tmp_path / "b.json")]
    assert main(curated) == 2
    err = capsys.readouterr().err
    assert "no repository task of split 'curated'" in err and "PYTHON_ENV_REPO_TASKS_DIR" in err
    review = [*argv, "--setting", "file", "--split", "review", "--out", str(tmp_path / "c.json")]
    assert main(review) == 2
    assert "no task of split 'review' matches the filters" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # no report, no plot, no rollouts left behind
