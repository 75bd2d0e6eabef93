"""What the worker imports before it forks: the standard library modules tests commonly use.

Standard library only (the worker loads it by path). A job's child finds these in memory, shared
with its worker, so it never reads the standard library from disk (which a chrooted job cannot).
"""

from __future__ import annotations

import importlib
import time

# fmt: off
PRELOAD = [
    # what the brief lists
    "json", "re", "collections", "itertools", "functools", "math", "decimal", "datetime",
    "dataclasses", "sqlite3", "hashlib", "hmac", "secrets", "random", "string", "textwrap", "csv",
    "io", "pathlib", "tempfile", "subprocess", "shlex", "pickle", "typing", "enum", "heapq",
    "bisect", "statistics", "copy", "os", "time",
    # imported lazily by those, or common in tests; ~0.1 ms more per fork in all
    "encodings.idna", "encodings.latin_1", "encodings.ascii", "_strptime", "locale", "calendar",
    "fractions", "numbers", "operator", "contextlib", "types", "weakref", "warnings", "traceback",
    "array", "struct", "zlib", "base64", "binascii", "uuid", "urllib.parse", "fnmatch", "glob",
    "shutil", "difflib", "pprint", "reprlib", "queue", "threading", "unicodedata", "ipaddress",
    "graphlib", "zoneinfo", "ast",
    # imported at module level by task code (curated and generated)
    "logging", "cmath", "inspect", "abc", "shelve",
]
# fmt: on


def preload(names: list[str]) -> list[str]:
    """Import what tests commonly use, so forked children never need to read the stdlib."""
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional module only limits preloading
            failed.append(name)
    time.localtime()  # caches the timezone before the filesystem is restricted
    "warm-up".encode("idna")
    return failed
