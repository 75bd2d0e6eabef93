"""Where repository tasks live: one snapshot file per project version, tasks as lines of diffs.

Layout under a store directory (the package's ``tasks/data/repos``, or one a user builds)::

    snapshots/<name>-<version>.json.gz   {"project": ProjectRef, "digest": str, "files": {...}}
    <split>.jsonl.gz                      one RepoTask per line, sorted by id

A snapshot is read once per process, on first use, and checked against its digest; a task
names its snapshot by digest. Files are written byte-for-byte reproducibly (gzip without a
timestamp, sorted keys), so a rebuild with the same seed gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable
from pathlib import Path

from python_env.tasks.repo_task import ProjectRef, RepoTask
from python_env.tasks.workspace import Workspace

SNAPSHOTS = "snapshots"


class RepoStore:
    """Reads (and writes) the snapshots and task lines of one store directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._index: dict[str, Path] | None = None
        self._snapshots: dict[str, Workspace] = {}
        self._projects: dict[str, ProjectRef] = {}

    def splits(self) -> list[str]:
        """The splits this store holds tasks for."""
        return sorted(p.name.removesuffix(".jsonl.gz") for p in self.root.glob("*.jsonl.gz"))

    def tasks(self, split: str) -> list[RepoTask]:
        """Every task of ``split`` ([] when the store has none)."""
        path = self.root / f"{split}.jsonl.gz"
        if not path.exists():
            return []
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [RepoTask.model_validate_json(line) for line in f if line.strip()]

    def snapshot(self, digest: str) -> Workspace:
        """The base tree with this digest (KeyError if the store has none)."""
        with self._lock:
            if digest not in self._snapshots:
                path = self._snapshot_index()[digest]
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    record = json.load(f)
                tree = Workspace(record["files"])
                if tree.digest() != digest:
                    raise ValueError(f"{path.name}: its files do not have the digest it names")
                self._snapshots[digest] = tree
                self._projects[digest] = ProjectRef.model_validate(record["project"])
            return self._snapshots[digest]

    def project(self, digest: str) -> ProjectRef:
        """The project and version of a snapshot."""
        self.snapshot(digest)
        return self._projects[digest]

    def _snapshot_index(self) -> dict[str, Path]:
        if self._index is None:
            index = {}
            for path in sorted((self.root / SNAPSHOTS).glob("*.json.gz")):
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    index[_digest_of(f.read(200))] = path
            self._index = index
        return self._index

    def write_snapshot(self, project: ProjectRef, tree: Workspace) -> str:
        """Store a project version's tree; returns its digest."""
        digest = tree.digest()
        record = {"digest": digest, "project": project.model_dump(mode="json"), "files": dict(tree)}
        name = f"{project.name}-{project.version}.json.gz"
        _write_gz(self.root / SNAPSHOTS / name, json.dumps(record, sort_keys=False) + "\n")
        self._index = None
        return digest

    def write_tasks(self, split: str, tasks: Iterable[RepoTask]) -> int:
        """Store a split's tasks (replacing what was there); returns how many."""
        lines = [t.model_dump_json() for t in sorted(tasks, key=lambda t: t.id)]
        _write_gz(self.root / f"{split}.jsonl.gz", "".join(line + "\n" for line in lines))
        return len(lines)


def _digest_of(head: str) -> str:
    """The digest from the start of a snapshot file (it is the first key written)."""
    prefix = '{"digest": "'
    if not head.startswith(prefix):
        raise ValueError("a snapshot file must start with its digest")
    return head[len(prefix) : len(prefix) + 64]


def _write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
