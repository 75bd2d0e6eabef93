"""The one line a starting server logs about its sandbox: which tier, and how to get the strongest.

The full description is in ``GET /health``; this line is for the person who just typed
``python-env serve`` and wants to know whether agent code is contained, and how well.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap) for the strongest tier, bwrap"
SETTINGS_HINT = "unset PYTHON_ENV_SANDBOX_BWRAP for the strongest tier, bwrap"
# bwrap mounts a fresh /proc, which a container's default seccomp/AppArmor/masked paths forbid.
CONTAINER_HINT = (
    "in a container, bwrap needs --security-opt seccomp=unconfined --security-opt "
    "apparmor=unconfined --security-opt systempaths=unconfined (README: Deploy)"
)


def bwrap_hint(why: str) -> str:
    """How to get the bwrap tier, given why it did not start."""
    if "not installed" in why:
        return INSTALL_HINT
    if "disabled by the settings" in why:
        return SETTINGS_HINT
    return CONTAINER_HINT


def sandbox_notice(description: Mapping[str, Any]) -> tuple[int, str]:
    """A log level and one line from an executor's ``describe()``: the tier and its layers,
    what is missing, and, below the bwrap tier, why and how to get it."""
    if description.get("isolation") == "UNISOLATED":
        return logging.WARNING, (
            f"sandbox: UNISOLATED (executor {description.get('executor')}): agent code runs "
            "without isolation, unfit for graded traffic; unset PYTHON_ENV_EXECUTOR for the "
            "forkserver sandbox"
        )
    tier = str(description.get("tier", "?"))
    layers = len(description.get("layers", []))
    missing = list(description.get("missing", []))
    line = f"sandbox: tier {tier}, {layers} layers, missing: {', '.join(missing) or 'none'}"
    if tier == "bwrap":
        return logging.INFO, f"{line} (the strongest tier)"
    requested = description.get("requested_tier", "auto")
    if requested != "auto":
        return logging.INFO, f"{line} (PYTHON_ENV_SANDBOX_TIER={requested})"
    why = description.get("tiers_unavailable", {}).get("bwrap", "it did not start")
    return logging.WARNING, f"{line}; bwrap unavailable: {why}; {bwrap_hint(why)}"
