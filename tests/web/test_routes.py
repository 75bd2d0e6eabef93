"""Issue 17, without a browser: ``/`` and ``/web`` lead to the page, every asset is the package's
own (no CDN, also for ``/docs``), OpenEnv's Gradio page gives way, the files ship in the wheel."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from python_env.config import SandboxSettings, SandboxTier, Settings
from python_env.server.app import build_app
from python_env.server.web import WEB_DIR
from tests.sandbox.conftest import TIERS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    tier = SandboxTier(TIERS[-1])  # the weakest tier this run allows: it starts everywhere
    app = build_app(Settings(sandbox=SandboxSettings(tier=tier, workers=1)))
    with TestClient(app) as client:  # stops the sandbox on exit
        yield client


def test_root_and_web_redirect_to_the_page(client: TestClient) -> None:
    for path in ("/", "/web"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 307
        assert response.headers["location"] == "web/"  # relative: works under a path prefix
    page = client.get("/")
    assert page.url.path == "/web/" and page.status_code == 200
    assert '<script type="module" src="app.js"></script>' in page.text


def test_every_asset_is_served_by_the_package_and_none_names_another_host(
    client: TestClient,
) -> None:
    files = sorted(p for p in WEB_DIR.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"index.html", "app.js", "replay.js", "style.css"}
    for path in files:
        response = client.get(f"/web/{path.name}")
        assert response.status_code == 200, path.name
        # No absolute URL at all (the SVG's XML namespace is a name, never fetched).
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"')]*", path.read_text()))
        assert urls <= {"http://www.w3.org/2000/svg"}, (path.name, urls)
    index = client.get("/web/").text
    for ref in re.findall(r'(?:src|href)="([^"]+)"', index):
        assert not re.match(r"\w+:|//", ref), ref  # relative or same-host links only


def test_docs_and_redoc_load_their_scripts_from_this_server(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        refs = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert refs, path
        for ref in refs:
            assert ref.startswith("/"), (path, ref)
            assert client.get(ref).status_code == 200, (path, ref)
    assert "cdn" not in client.get("/docs").text.lower()


def test_the_task_picker_lists_public_task_info_only(client: TestClient) -> None:
    """The page lists tasks through OpenEnv's Task API: TaskInfo, never the hidden parts."""
    body = client.post("/python_env/tasks", json={"split": "curated"}).json()
    assert body["tasks"] and set(body["tasks"][0]) == {
        "id", "title", "kinds", "difficulty", "split", "source", "categories", "num_issues",
        "max_steps", "setting",
    }  # fmt: skip


GRADIO_CHECK = """
from fastapi.testclient import TestClient
from python_env.config import SandboxSettings, SandboxTier, Settings
from python_env.server.app import build_app
app = build_app(Settings(sandbox=SandboxSettings(tier=SandboxTier(TIER), workers=1)))
paths = {getattr(route, "path", "") for route in app.router.routes}
client = TestClient(app)
print("/ws/ui" in paths, "/web/metadata" in paths)
print(client.get("/", follow_redirects=False).headers["location"])
print('src="app.js"' in client.get("/web/").text, client.get("/schema").status_code)
app.state.runner.executor.close()
"""


def test_the_page_replaces_openenvs_shared_gradio_page() -> None:
    """ENABLE_WEB_INTERFACE mounts a Gradio page that drives one environment shared by every
    visitor; this page (one session per tab) takes its place, and the API stays. In a child
    process: building Gradio's app leaves sockets behind, and this suite fails on those."""
    code = GRADIO_CHECK.replace("TIER", repr(TIERS[-1]))
    env = {**os.environ, "ENABLE_WEB_INTERFACE": "true"}
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
        timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2_000:]
    assert out.stdout.split("\n")[:3] == ["False False", "web/", "True 200"], out.stdout


def test_the_wheel_ships_the_page() -> None:
    """Every file of server/web matches the package-data globs of pyproject.toml."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = globs["package-data"]["python_env"]
    package = WEB_DIR.parents[1]
    for path in WEB_DIR.rglob("*"):
        if path.is_file():
            relative = path.relative_to(package).as_posix()
            assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
