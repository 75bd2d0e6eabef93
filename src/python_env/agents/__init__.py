"""Agents for python_env: one ``Policy`` interface (observation in, action out), four agents.

- ``random``: valid random actions (the floor);
- ``heuristic``: ruff + bandit findings, safe autofixes, tests, submit;
- ``llm``: any OpenAI-compatible chat endpoint;
- ``oracle``: reads the answer key through a test-only path to show 1.0 is reachable.

Each plays single-file and repository tasks (``reset(repo=True)``); on a repository task it uses
the navigation actions (``list_files``, ``read_file``, ``search``, ``apply_patch``, ...).

Every agent plays through ``python_env.agents.base.play_episode``, i.e. through the client.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from python_env.errors import InvalidRequest

if TYPE_CHECKING:
    from python_env.agents.base import Policy, PolicyFactory

AGENTS = ("random", "heuristic", "oracle", "llm")


def make_factory(name: str, **options: Any) -> PolicyFactory:
    """A factory of fresh policies for agent ``name``; ``options`` go to the policy: ``config``
    (an ``LLMConfig``) for llm, ``repo_tasks_dir`` (the store the server serves, from
    ``Settings.catalog``; default the package's) for the oracle."""
    if name == "random":
        from python_env.agents.random_agent import RandomPolicy

        return RandomPolicy
    if name == "heuristic":
        from python_env.agents.heuristic import HeuristicPolicy

        return HeuristicPolicy
    if name == "oracle":
        from python_env.agents.oracle import OraclePolicy, repo_splits
        from python_env.config import DEFAULT_REPO_TASKS_DIR

        # One store for every episode: its tasks and snapshots are read once.
        repos = repo_splits(options.get("repo_tasks_dir") or DEFAULT_REPO_TASKS_DIR)
        return functools.partial(OraclePolicy, repos=repos)
    if name == "llm":
        from python_env.agents.llm import LLMConfig, LLMPolicy
        from python_env.config import Settings

        config = options.get("config") or LLMConfig.from_settings(Settings.from_env().llm)
        return functools.partial(LLMPolicy, config=config)
    raise InvalidRequest(f"unknown agent {name!r}; choose from {', '.join(AGENTS)}", field="agent")


def __getattr__(name: str) -> Any:
    # The policy types come with the client (and OpenEnv): loaded when asked for, so listing
    # the agents (every CLI command does) stays fast.
    if name in ("Policy", "PolicyFactory"):
        from python_env.agents import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AGENTS", "Policy", "PolicyFactory", "make_factory"]
