"""Repository tasks in a real browser (chromium, as in ``test_web_ui``), against a server whose
``PYTHON_ENV_REPO_TASKS_DIR`` is a tiny store built here (``tests.repo_helpers``' calc project).

A person lists the files, opens the buggy one, searches, reports the bug on its file and line,
pastes the reference patch, runs a selection of the visible tests and submits: score 1. Markup in
file names, file contents, search matches and the pull request is shown as text, never parsed.
The Approve button is there on pull-request tasks only, and approves a clean one: score 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from python_env.agents.launcher import server_process
from python_env.config import Settings
from python_env.tasks.repo_task import PullRequest
from python_env.types import TaskKind
from tests.repo_helpers import (
    ADD,
    CLEAN_PR,
    EMPTY_MEAN,
    ISSUE,
    MUL,
    OPS,
    OPS_PY,
    SIGN,
    build_store,
    repo_task,
)
from tests.web.test_web_ui import ARGS, CHROMIUM, VIEWPORT, Recorder, values, wait_steps

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: apt-get install chromium (.ci/run does)"
)

MARKUP = '<script>document.title = "pwned"</script><img src=x onerror="document.title = 1">'
SINGLE = "bill-split-lost-cents"  # a curated single-file task
HTML_FILE = "docs/<img src=x onerror=alert(1)>.md"  # a valid path: no "/" inside the tag
BANNER = f"\n\nBANNER = {MARKUP!r}\n"
BUGGY = OPS.replace("a + b", "a - b") + BANNER  # line 2 is the bug, line 9 the banner
HTML = repo_task(
    "calc-html-banner", "train", {OPS_PY: BUGGY, HTML_FILE: f"# notes\n{MARKUP}\n"},
    (TaskKind.REVIEW, TaskKind.REPAIR), issues=(ISSUE,),
    pull_request=PullRequest(title="<b>Bold</b> title", description=MARKUP, diff=f"+{MARKUP}\n"),
)  # fmt: skip


@pytest.fixture(scope="module")
def repo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server process over a store holding the calc tasks ``SIGN`` and ``HTML`` (train),
    ``EMPTY_MEAN`` (test: no pull request) and ``CLEAN_PR`` (review)."""
    root = tmp_path_factory.mktemp("repos")
    build_store(root, (SIGN, HTML, EMPTY_MEAN, CLEAN_PR))
    env = Settings.from_env().to_env() | {"PYTHON_ENV_REPO_TASKS_DIR": str(root)}
    with server_process(max_concurrent_envs=4, timeout_s=120, env=env) as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, url: str) -> tuple[Any, Recorder]:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    recorder = Recorder(page)
    page.goto(f"{url}/web/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#pick-split option')].some(o => o.value === 'train')"
    )
    return page, recorder


def wait_started(page: Any, task_id: str) -> None:
    page.wait_for_function(
        "id => document.querySelector('#task-meta').textContent.startsWith(id)", arg=task_id
    )


def line_text(page: Any, number: int) -> str:
    return str(page.text_content(f"#code-review .line[data-line='{number}'] .src"))


def test_a_person_repairs_a_repository_task_in_the_browser(
    browser: Any, repo_server: str, tmp_path: Path
) -> None:
    page, recorder = open_page(browser, repo_server)
    page.select_option("#pick-split", "train")
    page.check("#pick-repo")  # the list holds repository tasks only
    page.wait_for_selector(f"#pick-task option[value='{SIGN.id}']", state="attached")
    page.select_option("#pick-task", SIGN.id)
    page.click("#start")
    wait_started(page, SIGN.id)
    assert page.inner_text("#workspace").startswith("calc 1.0 · 7 files · nothing changed")
    assert page.inner_text("#pr-title") == "Simpler add"
    assert page.is_hidden("#pane-tests-btn") and page.is_visible("#pane-patch-btn")
    assert page.is_visible("#approve")  # SIGN is a pull request

    page.fill("#list-glob", "src/**/*.py")
    page.click("#list-files")
    wait_steps(page, 1)
    paths = page.eval_on_selector_all("#file-list button", "bs => bs.map(b => b.textContent)")
    assert paths == ["src/calc/__init__.py", OPS_PY, "src/calc/stats.py"]
    page.click(f"#file-list button[data-path='{OPS_PY}']")  # read_file: the code view shows it
    wait_steps(page, 2)
    assert line_text(page, 2) == "    return a - b"
    assert page.input_value("#f-path") == OPS_PY  # findings default to the open file

    page.fill("#search-pattern", r"\badd\(")
    page.fill("#search-glob", "*.py")
    page.click("#search")
    wait_steps(page, 3)
    hits = page.eval_on_selector_all("#search-results .where", "ws => ws.map(w => w.textContent)")
    assert "src/calc/stats.py:7" in hits
    page.click("#search-results button[data-path='src/calc/stats.py']")
    wait_steps(page, 4)
    page.wait_for_selector("#code-review .line.focus[data-line='7']")
    assert line_text(page, 7) == "        total = add(total, x)"
    page.click(f"#file-list button[data-path='{OPS_PY}']")  # read already: no step
    page.wait_for_function("() => document.querySelector('#f-path').value.endsWith('ops.py')")
    assert len(page.query_selector_all("#steps tbody tr")) == 4

    page.click("#code-review .line[data-line='2']")
    assert page.inner_text("#f-lines") == "2"
    page.select_option("#f-category", "bug")
    page.select_option("#f-severity", "high")
    page.fill("#f-message", "add subtracts its arguments")
    page.click("#f-add")
    page.click("#send-review")
    wait_steps(page, 5)
    assert page.inner_text("#recorded li strong") == f"{OPS_PY} line 2"
    assert page.query_selector("#code-review .line.mark-finding[data-line='2']") is not None

    page.click("#pane-patch-btn")
    page.fill("#patch-text", SIGN.fix)  # the reference patch, pasted
    page.click("#apply-patch")
    wait_steps(page, 6)
    assert page.inner_text("#feedback") == f"Changed 1 file(s): {OPS_PY}."
    assert page.inner_text("#workspace").endswith(f"changed: {OPS_PY}")
    assert page.text_content("#output .diff-add") == "+    return a + b"

    page.uncheck(f"#test-picks input[data-test='{MUL}']")
    page.click("#run-tests")
    wait_steps(page, 7)
    assert page.inner_text("#steps tbody tr:nth-child(7) td:nth-child(2)") == "run_tests(1)"
    shown = page.eval_on_selector_all(
        "#test-report tr[data-test]", "rs => rs.map(r => r.dataset.test)"
    )
    assert shown == [ADD] and page.query_selector("#test-report tr.pass") is not None

    page.click("#submit")
    page.wait_for_selector("#final-score")
    assert float(page.get_attribute("#final-score", "data-value") or "nan") == 1.0
    assert sum(values(page, "#steps td.reward")) == pytest.approx(1.0, abs=1e-5)
    assert page.inner_text("#evaluation .issue-path") == OPS_PY  # evaluation.issue_paths
    hit = page.query_selector_all("#code-review .line.mark-hit")  # the file as it started
    assert [h.get_attribute("data-line") for h in hit] == ["2"]
    page.screenshot(path=str(tmp_path / "repo.png"), full_page=True)
    recorder.assert_own_origin(repo_server)
    page.close()


def test_markup_in_files_matches_and_the_pull_request_is_shown_as_text(
    browser: Any, repo_server: str
) -> None:
    page, recorder = open_page(browser, repo_server)
    page.fill("#pick-id", HTML.id)  # picking by id needs no toggle
    page.click("#start")
    wait_started(page, HTML.id)
    title = page.title()
    assert page.inner_text("#pr-title") == "<b>Bold</b> title"
    assert page.inner_text("#pr-description") == MARKUP
    assert page.text_content("#pr-diff .diff-add") == f"+{MARKUP}"

    page.click("#list-files")
    wait_steps(page, 1)
    page.locator("#file-list button", has_text="<img src=x").click()
    wait_steps(page, 2)
    assert line_text(page, 2) == MARKUP
    page.fill("#search-pattern", "<script>")
    page.click("#search")
    wait_steps(page, 3)
    matches = page.eval_on_selector_all("#search-results code", "cs => cs.map(c => c.textContent)")
    assert matches == [MARKUP, f"BANNER = {MARKUP!r}"]

    page.click(f"#file-list button[data-path='{OPS_PY}']")
    wait_steps(page, 4)
    assert line_text(page, 9) == f"BANNER = {MARKUP!r}"
    page.click("#pane-edit-btn")  # the whole file is in the editor: edit it there
    assert page.input_value("#editor textarea") == BUGGY
    page.fill("#editor textarea", OPS + BANNER)
    page.click("#save-edit")
    wait_steps(page, 5)
    assert page.inner_text("#feedback") == f"Changed 1 file(s): {OPS_PY}."
    assert page.inner_text("#steps tbody tr:nth-child(5) td:nth-child(2)") == f"edit_file {OPS_PY}"

    assert page.query_selector_all("#episode script, #episode img, #episode b") == []
    assert page.title() == title

    page.fill("#pick-id", SINGLE)  # the same tab, back to a single-file task: as before
    page.click("#start")
    wait_started(page, SINGLE)
    assert page.is_hidden("#repo-nav") and page.is_hidden("#pull-request")
    assert page.is_hidden("#workspace") and page.is_hidden("#f-path")
    assert page.is_visible("#pane-tests-btn") and page.is_hidden("#pane-patch-btn")
    assert page.is_hidden("#approve")  # no pull request, no verdict
    labels = [page.inner_text(s) for s in ("#pane-review-btn", "#save-edit", "#run-tests")]
    assert labels == ["Review (original code)", "Save edit", "Run visible tests"]
    assert page.text_content("#code-review .line[data-line='1'] .src")
    assert page.is_editable("#editor textarea")
    recorder.assert_own_origin(repo_server)
    page.close()


def test_the_approve_button_ends_a_pull_request_review(browser: Any, repo_server: str) -> None:
    page, recorder = open_page(browser, repo_server)
    page.fill("#pick-id", EMPTY_MEAN.id)  # a repository task without a pull request
    page.click("#start")
    wait_started(page, EMPTY_MEAN.id)
    assert page.is_hidden("#approve") and page.is_visible("#submit")

    page.fill("#pick-id", CLEAN_PR.id)
    page.click("#start")
    wait_started(page, CLEAN_PR.id)
    assert page.is_visible("#approve") and page.is_enabled("#approve")
    assert page.inner_text("#pr-title") == CLEAN_PR.pull_request.title  # type: ignore[union-attr]
    page.click("#approve")
    page.wait_for_selector("#final-score")
    assert float(page.get_attribute("#final-score", "data-value") or "nan") == 1.0
    assert page.inner_text("#steps tbody tr:nth-child(1) td:nth-child(2)") == "approve"
    assert page.inner_text("#feedback") == "Approved. Final score 1.000."
    assert page.is_disabled("#approve") and page.is_disabled("#submit")
    recorder.assert_own_origin(repo_server)
    page.close()
