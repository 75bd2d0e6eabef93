"""``llm``: any OpenAI-compatible chat endpoint as a policy (via the ``openai`` package).

Each turn the model gets the observation as text and must reply with one JSON action. A malformed
reply (or an HTTP error from the endpoint) is retried once with the problem explained; after that
the turn counts as an invalid action. An unreachable endpoint stops the run (``AgentUnavailable``).
"""

from __future__ import annotations

from dataclasses import dataclass

import openai
from openai import AsyncOpenAI

from python_env.agents.base import Decision, InvalidAction, describe_action
from python_env.agents.prompting import (
    RETRY_PROMPT,
    invalid_line,
    outcome_line,
    parse_action,
    render_observation,
    system_prompt,
)
from python_env.config import DEFAULT_LLM_BASE_URL, DEFAULT_LLM_MODEL, LLMSettings
from python_env.environment.models import CodeReviewObservation
from python_env.errors import AgentUnavailable


@dataclass(frozen=True)
class LLMConfig:
    """Endpoint, model and sampling of the ``llm`` agent."""

    base_url: str = DEFAULT_LLM_BASE_URL
    model: str = DEFAULT_LLM_MODEL
    api_key: str = "no-key"  # a placeholder for keyless local servers
    temperature: float = 0.0
    max_tokens: int = 4096
    timeout_s: float = 120.0

    @classmethod
    def from_settings(cls, llm: LLMSettings) -> LLMConfig:
        """The endpoint, model and key of ``Settings.llm``, with the default sampling."""
        key = llm.api_key.get_secret_value() if llm.api_key else "no-key"
        return cls(base_url=llm.base_url, model=llm.model, api_key=key)


class LLMPolicy:
    """One conversation per episode: system prompt + the current observation (+ one retry)."""

    name = "llm"

    def __init__(self, seed: int, config: LLMConfig) -> None:
        self._seed = seed
        self._config = config
        # The agent does its own single retry; the SDK's silent retries would hide errors.
        self._client = AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            max_retries=0,
            timeout=config.timeout_s,
        )
        self._original: str | None = None
        self._history: list[str] = []  # one line per earlier turn, shown in the prompt
        self._pending: str | None = None  # the last action, until its outcome is observed
        self.calls = 0

    async def act(self, observation: CodeReviewObservation) -> Decision:
        """Ask the model for one JSON action (one retry with the problem explained)."""
        if self._original is None:
            self._original = observation.code
        if self._pending is not None:
            self._history.append(outcome_line(self._pending, observation))
            self._pending = None
        prompt = render_observation(observation, self._original, self._history)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": system_prompt(observation)},  # repository tasks' own
            {"role": "user", "content": prompt},
        ]
        problem, raw = "", ""
        for _attempt in range(2):
            reply, problem = await self._complete(messages)
            if reply is not None:
                raw = reply
                action, problem = parse_action(reply)
                if action is not None:
                    self._pending = describe_action(action)
                    return action
                messages.append({"role": "assistant", "content": reply})
                messages.append({"role": "user", "content": RETRY_PROMPT.format(problem=problem)})
        self._history.append(invalid_line(problem))
        return InvalidAction(problem, raw)

    async def _complete(self, messages: list[dict[str, str]]) -> tuple[str | None, str]:
        """``(reply, "")``, or ``(None, why)`` for an HTTP error or timeout worth one retry."""
        self.calls += 1
        try:
            response = await self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=self._config.temperature,
                max_tokens=self._config.max_tokens,
                seed=self._seed,
            )
        except openai.APITimeoutError:
            return None, f"the endpoint timed out after {self._config.timeout_s:.0f}s"
        except openai.APIConnectionError as exc:
            raise AgentUnavailable(
                f"cannot reach the LLM endpoint {self._config.base_url} ({exc.__cause__ or exc}); "
                "start it, or point to another (--llm-url or API_BASE_URL)"
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403, 404):
                # Wrong key or model name: retrying every turn would only repeat the error.
                raise AgentUnavailable(
                    f"the LLM endpoint {self._config.base_url} refused the request "
                    f"(HTTP {exc.status_code}: {exc.message}); check the key (HF_TOKEN or "
                    "API_KEY) and the model name (--model or MODEL_NAME)"
                ) from exc
            return None, f"endpoint error HTTP {exc.status_code}"
        if not response.choices:
            return None, "the endpoint returned no choices"
        return response.choices[0].message.content or "", ""

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
