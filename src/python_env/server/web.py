"""The web UI: a static page at ``/web`` (``/`` redirects to it) and ``/docs`` served offline.

The page (``server/web/``: HTML, ES modules, CSS; no build step, nothing from a CDN) plays episodes
over the same ``/ws`` protocol as ``python_env.PythonEnv`` — one WebSocket, so one environment,
per browser tab — and lists tasks through OpenEnv's Task API (public ``TaskInfo`` only). It replays
``python-env rollouts`` and ``python-env eval`` files in the browser; nothing is uploaded.

OpenEnv's own Gradio page (``ENABLE_WEB_INTERFACE``) drives one environment shared by every
visitor; where it was mounted, this page takes its routes. FastAPI's ``/docs`` and ``/redoc`` load
their scripts from a CDN and are blank offline: here they load Swagger UI and ReDoc from the
``fastapi-offline`` wheel.
"""

from __future__ import annotations

import logging
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("python_env.server")

WEB_DIR = Path(__file__).parent / "web"
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_URL = "/docs-assets"
# Gradio's routes (mounted under /web with ENABLE_WEB_INTERFACE) and FastAPI's CDN doc pages.
_TAKEN = ("/", "/web", "/ws/ui", "/docs", "/redoc")


def _taken(path: str) -> bool:
    return path in _TAKEN or path.startswith("/web/")


def mount_web(app: FastAPI) -> None:
    """Serve the web UI at ``/web/`` (``/`` and ``/web`` redirect there, 307) and offline docs at
    ``/docs`` and ``/redoc``, replacing whatever the app had at those paths."""
    routes = app.router.routes
    if any(getattr(r, "path", "") == "/ws/ui" for r in routes):
        log.info("ENABLE_WEB_INTERFACE: python_env's page at /web replaces OpenEnv's Gradio page")
    routes[:] = [r for r in routes if not _taken(getattr(r, "path", ""))]

    # Relative targets, so the redirects also work behind a proxy that adds a path prefix.
    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("web/", status_code=307)

    @app.get("/web", include_in_schema=False)
    def web() -> RedirectResponse:
        return RedirectResponse("web/", status_code=307)

    app.mount("/web", StaticFiles(directory=WEB_DIR, html=True), name="web")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    _mount_docs(app)


def _mount_docs(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}/web/favicon.svg",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            # validatorUrl None: no badge fetched from validator.swagger.io
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}/web/favicon.svg",
            with_google_fonts=False,
        )
        # ReDoc's footer shows a logo from its CDN, and no option turns it off: block it.
        page.headers["Content-Security-Policy"] = "img-src 'self' data: blob:"
        return page
