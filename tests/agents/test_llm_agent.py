"""The llm agent against a scripted OpenAI-compatible server on 127.0.0.1 and a real env server:
parsing, the single retry, invalid actions, HTTP errors and an unreachable endpoint, for real."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from python_env.agents import make_factory
from python_env.agents.base import EpisodeResult, run_episode
from python_env.agents.launcher import free_port
from python_env.agents.llm import LLMConfig
from python_env.agents.prompting import parse_action
from python_env.errors import AgentUnavailable
from python_env.tasks.catalog import default_catalog
from tests.agents.fake_openai import FakeOpenAI, Reply, answer_key_review, scripted

TASK = "userstore-sqlite-lookup"  # review + repair, easy
SUBMIT = '{"kind": "submit"}'


def play(server_url: str, llm_url: str, task_id: str = TASK, seed: int = 3) -> EpisodeResult:
    config = LLMConfig(base_url=llm_url, model="scripted-model", api_key="test-key")
    factory = make_factory("llm", config=config)
    return asyncio.run(run_episode(server_url, factory, {"task_id": task_id}, seed))


def user_prompt(request: dict[str, Any]) -> str:
    return str(request["messages"][1]["content"])


def test_good_json_replies_play_a_whole_episode(server_url: str) -> None:
    task = default_catalog().get(TASK)
    edit = json.dumps({"kind": "edit", "code": task.fix})
    script = scripted([answer_key_review(TASK), edit, '{"kind": "run_tests"}', SUBMIT])
    with FakeOpenAI(script) as llm:
        result = play(server_url, llm.base_url)
    assert result.done and result.invalid_actions == 0 and result.steps == 4
    # A model that answers right gets the full score: the agent adds nothing and hides nothing.
    assert result.score == pytest.approx(1.0)
    assert len(llm.requests) == 4
    first = llm.requests[0]
    assert first["model"] == "scripted-model" and first["temperature"] == 0.0
    system = first["messages"][0]
    assert system["role"] == "system" and '"kind": "review"' in system["content"]
    prompt = user_prompt(first)
    assert f"Task {TASK}" in prompt and "   1 | " in prompt and "Steps left: " in prompt
    # Later prompts carry what happened so far.
    assert "review(findings=1)" in user_prompt(llm.requests[1])
    assert "Current code (after your edits)" in user_prompt(llm.requests[2])


def test_a_malformed_reply_is_retried_once_with_the_problem_explained(server_url: str) -> None:
    script = scripted(["Sure! I think we should submit now.", f"```json\n{SUBMIT}\n```"])
    with FakeOpenAI(script) as llm:
        result = play(server_url, llm.base_url)
    assert result.done and result.steps == 1 and result.invalid_actions == 0
    assert len(llm.requests) == 2
    retry = llm.requests[1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"] == "Sure! I think we should submit now."
    assert "not a valid action: no JSON object found" in retry[3]["content"]


def test_two_bad_replies_count_as_one_invalid_action(server_url: str) -> None:
    script = scripted(['{"kind": "review"', '{"kind": "review", "findings": []}', SUBMIT])
    with FakeOpenAI(script) as llm:
        result = play(server_url, llm.base_url)
    assert result.done and result.invalid_actions == 1 and result.steps == 1
    invalid = result.transitions[0]
    assert invalid.action is None and invalid.reward == 0.0 and not invalid.done
    assert invalid.error is not None and "at least one finding" in invalid.error
    assert "malformed JSON" in llm.requests[1]["messages"][3]["content"]
    # The next turn tells the model its reply was invalid.
    assert "invalid reply" in user_prompt(llm.requests[2])
    assert len(llm.requests) == 3


def test_http_500_is_retried_and_then_counts_as_invalid(server_url: str) -> None:
    script = scripted([Reply(status=500), SUBMIT])
    with FakeOpenAI(script) as llm:
        recovered = play(server_url, llm.base_url)
    assert recovered.done and recovered.invalid_actions == 0 and len(llm.requests) == 2

    script = scripted([Reply(status=500), Reply(status=503), SUBMIT])
    with FakeOpenAI(script) as llm:
        result = play(server_url, llm.base_url)
    assert result.invalid_actions == 1 and result.steps == 1
    assert result.transitions[0].error == "endpoint error HTTP 503"


def test_a_model_that_never_answers_validly_still_ends_the_episode(server_url: str) -> None:
    with FakeOpenAI(scripted([], then="no idea")) as llm:
        result = play(server_url, llm.base_url)
    budget = default_catalog().get(TASK).info.max_steps
    assert result.done and result.invalid_actions == budget
    assert result.steps == 1 and result.transitions[-1].forced
    assert result.score == 0.0 and len(llm.requests) == 2 * budget


def test_an_unreachable_endpoint_stops_with_a_clear_error(server_url: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(
        AgentUnavailable, match=r"cannot reach the LLM endpoint http://127\.0\.0\.1"
    ):
        play(server_url, url)


def test_a_wrong_key_or_model_stops_instead_of_retrying(server_url: str) -> None:
    with FakeOpenAI(scripted([], then=Reply(status=401))) as llm:
        with pytest.raises(AgentUnavailable, match="HTTP 401"):
            play(server_url, llm.base_url)
        assert len(llm.requests) == 1


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ('{"kind": "run_tests"}', "run_tests"),
        ('I will submit.\n{"kind": "submit"}\nDone.', "submit"),
        ('{"action": {"kind": "submit"}}', "submit"),
        ('```\n{"kind": "edit", "code": "x = 1\\n"}\n```', "edit"),
    ],
)
def test_parse_action_accepts_common_reply_shapes(reply: str, kind: str) -> None:
    action, problem = parse_action(reply)
    assert problem == "" and action is not None and action.kind == kind


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("", "no JSON object found"),
        ("[1, 2]", "no JSON object found"),
        ('{"kind": "dance"}', "invalid action (kind:"),
        ('{"kind": "submit", "code": "x"}', "takes no 'code'"),
        ("{'kind': 'submit'}", "malformed JSON"),
    ],
)
def test_parse_action_explains_what_is_wrong(reply: str, problem: str) -> None:
    action, why = parse_action(reply)
    assert action is None and problem in why
