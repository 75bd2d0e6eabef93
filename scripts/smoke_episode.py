"""Play one full episode against a running python_env server through the Python client.

Usage: ``python scripts/smoke_episode.py http://127.0.0.1:PORT``

It reads ``/health`` (sandbox tier and layers), then plays a curated review-and-repair task with
the answer key: review, edit to the reference fix, run the visible tests, submit. The server
grades it in its own sandbox, so a score of 1.0 shows that the sandbox ran the hidden tests and
they passed. Prints
``key: value`` lines (scripts/container-smoke.sh and tests/container read them); exits 1 when
the episode is not perfect.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from python_env.agents.oracle import plan_for
from python_env.client import PythonEnv
from python_env.environment.models import ActionKind, CodeReviewAction
from python_env.tasks.catalog import default_catalog

TASK_ID = "http-retry-backoff"  # review and repair: every kind of step is graded


def health(url: str) -> dict[str, object]:
    """The server's ``/health`` body, whatever its status code."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    result: dict[str, object] = json.loads(body)
    return result


def play(url: str) -> float:
    """One episode on TASK_ID with the answer key; prints each step, returns the score."""
    task = default_catalog().get(TASK_ID)
    with PythonEnv(base_url=url).sync() as env:
        result = env.reset(task_id=task.id, seed=7, episode_id="container-smoke")
        observation = result.observation
        assert observation.task is not None, observation.error
        print(f"task: {task.id}")
        plan = plan_for(task, observation.code)
        plan.insert(len(plan) - 1, CodeReviewAction(kind=ActionKind.RUN_TESTS))
        for action in plan:
            result = env.step(action)
            observation = result.observation
            extra = ""
            if action.kind == ActionKind.RUN_TESTS and observation.test_report is not None:
                verdicts = observation.test_report.verdicts
                extra = f" visible_tests_passed={sum(v.passed for v in verdicts)}/{len(verdicts)}"
            print(f"step: {action.kind.value} reward={result.reward:+.4f}{extra}")
        state = env.state()
        print(f"state: episode_id={state.episode_id} step_count={state.step_count}")
    assert result.done and observation.evaluation is not None
    return observation.evaluation.score


def main(url: str) -> int:
    """Report the sandbox, play the episode, and say whether it scored 1.0."""
    sandbox = health(url)["sandbox"]
    assert isinstance(sandbox, dict)
    print(f"sandbox tier: {sandbox['tier']}")
    print(f"sandbox layers: {' '.join(sandbox['layers'])}")
    print(f"sandbox missing: {' '.join(sandbox['missing']) or '-'}")
    score = play(url.rstrip("/"))
    print(f"score: {score:.4f}")
    return 0 if score == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
