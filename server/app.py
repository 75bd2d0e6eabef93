"""OpenEnv layout shim: ``uvicorn server.app:app`` and ``python -m server.app`` serve python_env.

The real code is ``python_env.server.app``; this file exists because OpenEnv's tooling expects it.
``app`` is built on first access (settings from the environment), never by importing this file.
"""

from __future__ import annotations

from typing import Any

from python_env.server.app import build_app, main

__all__ = ["app", "main"]  # noqa: F822 - built on first access


def __getattr__(name: str) -> Any:
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
