"""OpenEnv's client-side modules, loaded without its server stack.

``openenv/core/__init__.py`` imports ``env_server``, whose ``__init__`` imports FastAPI, FastMCP
and Gradio: about 5 s before a client could send a frame. The modules a client needs (the wire
types, ``EnvClient``, ``SyncEnvClient``) import none of that themselves, so they are imported here
with their two parent packages standing in unexecuted, and the stand-ins are removed after. The
modules stay in ``sys.modules``: when a server later imports the real packages, their ``__init__``
runs as usual and finds these same module objects, so every class is the one OpenEnv defines.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading

_PACKAGES = ("openenv.core", "openenv.core.env_server")
# Ordered: each module's own imports are among those before it or outside these packages.
CLIENT_MODULES = (
    "openenv.core.env_server.types",
    "openenv.core.client_types",
    "openenv.core.env_client",
    "openenv.core.sync_client",
)
_lock = threading.Lock()


def load_client_modules() -> None:
    """Import (once) ``CLIENT_MODULES`` without running the ``__init__`` of ``_PACKAGES``."""
    with _lock:
        if all(name in sys.modules for name in CLIENT_MODULES):
            return
        stand_ins = []
        try:
            for package in _PACKAGES:
                if package not in sys.modules:
                    spec = importlib.util.find_spec(package)
                    if spec is None:  # pragma: no cover - openenv is a dependency
                        raise ModuleNotFoundError(f"No module named {package!r}", name=package)
                    sys.modules[package] = importlib.util.module_from_spec(spec)
                    stand_ins.append(package)
            for name in CLIENT_MODULES:
                importlib.import_module(name)
        finally:
            for package in reversed(stand_ins):
                del sys.modules[package]


load_client_modules()
# Re-exported for the wire models and the client (imported only now that they load light).
from openenv.core.client_types import StepResult  # noqa: E402
from openenv.core.env_client import EnvClient  # noqa: E402
from openenv.core.env_server.types import Action, Observation, State  # noqa: E402
from openenv.core.sync_client import SyncEnvClient  # noqa: E402

__all__ = [
    "CLIENT_MODULES", "Action", "EnvClient", "Observation", "State", "StepResult", "SyncEnvClient",
]  # fmt: skip
