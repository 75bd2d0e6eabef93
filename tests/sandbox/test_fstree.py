"""Clean-up that nothing a job leaves on disk can defeat (red-team finding 1: the pool kill)."""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
from pathlib import Path

import pytest

from python_env.errors import SandboxError
from python_env.sandbox import confine, fstree, scratch


def _deep_tree(root: Path, depth: int, target: Path) -> None:
    """``depth`` nested directories, deeper than the recursion limit and than PATH_MAX."""
    home = os.open(".", os.O_RDONLY)
    try:
        os.chdir(root)
        for level in range(depth):
            os.mkdir("d")
            os.chdir("d")
            if level % 500 == 0:
                Path("f").write_text("x")
                os.symlink(target, "link")
                os.mkdir("locked")
                os.chmod("locked", 0)
        os.chmod(".", 0o500)  # no write permission at the bottom either
    finally:
        os.fchdir(home)
        os.close(home)


def test_a_tree_deeper_than_recursion_and_path_limits_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    slot = tmp_path / "slot"
    slot.mkdir()
    _deep_tree(slot, max(3000, sys.getrecursionlimit() + 100), target)
    fstree.remove_tree(str(slot))
    assert [p.name for p in tmp_path.iterdir()] == ["target"]
    assert target.read_text() == "keep"


def test_links_are_removed_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    slot = tmp_path / "slot"
    slot.mkdir()
    (slot / "to-dir").symlink_to(outside)
    (slot / "to-file").symlink_to(outside / "keep")
    os.link(outside / "keep", slot / "hardlink")
    fstree.empty_dir(str(slot))
    assert list(slot.iterdir()) == []
    assert (outside / "keep").read_text() == "keep"


def test_empty_dir_keeps_what_it_is_told_to(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "x").write_text("y")
    fstree.empty_dir(str(tmp_path), keep=("dev",))
    assert [p.name for p in tmp_path.iterdir()] == ["dev"]


def test_stale_scratch_never_crashes_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dead server's scratch holding a job's deep tree is removed; a live one is left alone."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stale = tmp_path / f"{scratch.SCRATCH_PREFIX}dead"
    (stale / "slot-0-1").mkdir(parents=True)
    (stale / scratch.OWNER_LOCK).write_text("")
    _deep_tree(stale / "slot-0-1", 3000, tmp_path)
    alive = tmp_path / f"{scratch.SCRATCH_PREFIX}alive"
    alive.mkdir()
    owner = os.open(alive / scratch.OWNER_LOCK, os.O_CREAT | os.O_RDWR)
    fcntl.flock(owner, fcntl.LOCK_EX)
    other = tmp_path / f"{scratch.SCRATCH_PREFIX}uids"  # no owner file: not a scratch root
    other.mkdir()
    try:
        assert scratch.remove_stale() == [str(stale)]
    finally:
        os.close(owner)
    assert not stale.exists() and alive.exists() and other.exists()


def test_a_scratch_root_that_fails_its_checks_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TMPDIR that other uids cannot pass through is refused, and the half-made root with it;
    a released root is released once."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr("tempfile.tempdir", str(private))
    with pytest.raises(SandboxError, match="lets only its owner through"):
        scratch.ScratchRoot(spare_uids=True)
    assert list(private.iterdir()) == []
    root = scratch.ScratchRoot(spare_uids=False)
    assert sorted(p.name for p in Path(root.path).iterdir()) == [scratch.OWNER_LOCK, "code"]
    root.release()
    root.release()  # a second release closes no descriptor another owner may hold now
    assert list(private.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_an_unprivileged_owner_removes_what_it_locked_itself_out_of() -> None:
    """An unprivileged worker has no DAC override: it must restore permissions to remove."""
    base = Path(tempfile.mkdtemp(prefix="pyenv-fstree-"))  # pytest's tmp_path is root-only
    base.chmod(0o755)
    slot = base / "slot"
    slot.mkdir()
    os.chown(slot, 65534, 65534)

    def as_nobody() -> str:
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        _deep_tree(slot, 1200, base)
        (slot / "closed").mkdir()
        (slot / "closed" / "inner").mkdir()
        (slot / "closed" / "inner" / "f").write_text("x")
        (slot / "closed" / "inner").chmod(0o500)
        (slot / "closed").chmod(0)
        fstree.empty_dir(str(slot))
        return ",".join(os.listdir(slot))

    try:
        ok, detail = confine.in_child(as_nobody)
        assert ok, detail
        assert list(slot.iterdir()) == []
    finally:
        fstree.remove_tree(str(base))
