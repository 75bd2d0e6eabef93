"""``python-env validate``: OpenEnv's runtime validation of this package, without Docker.

Runs OpenEnv's ``run_validation`` on a snapshot of the package directory (its openenv.yaml, the
runtime plan ``validation.execution.probe_path`` names, its sources) against a server started
from that snapshot in a network namespace of its own (the manifest declares no-network), and
prints every check with its verdict. Exit status 0 when every check the installed openenv
implements, and this provider can feed, passed; 1 otherwise. Checks openenv only reserves are
listed as skipped, with the reason.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from python_env.cli.help import command


def register(sub: Any) -> None:
    summary = "OpenEnv's runtime validation of the package, against a local server"
    parser = command(sub, "validate", summary, __doc__)
    parser.add_argument(
        "path", nargs="?", type=Path, default=Path("."),
        help="the package directory, holding openenv.yaml (default: the current directory)",
    )  # fmt: skip
    parser.add_argument(
        "--level", choices=("runtime", "semantic"), default="semantic",
        help="the highest level to run (OpenEnv 0.10 implements no semantic grader yet)",
    )  # fmt: skip
    parser.add_argument(
        "--artifacts", type=Path, default=None,
        help="write OpenEnv's reproduction bundle (report, plan, wire transcript) here",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.conformance import run as validate
    from python_env.errors import ConfigError

    root = args.path.resolve()
    if not (root / "openenv.yaml").is_file():
        raise ConfigError(f"{root} holds no openenv.yaml: give the package directory")
    outcome = validate(root, semantic=args.level == "semantic", artifacts=args.artifacts)
    network = outcome.provider.get("network", {})
    where = (
        f"its own network namespace (interfaces: {', '.join(network['interfaces']) or 'none'}; "
        f"default route: {'yes' if network.get('default_route') else 'none'})"
        if network.get("own_namespace")
        else "the host's network namespace"
    )
    name, tier = outcome.provider["name"], outcome.provider.get("sandbox_tier") or "unknown"
    print(f"openenv {outcome.openenv_version}, provider {name}: the server ran in {where}, "
          f"sandbox tier {tier}")  # fmt: skip
    width = max(len(c.check_id) for c in outcome.checks)
    for check in outcome.checks:
        print(f"{check.status.upper():5}  {check.check_id:{width}}  {check.detail}")
    ran = sum(c.status == "pass" for c in outcome.checks)
    skipped = [c for c in outcome.checks if c.status == "skip" and not c.counts]
    print(
        f"openenv verdict: {outcome.verdict} ({ran} passed, {len(skipped)} skipped: not "
        "implemented in this openenv, or not measurable without a container provider)"
    )
    if not outcome.passed:
        names = ", ".join(c.check_id for c in outcome.failed) or "runtime.startup did not run"
        print(f"python-env validate: FAILED: {names}")
        return 1
    print(f"python-env validate: passed ({ran} checks)")
    return 0
