"""Duplicate detection for the backup deduplicator: which files have identical content."""

from __future__ import annotations

import hashlib

CHUNK_SIZE = 64 * 1024

FileEntry = tuple[str, bytes]


def file_digest(data: bytes) -> str:
    """SHA-256 hex digest of a file's content, fed in chunks like the on-disk scanner does."""
    digest = hashlib.sha256()
    for start in range(0, len(data), CHUNK_SIZE):
        digest.update(data[start : start + CHUNK_SIZE])
    return digest.hexdigest()


def find_duplicates(files: list[FileEntry]) -> list[list[str]]:
    """Groups of paths whose contents are identical, for ``(path, content)`` pairs with unique paths.

    Empty files are ignored. Each group is sorted and the groups are sorted.
    """
    by_size: dict[int, list[FileEntry]] = {}
    for path, data in files:
        if data:
            by_size.setdefault(len(data), []).append((path, data))
    duplicates = []
    for candidates in by_size.values():
        if len(candidates) < 2:
            continue
        by_digest: dict[str, list[str]] = {}
        for path, data in candidates:
            by_digest.setdefault(file_digest(data), []).append(path)
        duplicates.extend(sorted(group) for group in by_digest.values() if len(group) > 1)
    return sorted(duplicates)


def wasted_bytes(files: list[FileEntry]) -> int:
    """Bytes freed by keeping only the first path (by name) of every duplicate group."""
    sizes: dict[str, int] = {}
    for path, data in files:
        sizes.setdefault(path, len(data))
    return sum(sizes[path] for group in find_duplicates(files) for path in group[1:])
