"""What a job child runs once confined: the warm-up, then the harness. Standard library only.

Loaded by file path in the sandbox worker, like the other stdlib-only modules of the sandbox.
"""

from __future__ import annotations

import array
import contextlib
import io
import json
import os
import socket
import sys
import threading
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING or __package__:
    from python_env.sandbox import harness
else:  # loaded by file path in the sandbox worker, after the harness (see worker.py)
    harness = sys.modules["pyenv_sandbox_harness"]


WARMUP_SOLUTION = (
    "from dataclasses import dataclass, field\nfrom decimal import Decimal\n"
    "import re, json, datetime, collections\n"
    "@dataclass\nclass Item:\n    name: str\n    price: Decimal = Decimal('0')\n"
    "    tags: list = field(default_factory=list)\n"
    "def parse(text):\n    return {k: v for k, v in re.findall(r'(\\w+)=(\\w+)', text)}\n"
    "class Store:\n    def __init__(self):\n        self.items = collections.OrderedDict()\n"
    "    def add(self, item):\n        if item.name in self.items:\n"
    "            raise ValueError(f'duplicate {item.name!r}')\n"
    "        self.items[item.name] = item\n        return len(self.items)\n"
)
WARMUP_TESTS = (
    "from solution import Item, Store, parse\nimport json, datetime\n"
    "from decimal import Decimal\n"
    "def test_parse():\n    return parse('a=1 b=2')\n"
    "def test_store():\n    s = Store()\n    s.add(Item('x', Decimal('1.10')))\n"
    "    try:\n        s.add(Item('x'))\n"
    "    except ValueError as exc:\n        return str(exc)\n"
    "def test_values():\n    return [json.dumps({'n': 1.5}), sorted({3, 1, 2}), "
    "datetime.date(2024, 2, 29).isoformat(), str(Decimal('2.675').quantize(Decimal('0.01')))]\n"
    "def test_fails():\n    assert 1 + 1 == 3, 'boom'\n"
)


def warm_up() -> None:
    """Run a small, typical job in the standby child before any job arrives.

    Its first touches of interpreter state cost copy-on-write page faults; taking them while
    the worker is idle keeps them off the job's critical path. Nothing of it is visible later:
    its modules are dropped and the real job re-imports solution and tests from scratch.
    """
    hooks = (sys.settrace, sys.setprofile, threading.settrace, threading.setprofile)
    harness.run_job({"solution": WARMUP_SOLUTION, "tests": WARMUP_TESTS}, io.StringIO())
    # The harness guards the tracer for the job; the real job must find the real functions.
    sys.settrace, sys.setprofile, threading.settrace, threading.setprofile = hooks
    for name in ("solution", "tests", "benchmark"):
        sys.modules.pop(name, None)


def run_harness(box: list[bytes]) -> None:
    """Run the job with the harness, results on fd 3, then exit without running atexit hooks.

    The payload comes in a box that is emptied here, so no frame keeps it while the job runs.
    """
    code = 0
    try:
        sys.argv = [""]
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = text_stream(1)
        sys.stderr = text_stream(2)
        out = text_stream(3, line_buffering=False)
        harness.run_job(json.loads(box.pop()), out)
        out.flush()
    except BaseException:  # a broken harness run is reported as a crash
        code = 1
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):  # the candidate may have broken them
            stream.flush()
    os._exit(code)


def text_stream(fd: int, line_buffering: bool = True) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        raw, encoding="utf-8", errors="backslashreplace", line_buffering=line_buffering
    )


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def received_fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(array.array("i", data[:usable]))
    return fds
