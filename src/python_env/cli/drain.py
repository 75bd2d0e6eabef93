"""``python-env drain``: take a server out of rotation and wait for its sessions to end.

Made for a Kubernetes preStop hook (deploy/kubernetes). The server's readiness check
(``GET /health/ready``) answers 503 "draining" from then on, while its open sessions play on;
the command waits until none is open or ``--timeout`` seconds have passed, and exits 0 either
way, saying how many were still open. The server accepts a drain only from its own host
(127.0.0.1 or ::1, not through a proxy).
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from typing import Any

from python_env.cli.help import at_least, command

POLL_S = 0.5


def register(sub: Any) -> None:
    summary = "stop a server taking sessions and wait for its open ones to end"
    parser = command(sub, "drain", summary, __doc__)
    parser.add_argument(
        "--url",
        default=None,
        help="the server (default: http://127.0.0.1:$PORT, with PORT 8000 when unset)",
    )
    parser.add_argument(
        "--timeout", type=at_least(0), default=300,
        help="seconds to wait for the open sessions to end",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from python_env.client import normalise_url
    from python_env.config import Settings
    from python_env.errors import InvalidRequest, ServerUnreachable

    url = normalise_url(args.url or f"http://127.0.0.1:{Settings.from_env().server.port}")
    try:
        status, body = _call(f"{url}/health/drain", "POST")
    except (OSError, ValueError) as exc:
        raise ServerUnreachable(f"cannot reach the python_env server at {url}: {exc}", url) from exc
    if status != 202:  # 403: not from the server's own host
        raise InvalidRequest(f"{url} refused to drain (HTTP {status}): {body.get('detail')}", "url")
    left = int(body["open_environments"])
    print(f"draining {url}: {_sessions(left)} open; waiting up to {args.timeout} s", flush=True)
    deadline = time.monotonic() + args.timeout
    while left and (wait := deadline - time.monotonic()) > 0:
        time.sleep(min(POLL_S, wait))
        try:
            left = int(_call(f"{url}/health", "GET")[1]["open_environments"])
        except (OSError, ValueError, KeyError):
            print("drained: the server went away")
            return 0
    if left:
        print(f"drain timed out after {args.timeout} s: {_sessions(left)} still open")
    else:
        print("drained: no session open")
    return 0


def _call(url: str, method: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a request, whatever the status."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:  # /health answers 503 while the sandbox is down
        return exc.code, json.loads(exc.read(1_000_000) or b"{}")


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"
