"""Issue 17 in a real browser: Playwright drives Debian's chromium against a real server process.

The page is played as a person would (select lines, type, click) and must show the score the API
gives for the same actions; two tabs play two episodes; a rollouts file is replayed step by step;
``/docs`` renders offline. Every request any page makes is recorded: all go to the server's own
origin. Screenshots of both views are saved under the test's tmp dir (paths printed).
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

from python_env.agents import make_factory
from python_env.agents.base import run_episode
from python_env.agents.report import build_report
from python_env.client import PythonEnv
from python_env.environment.models import CodeReviewAction
from python_env.grading.reference import reference_finding
from python_env.tasks.catalog import default_catalog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: apt-get install chromium (.ci/run does)"
)

TASK = "userstore-sqlite-lookup"  # review + repair, one planted issue over two lines
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]  # fmt: skip
VIEWPORT = {"width": 1360, "height": 1000}
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-screens")


class Recorder:
    """Every URL a page asks for (HTTP requests and WebSocket connections), and its JS errors."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", lambda socket: self.urls.append(socket.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def assert_own_origin(self, server_url: str) -> None:
        """Every request went to the server's own host and port; no script failed."""
        own = urlsplit(server_url).netloc
        foreign = [u for u in self.urls if urlsplit(u).netloc != own]
        assert not foreign, foreign
        assert not self.errors, self.errors


def open_page(browser: Any, server_url: str, context: Any = None) -> tuple[Any, Recorder]:
    page = context.new_page() if context else browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    recorder = Recorder(page)
    page.goto(f"{server_url}/")
    assert page.url == f"{server_url}/web/"  # / redirects to the page
    page.wait_for_selector(f"#pick-task option[value='{TASK}']", state="attached")
    return page, recorder


def start(page: Any, task_id: str) -> None:
    page.select_option("#pick-task", task_id)
    page.click("#start")
    page.wait_for_function(
        "id => document.querySelector('#task-meta').textContent.startsWith(id)", arg=task_id
    )


def wait_steps(page: Any, count: int) -> None:
    page.wait_for_selector(f"#steps tbody tr:nth-child({count})")


def values(page: Any, selector: str) -> list[float]:
    return [float(node.get_attribute("data-value")) for node in page.query_selector_all(selector)]


def api_episode(server_url: str, actions: list[CodeReviewAction]) -> tuple[list[float], Any]:
    """The same actions played through the Python client: rewards and final observation."""
    with PythonEnv(base_url=server_url).sync() as env:
        env.reset(task_id=TASK)
        results = [env.step(action) for action in actions]
    return [float(r.reward or 0.0) for r in results], results[-1].observation


def test_a_person_plays_a_curated_task_and_sees_the_score_the_api_gives(
    browser: Any, server_url: str, screens: Path
) -> None:
    task = default_catalog().get(TASK)
    finding = reference_finding(task, task.issues[0])  # the answer key's finding and its fix
    page, recorder = open_page(browser, server_url)
    start(page, TASK)
    assert page.is_hidden("#repo-nav") and page.is_hidden("#f-path")  # repository tasks only

    page.click(f"#code-review .line[data-line='{finding.start_line}']")
    page.click(f"#code-review .line[data-line='{finding.end_line}']", modifiers=["Shift"])
    assert page.inner_text("#f-lines") == f"{finding.start_line}\N{EN DASH}{finding.end_line}"
    page.select_option("#f-category", finding.category.value)
    page.select_option("#f-severity", finding.severity.value)
    page.fill("#f-rule", finding.rule_id)
    page.fill("#f-message", finding.message)
    page.fill("#f-fix", finding.suggested_fix)
    page.click("#f-add")
    page.click("#send-review")
    wait_steps(page, 1)

    page.click("#pane-edit-btn")
    page.fill("#editor textarea", task.fix)  # the reference fix, typed into the editor
    page.click("#save-edit")
    wait_steps(page, 2)
    page.click("#run-tests")
    wait_steps(page, 3)
    shown = {
        row.get_attribute("data-test"): "pass" in row.get_attribute("class")
        for row in page.query_selector_all("#test-report tr[data-test]")
    }
    page.click("#submit")
    page.wait_for_selector("#final-score")

    review = CodeReviewAction(kind="review", findings=[finding])
    rewards, final = api_episode(
        server_url,
        [review, CodeReviewAction(kind="edit", code=task.fix),
         CodeReviewAction(kind="run_tests"), CodeReviewAction(kind="submit")],
    )  # fmt: skip
    evaluation = final.evaluation
    assert evaluation is not None and evaluation.score == 1.0
    assert float(page.get_attribute("#final-score", "data-value")) == evaluation.score
    assert page.inner_text("#final-score") == f"{evaluation.score:.4f}"
    assert values(page, "#steps td.reward") == rewards  # the reward of every step
    assert final.test_report is not None
    assert shown == {v.name: v.passed for v in final.test_report.verdicts}  # each visible verdict
    assert evaluation.hidden_tests is not None
    hidden = page.query_selector_all("#hidden-tests tr[data-test]")
    assert len(hidden) == len(evaluation.hidden_tests.verdicts)
    matched = page.query_selector_all("#code-review .line.mark-hit")  # on the code, in green
    assert len(matched) == finding.end_line - finding.start_line + 1
    assert not page.query_selector_all("#code-review .line.mark-miss")
    for name, value in evaluation.components.items():
        node = page.query_selector(f"#evaluation [data-component='{name}'] .num")
        assert float(node.get_attribute("data-value")) == value

    shot = screens / "play.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    recorder.assert_own_origin(server_url)
    page.close()


def test_two_tabs_play_independent_episodes(browser: Any, server_url: str) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    first, first_log = open_page(browser, server_url, context)
    second, second_log = open_page(browser, server_url, context)
    start(first, TASK)
    start(second, "bill-split-lost-cents")
    first.click("#pane-edit-btn")
    first.fill("#editor textarea", "# tab one's code\n")
    first.click("#save-edit")
    wait_steps(first, 1)
    second.click("#run-tests")
    wait_steps(second, 1)
    first.click("#submit")
    first.wait_for_selector("#final-score")

    assert len(first.query_selector_all("#steps tbody tr")) == 2  # edit, submit
    assert second.inner_text("#steps tbody tr td:nth-child(2)") == "run_tests"
    assert second.query_selector("#final-score") is None and second.is_enabled("#submit")
    original = default_catalog().get("bill-split-lost-cents").code
    assert second.input_value("#editor textarea") == original
    assert second.inner_text("#task-meta").startswith("bill-split-lost-cents")
    assert first.inner_text("#task-meta").startswith(TASK)
    for log in (first_log, second_log):  # one WebSocket, one server session, per tab
        assert len([u for u in log.urls if u.startswith("ws://")]) == 1
        log.assert_own_origin(server_url)
    context.close()


def _rollouts(server_url: str) -> tuple[list[Any], str]:
    """Episodes played by the heuristic and the oracle agents, written as `python-env rollouts`
    writes them (its own function), in a thread of their own: Playwright owns this one's loop."""
    from python_env.cli.rollouts import write_episode

    async def play() -> list[Any]:
        plan = [("heuristic", "http-retry-backoff", 2), ("oracle", TASK, 0)]
        return [
            await run_episode(server_url, make_factory(agent), {"task_id": task}, seed)
            for agent, task, seed in plan
        ]

    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, play()).result(timeout=120)
    out = io.StringIO()
    for result in results:
        write_episode(result, out)
    return results, out.getvalue()


def test_a_rollouts_file_replays_step_by_step(
    browser: Any, server_url: str, tmp_path: Path, screens: Path
) -> None:
    results, text = _rollouts(server_url)
    path = tmp_path / "rollouts.jsonl"
    path.write_text(text)
    rows = [json.loads(line) for line in text.splitlines()]
    page, recorder = open_page(browser, server_url)
    page.click("#nav-replay")
    page.set_input_files("#replay-file", str(path))
    page.wait_for_selector("#r-steps tbody tr")
    assert len(page.query_selector_all("#replay-summary button[data-episode]")) == len(results)

    for index, result in enumerate(results):
        page.click(f"#replay-summary button[data-episode='{index}']")
        episode = f"{result.agent}:{result.task_id}:{result.seed}"
        turns = [r for r in rows if r["episode"] == episode]
        running = 0.0
        for step, turn in enumerate(turns, start=1):
            running += turn["reward"]
            assert page.inner_text("#r-step") == str(step)
            assert float(page.get_attribute("#r-reward", "data-value")) == turn["reward"]
            assert float(page.get_attribute("#r-running", "data-value")) == running
            kind = turn["action"]["kind"]
            assert page.inner_text("#r-action").startswith(kind)
            if step == 2 and index == 0:
                shot = screens / "replay.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot}")
            if step < len(turns):
                page.click("#r-next")
        assert float(page.get_attribute("#r-final", "data-value")) == result.score
        assert values(page, "#r-steps td.reward") == [t["reward"] for t in turns]

    report = tmp_path / "eval.json"
    report.write_text(json.dumps(build_report("mixed", "curated", server_url, _stats(results))))
    page.set_input_files("#replay-file", str(report))
    page.wait_for_selector("#replay-summary h2:has-text('Eval report')")
    scores = values(page, "#replay-summary tbody tr td:nth-child(3) .num")
    assert scores == [round(r.score, 6) for r in results]
    recorder.assert_own_origin(server_url)
    page.close()


def _stats(results: list[Any]) -> Any:
    from python_env.agents.evaluation import RunStats

    return RunStats(wall_s=1.0, results=results)


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .opblock"), ("/redoc", "h1")])
def test_api_docs_render_offline(browser: Any, server_url: str, path: str, ready: str) -> None:
    page = browser.new_page()
    recorder = Recorder(page)
    blocked: list[str] = []  # stopped by the page's CSP: never left the browser
    page.on("requestfailed", lambda r: blocked.append(r.url) if r.failure == "csp" else None)
    page.goto(f"{server_url}{path}")
    page.wait_for_selector(ready, timeout=30_000)
    page.wait_for_load_state("networkidle")
    # ReDoc's footer logo is on its CDN, with no option to drop it: /redoc's CSP blocks it.
    assert set(blocked) <= ({REDOC_LOGO} if path == "/redoc" else set())
    recorder.urls = [u for u in recorder.urls if u not in blocked and not u.startswith("blob:")]
    recorder.assert_own_origin(server_url)
    page.close()
