"""``python-env eval``: run an agent on a split in parallel sessions; write a JSON report + plot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from python_env.cli.help import at_least, choice, command, refuse_overwrite


class JoinURLs(argparse.Action):
    """``--url`` given again adds replicas; ``args.url`` stays one string, comma-separated."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        given = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, f"{given},{values}" if given else values)


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``eval`` and ``rollouts``: agent, tasks, server, concurrency, LLM."""
    from python_env.agents import AGENTS
    from python_env.types import Category, Difficulty, TaskKind, TaskSetting

    def values(enum: Any) -> list[str]:
        return [member.value for member in enum]

    parser.add_argument(
        "--agent", type=choice(list(AGENTS), "agent"), default="heuristic",
        help=f"agent to run: {', '.join(AGENTS)}",
    )  # fmt: skip
    parser.add_argument("--split", default="curated", help="task split: curated, train or test")
    parser.add_argument(
        "--limit", type=at_least(1), default=None,
        help="episodes to run (default: each matching task once); more than the matching "
        "tasks: cycling over them; fewer: the first N, or with --repo or --setting N tasks "
        "spread evenly over the split's listing (so over every project)",
    )  # fmt: skip
    parser.add_argument(
        "--setting", type=choice(values(TaskSetting), "setting"), action="append", default=None,
        help="only tasks in this setting (repeat for several): "
        f"{', '.join(values(TaskSetting))} (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--repo", action="store_true",
        help="repository tasks: the split's listed tasks in the repository and pull_request "
        "settings (--setting repository --setting pull_request), each reset by its id",
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
        "--url", default=None, action=JoinURLs,
        help="a running server, e.g. http://127.0.0.1:8000; repeat it (or separate URLs with "
        "commas) to spread the sessions over several replicas (default: start one on 127.0.0.1 "
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
    summary = "run an agent on a split; write a JSON report and a plot"
    parser = command(sub, "eval", summary, __doc__)
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
    parser.add_argument(
        "--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
        help="play on Ray actors, each with its own embedded server (extra: ray): alone, on a "
        "local Ray instance; auto or HOST:PORT: one actor per node of that cluster; "
        "ray://HOST:PORT through Ray Client (needs ray[client])",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def check_capacity(args: argparse.Namespace, url: str, sessions: int) -> None:
    """Refuse to open more ``sessions`` than the servers at ``url`` (comma-separated replicas)
    hold together; of several, one that does not answer is left out (the others get its share)."""
    from python_env.agents.launcher import session_limit
    from python_env.errors import InvalidRequest, ServerUnreachable
    from python_env.pool import split_urls

    urls = split_urls(url)
    limits: dict[str, int | None] = {}
    for one in urls:
        try:
            limits[one] = session_limit(one)
        except ServerUnreachable as exc:
            if len(urls) == 1:
                raise
            print(f"python-env: {exc}; the other replicas take its sessions", file=sys.stderr)
    if not limits:
        raise ServerUnreachable(f"no python_env server answers at {url}")
    unstated = [one for one, limit in limits.items() if limit is None]
    if unstated:
        print(
            f"python-env: {', '.join(unstated)} does not state its session limit; not checked",
            file=sys.stderr,
        )
        return
    limit = sum(n or 0 for n in limits.values())
    where = (
        f"the server at {next(iter(limits))} holds (its MAX_CONCURRENT_ENVS)"
        if len(limits) == 1
        else f"the {len(limits)} replicas hold together (their MAX_CONCURRENT_ENVS)"
    )
    if sessions > limit and not args.oversubscribe:
        raise InvalidRequest(
            f"--concurrency {sessions} is above the {limit} sessions {where}: the extra "
            "sessions would only wait for a free slot. Lower --concurrency, start the "
            "server with a larger MAX_CONCURRENT_ENVS, or pass --oversubscribe.",
            field="concurrency",
        )


def agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """What ``make_factory`` gives the agent: the llm's endpoint and sampling; the oracle's
    store of repository tasks (the one an embedded server serves: the same settings)."""
    if args.agent not in ("llm", "oracle"):
        return {}
    import dataclasses

    from python_env.agents.llm import LLMConfig
    from python_env.config import Settings

    settings = Settings.from_env()
    if args.agent == "oracle":
        return {"repo_tasks_dir": settings.catalog.repo_tasks_dir}
    config = LLMConfig.from_settings(settings.llm)
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
    """``--url`` (``http://`` added if it has no scheme; several replicas comma-separated), or
    an embedded server sized for ``--concurrency`` sessions."""
    if args.url:
        from python_env.pool import split_urls

        yield ",".join(split_urls(args.url))
        return
    from python_env.agents.launcher import embedded_server

    with embedded_server(max_concurrent_envs=max(64, args.concurrency)) as url:
        yield url


def list_replica_tasks(url: str, split: str) -> list[Any]:
    """The tasks of ``split``, from the first of the replicas in ``url`` that answers."""
    from python_env.agents.launcher import list_tasks
    from python_env.errors import ServerUnreachable
    from python_env.pool import split_urls

    *others, last = split_urls(url)
    for one in others:
        with suppress(ServerUnreachable):
            return list_tasks(one, split)
    return list_tasks(last, split)


REPO_SETTINGS = ("repository", "pull_request")


def wanted_settings(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The settings ``--setting`` and ``--repo`` ask for, in ``TaskSetting`` order (None: all);
    ``--repo`` with ``--setting file`` is refused."""
    from python_env.errors import InvalidRequest
    from python_env.types import TaskSetting

    given = set(args.setting or ())
    if args.repo:
        if "file" in given:
            raise InvalidRequest(
                "--repo plays repository tasks (settings repository and pull_request): it "
                "cannot be given with --setting file",
                field="setting",
            )
        given = given or set(REPO_SETTINGS)
    return tuple(s.value for s in TaskSetting if s.value in given) if given else None


def select_episodes(args: argparse.Namespace, url: str) -> list[Any]:
    """The episodes to play: the split's listed tasks that match the filters (``--setting``,
    ``--repo``, ``--kind``, ``--difficulty``, ``--category``), each once, or ``--limit`` of them:
    cycling, or fewer (the first ones, or with a setting filter a sample spread over the listing).
    """
    from python_env.agents.evaluation import plan_episodes
    from python_env.errors import TaskNotFound

    settings = wanted_settings(args)
    tasks = [
        t
        for t in list_replica_tasks(url, args.split)
        if (settings is None or t.setting in settings)
        and (args.kind is None or args.kind in t.kinds)
        and (args.difficulty is None or t.difficulty == args.difficulty)
        and (args.category is None or args.category in t.categories)
    ]
    if not tasks:
        if settings is not None and set(settings) & set(REPO_SETTINGS):
            raise TaskNotFound(
                f"no repository task of split {args.split!r} (settings {', '.join(settings)}) "
                "matches the filters: the server serves repository tasks from the store "
                "PYTHON_ENV_REPO_TASKS_DIR names (is it set, and does its store hold this split?)"
            )
        raise TaskNotFound(f"no task of split {args.split!r} matches the filters")
    return plan_episodes(tasks, args.limit, args.seed, spread=settings is not None)


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

    settings = wanted_settings(args)  # a contradiction is refused before any server starts
    suffix = "-repo" if args.repo else "".join(f"-{s}" for s in settings or ())
    out: Path = args.out or Path(f"eval-{args.agent}-{args.split}{suffix}.json")
    plot: Path | None = None if args.no_plot else (args.plot or out.with_suffix(".png"))
    refuse_overwrite(args, out, *([plot] if plot else []))
    if args.ray is not None:
        from functools import partial

        from python_env.agents.ray_eval import evaluate_on_ray
        from python_env.errors import InvalidRequest

        if args.url:
            raise InvalidRequest("--ray starts its own servers: give --ray or --url, not both")
        stats = evaluate_on_ray(args.ray, args.agent, agent_options(args),
                                partial(select_episodes, args), args.concurrency,
                                args.capacity_wait, quiet=args.quiet)  # fmt: skip
    else:
        with server_url(args) as url:
            stats = execute(args, url)
    extra: dict[str, Any] = {"uses_answer_key": args.agent == "oracle", "repo": args.repo,
                             "settings": list(settings) if settings else None}  # fmt: skip
    if args.agent == "llm":
        config = agent_options(args)["config"]
        extra |= {"model": config.model, "llm_url": config.base_url, "label": f"llm:{config.model}"}
    extra["replicas"] = stats.replicas  # per replica: sessions opened, refused, failed, lost
    report = build_report(args.agent, args.split, url if args.url else "embedded", stats, extra)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(side_by_side([report]))
    overall = report["aggregate"]["overall"]
    played = len({r.task_id for r in stats.results})
    where = f"split {args.split!r}" + (f", settings {', '.join(settings)}" if settings else "")
    print(
        f"\n{stats.episodes} episodes of {played} distinct tasks ({where}): "
        f"{overall['completed']} completed, {stats.errors} failed, "
        f"in {stats.wall_s:.1f}s with {stats.concurrency} sessions "
        f"({stats.episodes_per_s:.2f} episodes/s)\nreport: {out}"
    )
    if len(stats.replicas) > 1:
        print("replicas: " + "; ".join(
            f"{u} {r['opened']} sessions, {r['refusals']} refused, {r['failures']} failed "
            f"connects, {r['lost']} lost{' (down)' if r['down'] else ''}"
            for u, r in stats.replicas.items()
        ))  # fmt: skip
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
