"""Map URLs of the /static/ route to files under the asset directory.

The web server calls `resolve_asset` for every request to /static/... and streams the file at
the returned path, using `content_type` for the Content-Type header.
"""

from __future__ import annotations

import posixpath

STATIC_PREFIX = "/static/"

CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


def content_type(path: str) -> str:
    return CONTENT_TYPES[posixpath.splitext(path)[1].lower()]


def resolve_asset(root: str, url_path: str) -> str:
    """Return the absolute file path serving `url_path`, a file inside the directory `root`.

    Raises LookupError when the URL is not under /static/ and PermissionError when the
    request must not be served.
    """
    if not url_path.startswith(STATIC_PREFIX):
        raise LookupError(url_path)
    relative = url_path[len(STATIC_PREFIX) :]
    extension = posixpath.splitext(relative)[1].lower()
    if extension not in CONTENT_TYPES:
        raise PermissionError(f"file type not served: {extension or '(none)'}")
    root = posixpath.normpath(root)
    full = posixpath.normpath(posixpath.join(root, relative))
    if not full.startswith(root.rstrip("/") + "/"):
        raise PermissionError("path escapes the asset directory")
    return full
