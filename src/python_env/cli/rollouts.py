"""``python-env rollouts``: play episodes and export the trajectories as JSONL for SFT.

One line per turn: the observation the agent saw, the rendered prompt, the action it took (and its
JSON as the completion), the reward and ``done``. Invalid turns have ``action: null``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from python_env.cli.help import command, fraction, refuse_overwrite


def register(sub: Any) -> None:
    from python_env.cli.eval import add_agent_options

    parser = command(sub, "rollouts", "play episodes and export trajectories as JSONL", __doc__)
    add_agent_options(parser)
    parser.add_argument("--out", type=Path, default=Path("rollouts.jsonl"), help="JSONL file")
    parser.add_argument(
        "--allow-errors", action="store_true", help="exit 0 even if some episodes failed"
    )
    parser.add_argument(
        "--min-score", type=fraction, default=0.0,
        help="keep only episodes scoring at least this (0..1)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def write_episode(result: Any, out: TextIO) -> int:
    """Write one episode's turns; returns the number of lines written."""
    from python_env.agents.base import action_json
    from python_env.agents.prompting import (
        invalid_line,
        outcome_line,
        render_observation,
        system_prompt,
    )

    turns = result.transitions
    original = turns[0].observation.code if turns else ""
    history: list[str] = []  # built exactly as the llm agent builds its own
    for step, t in enumerate(turns, start=1):
        row = {
            "episode": f"{result.agent}:{result.task_id}:{result.seed}",
            "task_id": result.task_id,
            "agent": result.agent,
            "step": step,
            **t.to_json(),
            "system": system_prompt(t.observation),
            "prompt": render_observation(t.observation, original, history),
            "completion": None if t.action is None else json.dumps(action_json(t.action)),
            "episode_score": result.score,
        }
        out.write(json.dumps(row) + "\n")
        if t.action is None:
            history.append(invalid_line(t.error or ""))
        elif step < len(turns):
            history.append(outcome_line(t.action_label(), turns[step].observation))
    return len(turns)


def run(args: argparse.Namespace) -> int:
    from python_env.cli.eval import execute, server_url

    refuse_overwrite(args, args.out)
    counts = {"episodes": 0, "lines": 0}
    with server_url(args) as url:  # reach (or start) the server before creating the file
        args.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with args.out.open("w") as out:

                def keep(result: Any) -> None:
                    if result.error is None and result.score >= args.min_score:
                        counts["episodes"] += 1
                        counts["lines"] += write_episode(result, out)

                stats = execute(args, url, on_result=keep)
        except BaseException:
            args.out.unlink(missing_ok=True)  # no half-written file to refuse the next run
            raise
    print(
        f"{counts['episodes']} of {stats.episodes} episodes ({counts['lines']} turns) "
        f"written to {args.out}"
    )
    if stats.errors:
        completed = stats.episodes - stats.errors
        accepted = args.allow_errors and completed > 0
        print(
            f"python-env: {stats.errors} episodes failed and were not written; "
            + ("exit status 0 (--allow-errors)" if accepted else "exit status 1"),
            file=sys.stderr,
        )
        return 0 if accepted else 1
    return 0
