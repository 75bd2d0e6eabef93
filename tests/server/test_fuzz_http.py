"""HTTP fuzzing (issue 16): schemathesis against a live server's ``/openapi.json``, 0 5xx.

Every operation of the published schema is fuzzed in both of schemathesis's generation modes
(bodies that fit the schema, and bodies that break it); operations under ``/{env_name}/`` are
fuzzed once more with ``env_name`` fixed to ``python_env`` so requests reach the Task API itself
rather than its 404. A status of 500 or more is a failure (schemathesis's ``not_a_server_error``);
all of them are collected, so one run reports every route that fails. Bodies the generator is
unlikely to find (wrongly typed reset options) are tried by name.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from python_env.agents.launcher import server_process

EXAMPLES = 12  # per operation, mode and env_name choice: ~600 requests, well under a minute
ROUTES = {  # what the schema must publish: a route gone from it would go unfuzzed
    ("GET", "/health"), ("GET", "/metadata"), ("GET", "/schema"), ("GET", "/state"),
    ("POST", "/reset"), ("POST", "/step"), ("POST", "/mcp"), ("GET", "/list_environments"),
    ("GET", "/{env_name}/splits"), ("POST", "/{env_name}/tasks"),
    ("POST", "/{env_name}/num_tasks"), ("POST", "/{env_name}/task"),
    ("POST", "/{env_name}/task_range"),
}  # fmt: skip


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    """A server of this module's own: fuzzed ``POST /mcp`` calls may open sessions that never
    close (see test_fuzz_ws), which must not use up the slots of the shared server."""
    with server_process(max_concurrent_envs=8) as (url, _proc):
        yield url


def _describe(case: Any, response: requests.Response) -> str:
    body = case.body if not isinstance(case.body, bytes) else case.body[:200]
    text = json.dumps(body, default=repr)[:300] if body is not schemathesis.NOT_SET else "-"
    query = f"?{case.query}" if case.query else ""
    return (
        f"{case.method} {case.formatted_path}{query} body={text} -> "
        f"{response.status_code} {response.text[:200]!r}"
    )


def _fuzz(url: str, strategy: Any, server_errors: list[str], calls: list[int]) -> None:
    session = requests.Session()

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=url, session=session, timeout=60)
        calls[0] += 1
        if response.status_code >= 500:  # what not_a_server_error checks
            server_errors.append(_describe(case, response))

    with contextlib.suppress(Unsatisfiable):  # NEGATIVE mode, on a route with nothing to break
        run()


@pytest.mark.timeout(300)
def test_no_route_answers_a_server_error(live_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json", timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    published = {(op.method.upper(), op.path) for op in operations}
    assert published >= ROUTES, f"routes missing from /openapi.json: {ROUTES - published}"
    server_errors: list[str] = []
    tried: dict[str, int] = {}
    for operation in operations:
        fixed: list[dict[str, Any] | None] = [None]
        if "{env_name}" in operation.path:
            fixed.append({"env_name": "python_env"})
        calls = [0]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in fixed:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters)
                _fuzz(live_url, strategy, server_errors, calls)
        tried[f"{operation.method.upper()} {operation.path}"] = calls[0]
    print("requests per route:", json.dumps(tried, indent=1))
    assert all(n > 0 for n in tried.values()), tried
    assert not server_errors, "server errors:\n" + "\n".join(sorted(set(server_errors)))


WRONGLY_TYPED = [
    {"split": "curated", "index": "x"},
    {"split": "curated", "index": []},
    {"split": [1]},
    {"split": {}},
    {"split": "curated", "index": True},
    {"split": "curated", "index": "1"},
    {"split": "curated", "index": -1},
    {"task_id": 7},
    {"kind": [1]},
]


@pytest.mark.parametrize("body", WRONGLY_TYPED, ids=json.dumps)
def test_wrongly_typed_reset_options_are_a_client_error(live_url: str, body: Any) -> None:
    response = requests.post(f"{live_url}/reset", json=body, timeout=60)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
METHODS = ["tools/list", "tools/call", "openenv/session/create", "openenv/session/close", "x"]
RPC = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0", 2])},
    optional={"method": st.sampled_from(METHODS) | st.text(max_size=8), "id": JSON, "params": JSON},
)
ACTION = st.fixed_dictionaries(
    {"kind": st.sampled_from(["review", "edit", "run_tests", "submit", "x"])},
    optional={"code": st.text(max_size=40) | JSON, "findings": JSON},
)


@given(mcp=RPC | JSON, action=ACTION | JSON)
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def _rpc_and_step(url: str, mcp: Any, action: Any, seen: list[str]) -> None:
    # The schema publishes /mcp's body as any JSON and /step's action as any object, so the
    # generator above rarely forms a JSON-RPC call or an action; these do.
    for path, body in (("/mcp", mcp), ("/step", {"action": action})):
        response = requests.post(f"{url}{path}", json=body, timeout=60)
        if response.status_code >= 500:
            seen.append(f"POST {path} {json.dumps(body)[:200]} -> {response.status_code}")


def test_json_rpc_calls_and_actions_are_never_a_server_error(live_url: str) -> None:
    seen: list[str] = []
    _rpc_and_step(live_url, seen=seen)
    assert seen == []
