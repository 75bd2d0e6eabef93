"""A local Ray instance for one test module (``--ray`` tests), checked to stay on 127.0.0.1 and
to leave no process behind when it shuts down."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from importlib import util
from pathlib import Path

import pytest

HAVE_RAY = util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason="ray is not installed (pip install -e '.[dev,generate,ray]')"
)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``."""
    found: set[int] = set()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found |= {child} | descendants(child)
    return found


def running(pids: set[int]) -> set[int]:
    """The ``pids`` that still run (zombies do not)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def listening_addresses(pids: set[int]) -> set[str]:
    """The local addresses of the TCP sockets ``pids`` listen on (hex, as /proc/net shows)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            links = [os.readlink(f) for f in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.add(fields[1].rsplit(":", 1)[0])
    return addresses


def ray_processes(pids: set[int]) -> set[int]:
    """Ray's processes among ``pids`` (this process's new descendants) and everything they
    started (actors' sandboxes and servers); not, e.g., multiprocessing's resource tracker."""
    roots = set()
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"/ray/" in command:  # gcs_server, raylet, monitors
            roots.add(pid)
    return roots.union(*(descendants(root) for root in roots))


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def local_ray(num_cpus: int = 2) -> Iterator[object]:
    """Body of a module-scoped fixture: a local Ray instance of ``num_cpus`` CPUs (the code under
    test finds it initialized and uses it). Before it shuts down, every socket its processes
    listen on must be a loopback one and usage reporting must be off; after, none of its
    processes may be left."""
    from python_env.ray_support import LOCAL, ray_session

    before = descendants(os.getpid())
    with ray_session(LOCAL, num_cpus=num_cpus) as cluster:
        yield cluster
        ours = ray_processes(descendants(os.getpid()) - before)
        listening = listening_addresses(ours | {os.getpid()})
        import ray  # the head's dashboard process is the one that would report usage

        session = Path(ray._private.worker._global_node.get_session_dir_path())
        dashboard = (session / "logs" / "dashboard.log").read_text(errors="replace")
    assert listening <= LOOPBACK, f"Ray listens beyond 127.0.0.1: {listening - LOOPBACK}"
    assert "Usage reporting is disabled" in dashboard
    deadline = time.monotonic() + 20
    while running(ours) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(ours), f"Ray left processes behind: {sorted(running(ours))}"
