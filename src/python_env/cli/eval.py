"""``python-env eval``: run an agent on a split in parallel sessions; write a JSON report + plot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``eval`` and ``rollouts``: agent, tasks, server, concurrency, LLM."""
    from python_env.agents import AGENTS

    parser.add_argument("--agent", choices=AGENTS, default="heuristic", help="agent to run")
    parser.add_argument("--split", default="curated", help="task split (default: curated)")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="episodes to run, cycling over the split's tasks (default: each once)",
    )
    parser.add_argument("--kind", default=None, help="only tasks of this kind")
    parser.add_argument("--difficulty", default=None, help="only tasks of this difficulty")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel sessions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument(
        "--url",
        default=None,
        help="a running server (default: start one on 127.0.0.1 and stop it after)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    llm = parser.add_argument_group("llm agent (defaults from API_BASE_URL, MODEL_NAME, HF_TOKEN)")
    llm.add_argument("--llm-url", default=None, help="OpenAI-compatible base URL")
    llm.add_argument("--model", default=None, help="model name")
    llm.add_argument("--temperature", type=float, default=0.0)
    llm.add_argument("--max-tokens", type=int, default=4096)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("eval", help=__doc__, description=__doc__)
    add_agent_options(parser)
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON report (default: eval-<agent>-<split>.json)"
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="PNG score histogram (default: the report's path with .png)",
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.set_defaults(handler=run)


def agent_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.agent != "llm":
        return {}
    import dataclasses

    from python_env.agents.llm import LLMConfig
    from python_env.config import Settings

    config = LLMConfig.from_settings(Settings.from_env().llm)
    config = dataclasses.replace(
        config,
        base_url=args.llm_url or config.base_url,
        model=args.model or config.model,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
    )
    return {"config": config}


@contextmanager
def server_url(args: argparse.Namespace) -> Iterator[str]:
    """``--url`` as given, or an embedded server sized for ``--concurrency`` sessions."""
    if args.url:
        yield args.url.rstrip("/")
        return
    from python_env.agents.launcher import embedded_server

    with embedded_server(max_concurrent_envs=max(64, args.concurrency)) as url:
        yield url


def select_episodes(args: argparse.Namespace, url: str) -> list[Any]:
    from python_env.agents.evaluation import plan_episodes
    from python_env.agents.launcher import list_tasks
    from python_env.errors import TaskNotFound

    tasks = [
        t
        for t in list_tasks(url, args.split)
        if (args.kind is None or args.kind in t.kinds)
        and (args.difficulty is None or t.difficulty == args.difficulty)
    ]
    if not tasks:
        raise TaskNotFound(f"no task of split {args.split!r} matches the filters")
    return plan_episodes(tasks, args.limit, args.seed)


def execute(args: argparse.Namespace, url: str, on_result: Any = None) -> Any:
    """Play the selected episodes with a progress bar; returns the run's ``RunStats``."""
    from tqdm import tqdm

    from python_env.agents import make_factory
    from python_env.agents.evaluation import run_episodes

    episodes = select_episodes(args, url)
    factory = make_factory(args.agent, **agent_options(args))
    with tqdm(total=len(episodes), desc=args.agent, unit="ep", disable=args.quiet) as bar:
        scores: list[float] = []

        def progress(result: Any) -> None:
            scores.append(result.score)
            bar.set_postfix(mean=f"{sum(scores) / len(scores):.3f}", refresh=False)
            bar.update()
            if on_result is not None:
                on_result(result)

        return asyncio.run(
            run_episodes(url, args.agent, factory, episodes, args.concurrency, on_result=progress)
        )


def run(args: argparse.Namespace) -> int:
    from python_env.agents.report import build_report, plot_scores, side_by_side
    from python_env.errors import AgentUnavailable

    if args.concurrency < 1:
        print("python-env: error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        with server_url(args) as url:
            stats = execute(args, url)
    except AgentUnavailable as exc:
        print(f"python-env: error: {exc}", file=sys.stderr)
        return 2
    extra: dict[str, Any] = {"uses_answer_key": args.agent == "oracle"}
    if args.agent == "llm":
        config = agent_options(args)["config"]
        extra |= {"model": config.model, "llm_url": config.base_url, "label": f"llm:{config.model}"}
    report = build_report(args.agent, args.split, args.url or "embedded", stats, extra)
    out: Path = args.out or Path(f"eval-{args.agent}-{args.split}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    import json

    out.write_text(json.dumps(report, indent=1) + "\n")
    print(side_by_side([report]))
    print(
        f"\n{stats.episodes} episodes ({stats.errors} errors) in {stats.wall_s:.1f}s with "
        f"{stats.concurrency} sessions: {stats.episodes_per_s:.2f} episodes/s\nreport: {out}"
    )
    if not args.no_plot:
        plot = plot_scores([report], args.plot or out.with_suffix(".png"))
        print(f"plot: {plot}")
    return 1 if stats.errors == stats.episodes else 0
