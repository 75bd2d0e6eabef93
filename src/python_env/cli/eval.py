"""``python-env eval``: run an agent on a split in parallel sessions; write a JSON report + plot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from python_env.cli.help import Formatter, at_least, choice, plain, refuse_overwrite


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``eval`` and ``rollouts``: agent, tasks, server, concurrency, LLM."""
    from python_env.agents import AGENTS
    from python_env.types import Category, Difficulty, TaskKind

    def values(enum: Any) -> list[str]:
        return [member.value for member in enum]

    parser.add_argument(
        "--agent", type=choice(list(AGENTS), "agent"), default="heuristic",
        help=f"agent to run: {', '.join(AGENTS)}",
    )  # fmt: skip
    parser.add_argument("--split", default="curated", help="task split: curated, train or test")
    parser.add_argument(
        "--limit", type=at_least(1), default=None,
        help="episodes to run, cycling over the split's tasks (default: each task once)",
    )  # fmt: skip
    for name, enum in (("kind", TaskKind), ("difficulty", Difficulty), ("category", Category)):
        parser.add_argument(
            f"--{name}", type=choice(values(enum), name), default=None,
            help=f"only tasks with this {name}: {', '.join(values(enum))}",
        )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=at_least(1), default=16,
        help="parallel sessions (at most the server's session limit, see --oversubscribe)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument(
        "--url", default=None,
        help="a running server, e.g. http://127.0.0.1:8000 (default: start one on 127.0.0.1 "
        "sized for --concurrency, and stop it after)",
    )  # fmt: skip
    parser.add_argument(
        "--oversubscribe", action="store_true",
        help="run more sessions than the server holds (the extra ones wait for a free slot)",
    )  # fmt: skip
    parser.add_argument(
        "--capacity-wait", type=float, default=60.0, metavar="SECONDS",
        help="how long a refused session (server at capacity) keeps retrying before its "
        "episodes are left to the others; episodes no session could start fail (default: 60)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    llm = parser.add_argument_group("llm agent (defaults from API_BASE_URL, MODEL_NAME, HF_TOKEN)")
    llm.add_argument("--llm-url", default=None, help="OpenAI-compatible base URL")
    llm.add_argument("--model", default=None, help="model name")
    llm.add_argument("--temperature", type=float, default=0.0, help="sampling temperature")
    llm.add_argument("--max-tokens", type=int, default=4096, help="tokens per reply")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "eval", help="run an agent on a split; write a JSON report and a plot",
        description=plain(__doc__), formatter_class=Formatter,
    )  # fmt: skip
    add_agent_options(parser)
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON report (default: eval-<agent>-<split>.json)"
    )
    parser.add_argument(
        "--plot", type=Path, default=None,
        help="PNG: mean score ± 95%% CI overall, per kind and per category "
        "(default: the report's path with .png)",
    )  # fmt: skip
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument(
        "--allow-errors", action="store_true",
        help="exit 0 even if some episodes failed (they are still left out of the mean)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def check_capacity(args: argparse.Namespace, url: str, sessions: int) -> None:
    """Refuse to open more ``sessions`` than the server at ``url`` holds."""
    from python_env.agents.launcher import session_limit
    from python_env.errors import InvalidRequest

    limit = session_limit(url)
    if limit is None:
        print(f"python-env: {url} does not state its session limit; not checked", file=sys.stderr)
    elif sessions > limit and not args.oversubscribe:
        raise InvalidRequest(
            f"--concurrency {sessions} is above the {limit} sessions the server at {url} "
            "holds (its MAX_CONCURRENT_ENVS): the extra sessions would only wait for a free "
            "slot. Lower --concurrency, start the "
            "server with a larger MAX_CONCURRENT_ENVS, or pass --oversubscribe.",
            field="concurrency",
        )


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
    """``--url`` (``http://`` added if it has no scheme), or an embedded server sized for
    ``--concurrency`` sessions."""
    if args.url:
        from python_env.agents.launcher import normalise_url

        yield normalise_url(args.url)
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
        and (args.category is None or args.category in t.categories)
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
    if args.url:
        check_capacity(args, url, min(args.concurrency, len(episodes)))
    factory = make_factory(args.agent, **agent_options(args))
    with tqdm(total=len(episodes), desc=args.agent, unit="ep", disable=args.quiet) as bar:
        scores: list[float] = []
        failed = [0]

        def progress(result: Any) -> None:
            if result.error is None:
                scores.append(result.score)
            else:
                failed[0] += 1
            mean = f"{sum(scores) / len(scores):.3f}" if scores else "-"
            bar.set_postfix(mean=mean, errors=failed[0], refresh=False)
            bar.update()
            if on_result is not None:
                on_result(result)

        return asyncio.run(
            run_episodes(
                url,
                args.agent,
                factory,
                episodes,
                args.concurrency,
                on_result=progress,
                capacity_wait_s=args.capacity_wait,
            )
        )


def run(args: argparse.Namespace) -> int:
    import json

    from python_env.agents.report import build_report, plot_scores, side_by_side

    out: Path = args.out or Path(f"eval-{args.agent}-{args.split}.json")
    plot: Path | None = None if args.no_plot else (args.plot or out.with_suffix(".png"))
    refuse_overwrite(args, out, *([plot] if plot else []))
    with server_url(args) as url:
        stats = execute(args, url)
    extra: dict[str, Any] = {"uses_answer_key": args.agent == "oracle"}
    if args.agent == "llm":
        config = agent_options(args)["config"]
        extra |= {"model": config.model, "llm_url": config.base_url, "label": f"llm:{config.model}"}
    report = build_report(args.agent, args.split, args.url or "embedded", stats, extra)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(side_by_side([report]))
    overall = report["aggregate"]["overall"]
    print(
        f"\n{stats.episodes} episodes: {overall['completed']} completed, {stats.errors} failed, "
        f"in {stats.wall_s:.1f}s with {stats.concurrency} sessions "
        f"({stats.episodes_per_s:.2f} episodes/s)\nreport: {out}"
    )
    if plot is not None:
        print(f"plot: {plot_scores([report], plot)}")
    if stats.errors:
        kinds = ", ".join(f"{k}: {n}" for k, n in overall["error_kinds"].items())
        accepted = args.allow_errors and overall["completed"]
        verdict = "exit status 0 (--allow-errors)" if accepted else "exit status 1"
        if not overall["completed"]:
            verdict += ": no episode completed"
        elif not accepted:
            verdict += " (pass --allow-errors to accept)"
        print(
            f"python-env: {stats.errors} of {stats.episodes} episodes failed ({kinds}); the scores "
            f"are over the {overall['completed']} that completed; {verdict}",
            file=sys.stderr,
        )
        return 0 if accepted else 1
    return 0
