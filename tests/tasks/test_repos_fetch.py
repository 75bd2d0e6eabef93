"""The sdist fetcher and snapshot reader, against a hand-built sdist served from 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from python_env.errors import TaskError
from python_env.tasks.repos.fetch import SdistError, extract_snapshot, fetch_sdist
from python_env.tasks.repos.projects import PROJECTS, ExcludedTest, Project

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
GOOD_FILES: dict[str, bytes] = {
    "demo-1.0/PKG-INFO": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    "demo-1.0/README.md": b"# demo\n",
    "demo-1.0/src/demo/__init__.py": b'"""Demo."""\n',
    "demo-1.0/src/demo/core.py": b"def add(a, b):\n    return a + b\n",
    "demo-1.0/src/demo/data.txt": "caf\u00e9\n".encode(),
    "demo-1.0/src/demo/__pycache__/core.cpython-311.pyc": b"\x00compiled",
    "demo-1.0/src/demo/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
    "demo-1.0/src/demo/latin1.txt": "caf\u00e9\n".encode("latin-1"),
    "demo-1.0/tests/test_core.py": b"from demo.core import add\n\n\ndef test_add():\n"
    b"    assert add(1, 2) == 3\n",
    "demo-1.0/tests/data/sample.json": b"{}\n",
    "demo-1.0/tests/suite/.git": b"gitdir: ../../.git/modules/suite\n",  # a submodule's link
}


def make_sdist(
    files: dict[str, bytes], extra: Callable[[tarfile.TarFile], None] | None = None
) -> bytes:
    """A .tar.gz in memory, byte-for-byte reproducible (fixed mtimes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        parents = {n.rsplit("/", i)[0] for n in files for i in range(1, n.count("/") + 1)}
        for name in sorted(parents):
            archive.addfile(_dir(name))
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if extra is not None:
            extra(archive)
    return gzip.compress(raw.getvalue(), mtime=0)


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def demo_project(sdist: bytes, **changes: object) -> Project:
    project = Project(
        name="Demo_Pkg",  # normalised to demo-pkg in the index URL
        version="1.0",
        licence="MIT",
        sdist_url="https://files.example.invalid/packages/demo-1.0.tar.gz",
        sha256=hashlib.sha256(sdist).hexdigest(),
        package_dir="src/demo",
        test_paths=("tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2026 Demo",
        homepage="https://example.invalid/demo",
    )
    return replace(project, **changes)  # type: ignore[arg-type]


class Index:
    """A PEP 691 index on 127.0.0.1 serving fixed routes, counting the requests it gets."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index.requests.append(self.path)
                kind, body = index.routes.get(self.path, ("text/plain", b""))
                self.send_response(200 if self.path in index.routes else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def publish(self, sdist: bytes, *, listed_sha256: str | None = None, url: str = "") -> None:
        """List one sdist for demo-pkg (its URL relative to the listing unless given)."""
        listed = listed_sha256 or hashlib.sha256(sdist).hexdigest()
        files = [{"filename": "demo-1.0.tar.gz", "url": url or "../../files/demo-1.0.tar.gz",
                  "hashes": {"sha256": listed}}]  # fmt: skip
        listing = json.dumps({"meta": {"api-version": "1.0"}, "name": "demo-pkg", "files": files})
        self.routes["/simple/demo-pkg/"] = (SIMPLE_JSON, listing.encode())
        self.routes["/files/demo-1.0.tar.gz"] = ("application/gzip", sdist)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    served = Index()
    yield served
    served.close()


def test_fetch_downloads_verifies_then_serves_from_the_cache(index: Index, tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    index.publish(sdist)
    project = demo_project(sdist)

    path = fetch_sdist(project, tmp_path, index_url=index.url + "/")
    assert path.read_bytes() == sdist
    assert path == tmp_path / project.sha256 / "demo-1.0.tar.gz"
    assert index.requests == ["/simple/demo-pkg/", "/files/demo-1.0.tar.gz"]

    assert fetch_sdist(project, tmp_path, index_url=index.url) == path
    assert len(index.requests) == 2  # a cache hit asks nothing
    assert [p.name for p in path.parent.iterdir()] == ["demo-1.0.tar.gz"]


def test_a_damaged_cache_entry_is_fetched_again(index: Index, tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    index.publish(sdist)
    project = demo_project(sdist)
    cached = tmp_path / project.sha256 / "demo-1.0.tar.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")

    assert fetch_sdist(project, tmp_path, index_url=index.url).read_bytes() == sdist
    assert len(index.requests) == 2


def test_bytes_that_do_not_match_the_pin_are_refused(index: Index, tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    tampered = make_sdist({**GOOD_FILES, "demo-1.0/src/demo/core.py": b"evil = True\n"})
    pinned = hashlib.sha256(sdist).hexdigest()
    index.publish(tampered, listed_sha256=pinned)  # the listing lies; the bytes do not

    with pytest.raises(SdistError, match="sha256 mismatch") as caught:
        fetch_sdist(demo_project(sdist), tmp_path, index_url=index.url)
    assert isinstance(caught.value, TaskError)
    assert caught.value.details["expected"] == pinned
    assert caught.value.details["actual"] == hashlib.sha256(tampered).hexdigest()
    assert list(tmp_path.rglob("*.*")) == []  # neither the file nor a partial download is kept


def test_an_index_without_the_pinned_hash_is_refused_before_downloading(
    index: Index, tmp_path: Path
) -> None:
    sdist = make_sdist(GOOD_FILES)
    index.publish(sdist, listed_sha256="0" * 64)

    with pytest.raises(SdistError, match="lists no file with sha256"):
        fetch_sdist(demo_project(sdist), tmp_path, index_url=index.url)
    assert index.requests == ["/simple/demo-pkg/"]


def test_an_absolute_file_url_in_the_listing_is_followed(index: Index, tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    index.publish(sdist, url=f"{index.url}/files/demo-1.0.tar.gz")
    assert fetch_sdist(demo_project(sdist), tmp_path, index_url=index.url).read_bytes() == sdist


def test_an_index_that_does_not_answer_is_an_sdist_error(tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    with pytest.raises(SdistError, match="did not answer"):
        fetch_sdist(demo_project(sdist), tmp_path, index_url="http://127.0.0.1:9", timeout=5)


def test_extract_snapshot_reads_the_package_and_tests_as_text(tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist)

    snapshot = extract_snapshot(demo_project(sdist), path)
    assert dict(snapshot) == {
        "src/demo/__init__.py": '"""Demo."""\n',
        "src/demo/core.py": "def add(a, b):\n    return a + b\n",
        "src/demo/data.txt": "caf\u00e9\n",
        "tests/data/sample.json": "{}\n",
        "tests/test_core.py": GOOD_FILES["demo-1.0/tests/test_core.py"].decode(),
    }
    assert snapshot.skipped == {
        "src/demo/__pycache__/core.cpython-311.pyc": "compiled",
        "src/demo/latin1.txt": "not UTF-8",
        "src/demo/logo.png": "binary",
        "tests/suite/.git": "version control",
    }


def _member(name: str, kind: bytes, link: str = "") -> Callable[[tarfile.TarFile], None]:
    def add(archive: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        data = b"x = 1\n" if kind == tarfile.REGTYPE else b""
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data) if data else None)

    return add


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (_member("demo-1.0/../escape.py", tarfile.REGTYPE), "unsafe member path"),
        (_member("/etc/cron.d/demo", tarfile.REGTYPE), "unsafe member path"),
        (_member("demo-1.0/src/demo/../../../up.py", tarfile.REGTYPE), "unsafe member path"),
        (_member("demo-1.0/src/demo/link.py", tarfile.SYMTYPE, "/etc/passwd"), "link or special"),
        (_member("demo-1.0/src/demo/rel.py", tarfile.SYMTYPE, "core.py"), "link or special"),
        (_member("demo-1.0/src/demo/hard.py", tarfile.LNKTYPE, "demo-1.0/README.md"), "link"),
        (_member("demo-1.0/src/demo/tty", tarfile.CHRTYPE), "link or special"),
        (_member("demo-1.0/tests/fifo", tarfile.FIFOTYPE), "link or special"),
        (_member("other-1.0/setup.py", tarfile.REGTYPE), "top-level entries"),
        (_member("demo-1.0/src/demo/core.py", tarfile.REGTYPE), "twice"),
    ],
)
def test_unsafe_archives_are_refused_whole(
    extra: Callable[[tarfile.TarFile], None], problem: str, tmp_path: Path
) -> None:
    sdist = make_sdist(GOOD_FILES, extra)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist)
    with pytest.raises(SdistError, match=re.escape(problem)):
        extract_snapshot(demo_project(sdist), path)


def test_missing_paths_and_unreadable_archives_are_refused(tmp_path: Path) -> None:
    sdist = make_sdist(GOOD_FILES)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(sdist)
    with pytest.raises(SdistError, match="no text file under 'testing'"):
        extract_snapshot(demo_project(sdist, test_paths=("tests", "testing")), path)
    path.write_bytes(b"not a tarball")
    with pytest.raises(SdistError, match="cannot read"):
        extract_snapshot(demo_project(sdist), path)


def test_a_project_refuses_a_copyleft_licence_and_odd_paths() -> None:
    sdist = make_sdist(GOOD_FILES)
    with pytest.raises(ValueError, match="permissive"):
        demo_project(sdist, licence="GPL-3.0-only")
    with pytest.raises(ValueError, match="relative POSIX path"):
        demo_project(sdist, test_paths=("../tests",))
    assert demo_project(sdist).import_root == "src"
    assert demo_project(sdist, package_dir="demo").import_root == ""
    assert ExcludedTest("tests/test_a.py::test_b", "why").is_node_id


def test_the_pinned_projects_are_well_formed() -> None:
    names = [p.name for p in PROJECTS]
    assert len(set(names)) == len(names) >= 8
    assert {p.split for p in PROJECTS} == {"train", "test"}
    for project in PROJECTS:
        assert project.sdist_url.startswith("https://files.pythonhosted.org/packages/")
        assert project.sdist_filename.endswith(f"-{project.version}.tar.gz")
        assert project.attribution.startswith("Copyright")
        for excluded in project.excluded_tests:
            assert excluded.reason
            assert any(excluded.target.startswith(root + "/") for root in project.test_paths)
