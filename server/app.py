"""OpenEnv layout shim: ``uvicorn server.app:app`` and ``python -m server.app`` serve python_env.

The real code is ``python_env.server.app``; this file exists because OpenEnv's tooling expects it.
"""

from python_env.server.app import build_app, main

app = build_app()

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
