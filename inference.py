"""Baseline inference for python_env, following the OpenEnv hackathon ``inference.py`` contract.

An LLM behind any OpenAI-compatible endpoint plays python_env tasks through the OpenEnv client. The
model sees only the observation; nothing here reads the hidden answer key or reference fix.

Environment variables:
    API_BASE_URL   LLM endpoint (default https://router.huggingface.co/v1)
    MODEL_NAME     model (default Qwen/Qwen2.5-72B-Instruct)
    HF_TOKEN       API key (API_KEY or OPENAI_API_KEY are accepted too)
    ENV_BASE_URL   a running python_env server, e.g. http://127.0.0.1:8000
    LOCAL_IMAGE_NAME  a python_env Docker image to start instead (OpenEnv from_docker_image)
                   With neither set, a server is started on 127.0.0.1 for the run.
    TASK_NAME      comma-separated task ids (default: one easy, one medium, one hard task)

stdout carries exactly the contract lines, per task::

    [START] task=<id> env=python_env model=<model>
    [STEP] step=<n> action=<action> reward=<0.00> done=<true|false> error=<msg|null>
    [END] success=<true|false> steps=<n> score=<0.000> rewards=<r1,r2,...>

``[END]`` is printed for every ``[START]``, also when something fails; diagnostics go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator

from python_env.agents.base import Transition, play_episode
from python_env.agents.llm import LLMConfig, LLMPolicy
from python_env.client import PythonEnv
from python_env.config import DEFAULT_LLM_BASE_URL, DEFAULT_LLM_MODEL
from python_env.errors import AgentUnavailable

API_BASE_URL = os.getenv("API_BASE_URL") or DEFAULT_LLM_BASE_URL
MODEL_NAME = os.getenv("MODEL_NAME") or DEFAULT_LLM_MODEL
API_KEY = os.getenv("HF_TOKEN") or os.getenv("API_KEY") or os.getenv("OPENAI_API_KEY")
ENV_BASE_URL = os.getenv("ENV_BASE_URL")
LOCAL_IMAGE_NAME = os.getenv("LOCAL_IMAGE_NAME")
BENCHMARK = "python_env"
DEFAULT_TASKS = ("userstore-sqlite-lookup", "webhook-signature-verifier", "token-bucket-refill")
TASKS = [t.strip() for t in (os.getenv("TASK_NAME") or ",".join(DEFAULT_TASKS)).split(",")]
SUCCESS_SCORE_THRESHOLD = 0.5
TEMPERATURE = float(os.getenv("TEMPERATURE") or 0.0)
MAX_TOKENS = int(os.getenv("MAX_TOKENS") or 4096)


def log(message: str) -> None:
    print(f"[inference] {message}", file=sys.stderr, flush=True)


def one_line(text: str) -> str:
    return " ".join(text.split())


def log_start(task: str, env: str, model: str) -> None:
    print(f"[START] task={task} env={env} model={model}", flush=True)


def log_step(step: int, action: str, reward: float, done: bool, error: str | None) -> None:
    error_val = one_line(error) if error else "null"
    print(
        f"[STEP] step={step} action={action} reward={reward:.2f} "
        f"done={str(done).lower()} error={error_val}",
        flush=True,
    )


def log_end(success: bool, steps: int, score: float, rewards: list[float]) -> None:
    rewards_str = ",".join(f"{r:.2f}" for r in rewards)
    print(
        f"[END] success={str(success).lower()} steps={steps} score={score:.3f} "
        f"rewards={rewards_str}",
        flush=True,
    )


@contextlib.contextmanager
def environment_url() -> Iterator[str | None]:
    """ENV_BASE_URL, else None (Docker image), else a server started on 127.0.0.1 for the run."""
    if ENV_BASE_URL:
        yield ENV_BASE_URL.rstrip("/")
    elif LOCAL_IMAGE_NAME:
        yield None
    else:
        from python_env.agents.launcher import embedded_server

        log("ENV_BASE_URL is not set: starting a python_env server on 127.0.0.1")
        with embedded_server(max_concurrent_envs=4) as url:
            yield url


@contextlib.asynccontextmanager
async def connect(url: str | None) -> AsyncIterator[PythonEnv]:
    if url is None:
        assert LOCAL_IMAGE_NAME
        env = await PythonEnv.from_docker_image(LOCAL_IMAGE_NAME)
    else:
        env = PythonEnv(base_url=url)
    async with env:
        yield env


async def run_task(url: str | None, task_id: str, config: LLMConfig, seed: int) -> str:
    """Play one task with [START]/[STEP]/[END] logs; returns "ok", "failed" or "no-llm"."""
    log_start(task=task_id, env=BENCHMARK, model=MODEL_NAME)
    rewards: list[float] = []
    score, success, outcome = 0.0, False, "failed"

    def on_turn(turn: Transition) -> None:
        rewards.append(turn.reward)
        log_step(len(rewards), turn.action_label(), turn.reward, turn.done, turn.error)

    policy = LLMPolicy(seed, config)
    try:
        async with connect(url) as env:
            result = await play_episode(env, policy, {"task_id": task_id}, seed, on_turn)
        score, outcome = result.score, "ok"
        success = score >= SUCCESS_SCORE_THRESHOLD
    except AgentUnavailable as exc:
        log(f"no usable LLM endpoint: {exc}")
        outcome = "no-llm"
    except ConnectionError as exc:
        log(f"cannot reach the python_env server ({url or LOCAL_IMAGE_NAME}): {exc}")
    except Exception as exc:  # the contract wants [END] whatever happened
        log(f"task {task_id} failed: {type(exc).__name__}: {exc}")
    finally:
        await policy.close()
        log_end(success=success, steps=len(rewards), score=score, rewards=rewards)
    return outcome


async def main() -> int:
    if not API_KEY:
        log("no HF_TOKEN / API_KEY / OPENAI_API_KEY set; trying the endpoint without a key")
    config = LLMConfig(
        base_url=API_BASE_URL,
        model=MODEL_NAME,
        api_key=API_KEY or "no-key",
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
    )
    failed = 0
    try:
        with environment_url() as url:
            for seed, task_id in enumerate(TASKS):
                outcome = await run_task(url, task_id, config, seed)
                failed += outcome != "ok"
                if outcome == "no-llm":
                    log(f"stopping: check API_BASE_URL={API_BASE_URL} and MODEL_NAME={MODEL_NAME}")
                    break
    except Exception as exc:  # e.g. the embedded server could not start
        log(f"cannot start the environment: {exc}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
