"""The generated dataset on disk: ``{train,test}.jsonl.gz`` plus ``manifest.json``.

Files are deterministic: records sorted by task id, keys sorted, compact JSON, gzip with
``mtime=0`` and no file name. Splits load lazily (first access), so importing the catalog costs
nothing; loading a split validates every record into a ``Task``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, overload

from python_env.errors import InvalidTask
from python_env.types import Task

SPLITS = ("train", "test")
MANIFEST = "manifest.json"
_TASK_FIELDS = tuple(Task.model_fields)


def default_dir() -> Path:
    return Path(str(resources.files("python_env.tasks").joinpath("data", "generated")))


def split_file(root: Path, split: str) -> Path:
    return root / f"{split}.jsonl.gz"


def encode(records: Iterable[dict[str, Any]]) -> bytes:
    """Gzipped JSON lines, byte-for-byte reproducible."""
    text = "".join(
        json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        for r in sorted(records, key=lambda r: str(r["info"]["id"]))
    )
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def read_records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def to_task(record: dict[str, Any]) -> Task:
    return Task.model_validate({k: record[k] for k in _TASK_FIELDS if k in record})


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts of one split, by kind, kind set, category, difficulty, corpus, injector, size."""
    counts: dict[str, Counter[str]] = {
        k: Counter() for k in ("kind", "kinds", "category", "difficulty", "corpus", "injector",
                               "num_issues", "family")
    }  # fmt: skip
    for rec in records:
        info = rec["info"]
        counts["kind"].update(info["kinds"])
        counts["kinds"]["+".join(info["kinds"])] += 1
        counts["category"].update(info["categories"])
        counts["difficulty"][info["difficulty"]] += 1
        counts["corpus"][info["source"]] += 1
        counts["num_issues"][str(info["num_issues"])] += 1
        for inj in rec["meta"]["injections"]:
            counts["injector"][inj["injector"]] += 1
            counts["family"][inj["family"]] += 1
    summary: dict[str, Any] = {k: dict(sorted(v.items())) for k, v in counts.items()}
    summary["tasks"] = len(records)
    summary["source_functions"] = len({r["meta"]["source"] for r in records})
    summary["source_groups"] = len({r["meta"]["group"] for r in records})
    return summary


def write_dataset(
    root: Path, splits: dict[str, list[dict[str, Any]]], manifest: dict[str, Any]
) -> dict[str, Any]:
    """Write every split and the manifest (with per-split counts and file hashes)."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = dict(manifest)
    manifest["splits"] = {}
    manifest["files"] = {}
    for split in SPLITS:
        records = splits.get(split, [])
        data = encode(records)
        path = split_file(root, split)
        path.write_bytes(data)
        manifest["splits"][split] = summarise(records)
        manifest["files"][path.name] = {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    groups = [{r["meta"]["group"] for r in splits.get(s, [])} for s in SPLITS]
    sources = [{r["meta"]["source"] for r in splits.get(s, [])} for s in SPLITS]
    manifest["overlap"] = {
        "groups": len(groups[0] & groups[1]),
        "sources": len(sources[0] & sources[1]),
    }
    manifest["total_tasks"] = sum(len(v) for v in splits.values())
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (root / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def read_manifest(root: Path | None = None) -> dict[str, Any]:
    path = (root or default_dir()) / MANIFEST
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def available(root: Path | None = None) -> bool:
    root = root or default_dir()
    return all(split_file(root, s).is_file() for s in SPLITS)


class LazyTasks(Sequence[Task]):
    """A split read from disk on first use; thread-safe, loaded at most once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tasks: tuple[Task, ...] | None = None
        self._by_id: dict[str, Task] = {}
        self._lock = threading.Lock()

    @property
    def tasks(self) -> tuple[Task, ...]:
        if self._tasks is None:
            with self._lock:
                if self._tasks is None:
                    try:
                        loaded = tuple(to_task(r) for r in read_records(self.path))
                    except (OSError, ValueError, KeyError) as exc:
                        raise InvalidTask(f"{self.path.name}: {exc}") from exc
                    self._by_id = {t.id: t for t in loaded}
                    self._tasks = loaded
        return self._tasks

    def find(self, task_id: str) -> Task | None:
        self.tasks  # noqa: B018 - loads the split
        return self._by_id.get(task_id)

    def __len__(self) -> int:
        return len(self.tasks)

    @overload
    def __getitem__(self, index: int) -> Task: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Task]: ...
    def __getitem__(self, index: int | slice) -> Task | Sequence[Task]:
        return self.tasks[index]

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)


def generated_splits(root: Path | None = None) -> dict[str, LazyTasks]:
    """The shipped generated splits (empty if the dataset is not installed)."""
    root = root or default_dir()
    if not available(root):
        return {}
    return {split: LazyTasks(split_file(root, split)) for split in SPLITS}
