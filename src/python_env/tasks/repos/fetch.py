"""Download a pinned project's sdist (build time only) and read its package and tests as text.

``fetch_sdist`` asks a PyPI-compatible index's simple JSON API (PEP 691, ``{index}/simple/{name}/``,
what pip reads) where the file with the pinned sha256 lives, downloads it with the standard library
and checks the digest; the verified file is cached under its sha256 and never downloaded again.
The index is a parameter so that tests serve a hand-made sdist from 127.0.0.1: nothing here is
reached at serve time, and no test touches the internet.

``extract_snapshot`` reads the archive in memory (nothing is written to disk): the UTF-8 text files
under the project's package directory and test paths, keyed by POSIX path relative to the sdist's
top directory. An archive with an absolute or ``..`` member name, a link or a device anywhere in
it is refused whole: a well-formed sdist has none, and a snapshot is later written to disk and run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

from python_env.errors import TaskError
from python_env.tasks.repos.projects import Project

DEFAULT_INDEX = "https://pypi.org"
USER_AGENT = "python_env-repo-fetch/0.1 (build-time sdist fetcher)"
MAX_SDIST_BYTES = 64 * 1024 * 1024  # the largest sdist pinned is ~1 MiB; this is a runaway guard
MAX_FILE_BYTES = 1024 * 1024  # a larger file is a data table, not code to inject bugs into
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 20_000  # an sdist with more members than this is not a small pure-Python project
_CHUNK = 1 << 16
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class SdistError(TaskError):
    """A project's sdist could not be fetched, failed its sha256 check, or is not a safe, readable
    archive (``details``: project, url, expected, actual, member as they apply)."""


class Snapshot(dict[str, str]):
    """The text files of a project (POSIX path relative to the sdist's top directory -> content).

    ``skipped`` maps each file that was left out to why (binary, not UTF-8, too large), so a
    caller can report what a snapshot lacks.
    """

    def __init__(self, files: dict[str, str], skipped: dict[str, str]) -> None:
        super().__init__(files)
        self.skipped = skipped


def fetch_sdist(
    project: Project, cache_dir: Path, *, index_url: str = DEFAULT_INDEX, timeout: float = 60.0
) -> Path:
    """The path of ``project``'s verified sdist in ``cache_dir``, downloaded from ``index_url``
    only when the cache lacks it.

    Raises ``SdistError`` when the index does not list an sdist with the pinned sha256, when the
    downloaded bytes hash to anything else (nothing is kept then), or on a network failure.
    """
    target = cache_dir / project.sha256 / project.sdist_filename
    if target.is_file():
        if _sha256_of(target) == project.sha256:
            return target
        target.unlink()  # a damaged cache entry (disk fault, hand edit): fetch it again
    url = _sdist_url_from_index(project, index_url, timeout)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary name and renamed only once verified: a partial or wrong download
    # never sits at the cached path.
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            actual = _download(url, out, project, timeout)
        if actual != project.sha256:
            raise SdistError(
                f"{project.name} {project.version}: sha256 mismatch for {url}: "
                f"expected {project.sha256}, got {actual}; refusing the download",
                project=project.name,
                url=url,
                expected=project.sha256,
                actual=actual,
            )
        temp.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target


def extract_snapshot(project: Project, sdist_path: Path) -> Snapshot:
    """The text files of ``project``'s package directory and test paths inside its sdist.

    Files under ``__pycache__`` or ``.git``, compiled files, binary or non-UTF-8 files and files
    over ``MAX_FILE_BYTES`` are left out and listed in ``Snapshot.skipped``. Raises ``SdistError``
    for an unreadable archive, an unsafe member anywhere in it (absolute path, ``..``, link,
    device), a snapshot over ``MAX_SNAPSHOT_BYTES``, or a package directory or test path with no
    text file.
    """
    wanted = (project.package_dir, *project.test_paths)
    files: dict[str, str] = {}
    skipped: dict[str, str] = {}
    total = 0
    try:
        with tarfile.open(sdist_path, mode="r:gz") as archive:
            members = archive.getmembers()
            if len(members) > MAX_MEMBERS:
                raise _bad(project, f"has {len(members)} members (limit {MAX_MEMBERS})")
            top = _top_directory(project, members)
            for member in members:
                if member.isdir():
                    continue
                relative = member.name[len(top) + 1 :]
                if not any(_is_under(relative, root) for root in wanted):
                    continue
                reason = _skip_reason(relative, member.size)
                if reason is None:
                    data = _read_member(archive, member, project)
                    text, reason = _decode(data)
                    if text is not None:
                        total += len(data)
                        if total > MAX_SNAPSHOT_BYTES:
                            raise _bad(project, f"snapshot exceeds {MAX_SNAPSHOT_BYTES} bytes")
                        files[relative] = text
                        continue
                skipped[relative] = reason
    except (tarfile.TarError, EOFError, OSError) as error:
        raise SdistError(
            f"{project.name} {project.version}: cannot read {sdist_path}: {error}",
            project=project.name,
        ) from error
    for root in wanted:  # a pin whose paths moved between versions must not pass unnoticed
        if not any(_is_under(path, root) for path in files):
            raise _bad(project, f"has no text file under {root!r}")
    return Snapshot(dict(sorted(files.items())), dict(sorted(skipped.items())))


def _sdist_url_from_index(project: Project, index_url: str, timeout: float) -> str:
    """The download URL that the index's simple JSON API (PEP 691) gives for the sdist with the
    pinned sha256."""
    name = re.sub(r"[-_.]+", "-", project.name).lower()  # PEP 503 normalisation
    api = f"{index_url.rstrip('/')}/simple/{name}/"
    request = urllib.request.Request(
        api, headers={"User-Agent": USER_AGENT, "Accept": _SIMPLE_JSON}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            kind = response.headers.get_content_type()
            listing: Any = json.load(response) if kind == _SIMPLE_JSON else None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise SdistError(
            f"{project.name} {project.version}: the index at {index_url} did not answer: {error}",
            project=project.name,
            url=api,
        ) from error
    if not isinstance(listing, dict) or not isinstance(listing.get("files"), list):
        raise SdistError(
            f"{project.name} {project.version}: {api} gave no PEP 691 JSON file list",
            project=project.name,
            url=api,
        )
    for entry in listing["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        hashes = entry.get("hashes")
        if isinstance(hashes, dict) and hashes.get("sha256") == project.sha256:
            # An index may give the URL relative to the listing.
            return urllib.parse.urljoin(api, str(entry["url"]))
    raise SdistError(
        f"{project.name} {project.version}: the index lists no file with sha256 "
        f"{project.sha256} (wanted {project.sdist_filename}); refusing to fetch",
        project=project.name,
        url=api,
        expected=project.sha256,
    )


def _download(url: str, out: IO[bytes], project: Project, timeout: float) -> str:
    """Stream ``url`` into ``out`` (at most ``MAX_SDIST_BYTES``) and return its sha256."""
    digest = hashlib.sha256()
    size = 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > MAX_SDIST_BYTES:
                    raise _bad(project, f"download from {url} exceeds {MAX_SDIST_BYTES} bytes")
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as error:
        raise SdistError(
            f"{project.name} {project.version}: download of {url} failed: {error}",
            project=project.name,
            url=url,
        ) from error
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _top_directory(project: Project, members: list[tarfile.TarInfo]) -> str:
    """The single top directory of an sdist (``name-version``), after every member is checked."""
    tops: set[str] = set()
    seen: set[str] = set()
    data_filter = getattr(tarfile, "data_filter", None)  # Python >= 3.11.4
    for member in members:
        name = member.name
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
            raise _bad(project, f"has an unsafe member path {name!r}", member=name)
        if not (member.isfile() or member.isdir()):
            # Links, devices and FIFOs have no place in an sdist of text files.
            raise _bad(project, f"has a link or special member {name!r}", member=name)
        if data_filter is not None:
            try:
                data_filter(member, "/nonexistent-destination")
            except tarfile.FilterError as error:
                raise _bad(
                    project, f"member {name!r} fails tarfile's data filter: {error}"
                ) from error
        normal = posixpath.normpath(name)
        if normal in seen and not member.isdir():
            raise _bad(project, f"has the member {name!r} twice", member=name)
        seen.add(normal)
        tops.add(parts[0])
    if len(tops) != 1:
        raise _bad(project, f"has {len(tops)} top-level entries, expected one directory")
    return tops.pop()


def _is_under(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/")


def _skip_reason(path: str, size: int) -> str | None:
    parts = path.split("/")
    if "__pycache__" in parts or path.endswith((".pyc", ".pyo")):
        return "compiled"
    if ".git" in parts:  # a submodule's link file: version control, not the project's files
        return "version control"
    if size > MAX_FILE_BYTES:
        return f"too large ({size} bytes > {MAX_FILE_BYTES})"
    return None


def _decode(data: bytes) -> tuple[str | None, str]:
    """The text of a file, or None and why it is not text."""
    if b"\0" in data:
        return None, "binary"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "not UTF-8"


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo, project: Project) -> bytes:
    stream = archive.extractfile(member)
    if stream is None:
        raise _bad(project, f"member {member.name!r} has no data", member=member.name)
    with stream:
        # The header's size was capped by _skip_reason; read one byte more to catch a liar.
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) != member.size:
        raise _bad(project, f"member {member.name!r} is not the size its header says")
    return data


def _bad(project: Project, problem: str, *, member: str | None = None) -> SdistError:
    return SdistError(
        f"{project.name} {project.version}: the sdist {problem}",
        project=project.name,
        member=member,
    )
