"""Unified diffs over workspaces: apply an agent's patch, diff two snapshots, find changed lines.

Parsing is ``unidiff``'s: ``diff --git`` headers, plain ``---``/``+++`` headers with or without
``a/`` and ``b/``, ``/dev/null`` for new and deleted files, several files and hunks, and
``\\ No newline at end of file``. It trusts the ``@@`` counts, as ``git apply`` does. Applying
is ours, like ``patch`` without fuzz: a hunk goes where its ``@@`` line says, moved by the
offset of the hunk before it, else at the nearest place within ``MAX_OFFSET`` lines where its
context and removed lines match exactly. All or nothing: a patch that fails anywhere changes
nothing, and ``WorkspaceActionError`` names the file and hunk. Renames, copies, binary patches,
symlinks and submodules are refused (``unsupported``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk, PatchedFile, PatchSet

from python_env import syntax
from python_env.tasks.workspace import (
    MAX_TOTAL_CHARS,
    Workspace,
    WorkspaceActionError,
    clip,
    no_such_file,
    split_lines,
    validate_path,
)

MAX_PATCH_CHARS = MAX_TOTAL_CHARS // 4  # a patch rewriting a quarter of the largest workspace
MAX_OFFSET = 50  # lines a hunk may have moved from where its @@ line puts it
_NO_NEWLINE = "\\ No newline at end of file\n"
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # one C-style string literal
_NOT_SUPPORTED = ("rename from", "rename to", "copy from", "copy to")


@dataclass(frozen=True)
class _Hunk:
    number: int  # 1-based, within its file
    header: str  # "@@ -40,7 +40,8 @@"
    old_start: int
    old: tuple[str, ...]  # context and removed lines, as they must be in the file
    new: tuple[str, ...]  # context and added lines, as they will be
    added: tuple[int, ...]  # head-side numbers of the added lines


@dataclass(frozen=True)
class _FilePatch:
    old_path: str | None  # None: the patch creates the file
    new_path: str | None  # None: the patch deletes it
    hunks: tuple[_Hunk, ...]

    @property
    def name(self) -> str:
        return self.new_path or self.old_path or ""


def _path(name: str) -> str | None:
    name = name.strip()
    if name == "/dev/null":
        return None
    if name.startswith('"'):  # git quotes odd names, C-style
        if not _QUOTED.fullmatch(name):
            raise WorkspaceActionError("bad_patch", f"unreadable quoted path {clip(name)}")
        try:
            name = syntax.literal_eval("b" + name).decode("utf-8")
        except (ValueError, SyntaxError, UnicodeDecodeError):
            raise WorkspaceActionError(
                "bad_patch", f"unreadable quoted path {clip(name)}"
            ) from None
    return name


def _paths(patched: PatchedFile) -> tuple[str | None, str | None]:
    old, new = _path(patched.source_file), _path(patched.target_file)
    if (old is None or old.startswith("a/")) and (new is None or new.startswith("b/")):
        old, new = old and old[2:], new and new[2:]  # git's prefixes
    if old is not None and new is not None and old != new:
        old_rest, new_rest = old.partition("/")[2], new.partition("/")[2]
        if not (old_rest and old_rest == new_rest):  # else ``diff -ru before/ after/``: -p1
            raise WorkspaceActionError(
                "unsupported",
                f"renaming or copying files is not supported ({clip(old)} -> {clip(new)}): "
                "delete the old file and create the new one",
            )
        old = new = old_rest
    if old is None and new is None:
        raise WorkspaceActionError("bad_patch", "a file patch goes from /dev/null to /dev/null")
    for path in (old, new):
        if path is not None:
            validate_path(path)
    return old, new


def _check_end(name: str, hunk: Hunk, header: str, lines: list[str]) -> None:
    """Hunk lines after a hunk's end mean its @@ counts are too small: unidiff would drop them."""
    numbers = [line.diff_line_no for line in hunk if line.diff_line_no]
    index = max(numbers, default=len(lines))  # the 0-based index of the line after the hunk
    while index < len(lines) and (lines[index] == "\n" or lines[index].startswith("\\")):
        index += 1
    after = lines[index] if index < len(lines) else ""
    if after == "-- \n":  # git format-patch's signature separator
        return
    if after[:1] in ("+", " ") or (after.startswith("-") and not after.startswith("--- ")):
        raise WorkspaceActionError(
            "bad_patch",
            f"{name}: hunk {header} ends before patch line {index + 1}, "
            f"{clip(repr(after.rstrip(chr(10))))}: its @@ line's counts must match the hunk",
        )


def _hunks(patched: PatchedFile, lines: list[str]) -> tuple[_Hunk, ...]:
    hunks = []
    for number, hunk in enumerate(patched, 1):
        old: list[str] = []
        new: list[str] = []
        added: list[int] = []
        line_no = hunk.target_start
        kind = ""
        for line in hunk:
            if line.line_type == "\\":  # the line before it has no newline
                if kind in (" ", "-"):
                    old[-1] = old[-1].removesuffix("\n")
                if kind in (" ", "+"):
                    new[-1] = new[-1].removesuffix("\n")
                continue
            kind = line.line_type  # "" for the blank lines unidiff keeps after a hunk
            if kind in (" ", "-"):
                old.append(line.value)
            if kind in (" ", "+"):
                new.append(line.value)
                if kind == "+":
                    added.append(line_no)
                line_no += 1
        header = (f"@@ -{hunk.source_start},{hunk.source_length} "
                  f"+{hunk.target_start},{hunk.target_length} @@")  # fmt: skip
        _check_end(patched.path, hunk, f"{number} ({header})", lines)
        hunks.append(_Hunk(number, header, hunk.source_start, tuple(old), tuple(new), tuple(added)))
    return tuple(hunks)


def _parse(diff: str) -> list[_FilePatch]:
    if len(diff) > MAX_PATCH_CHARS:
        raise WorkspaceActionError(
            "too_large", f"the patch has {len(diff):,} characters (at most {MAX_PATCH_CHARS:,})"
        )
    if not diff.strip():
        raise WorkspaceActionError("bad_patch", "the patch is empty")
    lines = split_lines(diff if diff.endswith("\n") else diff + "\n")
    seen = 0

    def feed() -> Iterator[str]:  # counts the lines unidiff took, to say where it failed
        nonlocal seen
        for seen, line in enumerate(lines, 1):  # noqa: B007
            yield line

    try:
        patch_set = PatchSet(feed())
    except UnidiffParseError as error:
        hint = " (the @@ line's counts must match the hunk)" if "Hunk is" in str(error) else ""
        where = clip(repr(lines[seen - 1].rstrip("\n"))) if seen else "the start"
        raise WorkspaceActionError(
            "bad_patch", f"unreadable patch at line {seen}, {where}: {clip(str(error))}{hint}"
        ) from None
    if not patch_set:
        raise WorkspaceActionError(
            "bad_patch",
            "no file changes found: a unified diff has '--- a/path' and '+++ b/path' lines, "
            "then '@@ -l,n +l,n @@' hunks",
        )
    patches = []
    for patched in patch_set:
        name = clip(patched.path)
        info = [str(line) for line in patched.patch_info or ()]
        if patched.is_binary_file:
            raise WorkspaceActionError("unsupported", f"{name}: binary patches are not supported")
        if any(line.startswith(_NOT_SUPPORTED) for line in info):
            raise WorkspaceActionError(
                "unsupported",
                f"{name}: renaming or copying files is not supported: "
                "delete the old file and create the new one",
            )
        if patched.is_symlink or patched.is_submodule:
            raise WorkspaceActionError(
                "unsupported", f"{name}: symlinks and submodules are not supported"
            )
        old, new = _paths(patched)
        patches.append(_FilePatch(old, new, _hunks(patched, lines)))
    return patches


def _show(line: str) -> str:
    shown = clip(repr(line.removesuffix("\n")))
    return shown if line.endswith("\n") else shown + " (no newline at end of file)"


def _conflict(path: str, hunk: _Hunk, lines: list[str], at: int) -> WorkspaceActionError:
    detail = "it overlaps the hunk before it"
    for index, expected in enumerate(hunk.old, at):
        if index >= len(lines):
            detail = (
                f"line {index + 1} expected {_show(expected)}, past the end ({len(lines)} lines)"
            )
            break
        if lines[index] != expected:
            detail = f"line {index + 1} expected {_show(expected)}, found {_show(lines[index])}"
            break
    return WorkspaceActionError(
        "patch_conflict",
        f"{path}: hunk {hunk.number} ({hunk.header}) does not apply: {detail} "
        f"(nor anywhere within {MAX_OFFSET} lines)",
    )


def _apply_hunks(path: str, text: str, hunks: tuple[_Hunk, ...]) -> str:
    lines = split_lines(text)
    out: list[str] = []
    done = 0  # lines[:done] are dealt with
    offset = 0  # how far the hunk before landed from where its @@ line said
    for hunk in hunks:
        size = len(hunk.old)
        stated = hunk.old_start - 1 if size else hunk.old_start  # -l,0 inserts after line l
        want = stated + offset
        for delta in range(2 * MAX_OFFSET + 1):  # want, want - 1, want + 1, want - 2, ...
            at = want + (delta + 1) // 2 * (1 if delta % 2 == 0 else -1)
            if done <= at <= len(lines) - size and tuple(lines[at : at + size]) == hunk.old:
                break
        else:
            raise _conflict(path, hunk, lines, max(want, 0))
        out += lines[done:at]
        out += hunk.new
        done = at + size
        offset = at - stated
    return "".join(out + lines[done:])


def apply_patch(workspace: Workspace, diff: str) -> Workspace:
    """A new workspace with the unified ``diff`` applied, all or nothing.

    A file's patches apply in order (a file may appear more than once); ``/dev/null`` on the
    old side creates a file (an error if it exists), on the new side deletes it (its hunks must
    remove all of it; with no hunks it goes whatever it holds). A patch whose old path names no
    file but whose only hunk is ``@@ -0,0 ...`` creates it too. Errors: ``bad_patch``
    (unreadable), ``invalid_path``, ``no_such_file``, ``patch_conflict`` (a hunk that does not
    match), ``unsupported``, ``too_large`` (the result breaks the workspace's caps).
    """
    current: dict[str, str | None] = {}  # path -> content after the patches so far (None: gone)
    for patch in _parse(diff):
        name = patch.name
        old = current[name] if name in current else workspace.get(name)
        if patch.old_path is None:
            if old is not None:
                raise WorkspaceActionError(
                    "patch_conflict", f"{name}: the patch creates it, but it exists"
                )
            old = ""
        elif old is None:
            if [hunk.old_start for hunk in patch.hunks] != [0]:
                raise no_such_file(name, workspace)
            old = ""
        if patch.new_path is None:
            if patch.hunks and (left := _apply_hunks(name, old, patch.hunks)):
                raise WorkspaceActionError(
                    "patch_conflict",
                    f"{name}: the patch deletes it but leaves {len(split_lines(left))} lines",
                )
            current[name] = None
        else:
            current[name] = _apply_hunks(name, old, patch.hunks)
    changes = {
        path: content
        for path, content in current.items()
        if content != workspace.get(path)  # deleting a file the patch created: no change
    }
    return workspace.updated(changes)


def unified_diff(base: Workspace, head: Workspace) -> str:
    """A git-style unified diff (``a/``/``b/`` prefixes, 3 lines of context, sorted paths) that
    turns ``base`` into ``head``: ``apply_patch(base, unified_diff(base, head)) == head``."""
    out: list[str] = []
    for path in sorted(base.keys() | head.keys()):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        out.append(f"diff --git a/{path} b/{path}\n")
        if old is None:
            out.append("new file mode 100644\n")
        if new is None:
            out.append("deleted file mode 100644\n")
        for line in difflib.unified_diff(
            split_lines(old or ""),
            split_lines(new or ""),
            f"a/{path}" if old is not None else "/dev/null",
            f"b/{path}" if new is not None else "/dev/null",
        ):
            out.append(line if line.endswith("\n") else line + "\n" + _NO_NEWLINE)
    return "".join(out)


def changed_lines(diff: str) -> dict[str, set[int]]:
    """For each file the ``diff`` leaves in place, the head-side numbers of the lines it adds or
    changes (as its ``@@`` lines state them; removals alone mark no line)."""
    changed: dict[str, set[int]] = {}
    for patch in _parse(diff):
        if patch.new_path is not None:
            lines = changed.setdefault(patch.new_path, set())
            for hunk in patch.hunks:
                lines.update(hunk.added)
    return changed
