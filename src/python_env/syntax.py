"""Python syntax trees built one at a time in this process.

CPython 3.11 tracks the depth of a tree it converts between C and Python objects (``ast.parse``,
``compile`` of a tree, ``ast.literal_eval`` of a string) in one counter for the whole
interpreter. Two threads converting at once can fail with ``SystemError: AST constructor
recursion depth mismatch`` (python/cpython#106905). The server validates tasks and serves
sessions on several threads, and a repository build runs suites in parallel, so every such
conversion in the package goes through ``LOCK``. Without it, a task's validation at start-up
failed now and then.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse``, holding ``LOCK``."""
    with LOCK:
        return ast.parse(source, filename)


def literal_eval(text: str) -> Any:
    """``ast.literal_eval`` of a string, holding ``LOCK`` (a node needs no lock: no tree is
    built)."""
    with LOCK:
        return ast.literal_eval(text)
