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
    duplicates = []
    seen: list[str] = []
    for i, (path, data) in enumerate(files):
        if not data or path in seen:
            continue
        group = [path]
        for other_path, other_data in files[i + 1 :]:
            if file_digest(other_data) == file_digest(data):
                group.append(other_path)
        seen.extend(group)
        if len(group) > 1:
            duplicates.append(sorted(group))
    return sorted(duplicates)


def wasted_bytes(files: list[FileEntry]) -> int:
    """Bytes freed by keeping only the first path (by name) of every duplicate group."""
    total = 0
    for group in find_duplicates(files):
        for path in group[1:]:
            for other_path, data in files:
                if other_path == path:
                    total += len(data)
                    break
    return total
