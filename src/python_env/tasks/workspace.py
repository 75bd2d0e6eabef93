"""An in-memory project snapshot (``Workspace``) and the pure logic of the agent's file actions.

A repository task holds many files: a ``Workspace`` maps POSIX relative paths to text. It never
changes; every edit returns a new workspace sharing the unchanged strings (copy-on-write).
Regex search lives in ``tasks.search``, patches (``apply_patch``, ``unified_diff``,
``changed_lines``) in ``tasks.patches``; both build on this module, and the ``search`` and
``apply_patch`` methods here import them when called.

Agent mistakes are data, not exceptions of ``python_env.errors``: an action that cannot be done
(a bad path, a missing file, a line range past the end, a regex that does not compile, a patch
that does not apply) raises ``WorkspaceActionError``, a ``ValueError`` with a short ``code`` and
a ``message`` of at most ``MAX_ERROR_CHARS``; the environment catches it and puts both in the
observation. Building a workspace from bad task data raises the same error. No I/O here.

Lines are split on ``"\\n"`` only (``str.splitlines`` also splits on ``\\r``, ``\\f`` and more,
which diffs do not); line numbers are 1-based and ranges inclusive.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from python_env.tasks.search import SearchResult

# A mid-size library with its test suite fits with room to spare; the caps bound the memory one
# session holds and the time a digest, a diff or a search over the whole snapshot takes.
MAX_FILES = 2_000
MAX_FILE_CHARS = 400_000  # a large generated module; bigger files are data, not code to review
MAX_TOTAL_CHARS = 8_000_000
MAX_PATH_CHARS = 255
MAX_LIST_ENTRIES = 500
MAX_READ_LINES = 400
MAX_READ_CHARS = 40_000
MAX_PATTERN_CHARS = 200
MAX_ERROR_CHARS = 1_000

ErrorCode = Literal[
    "invalid_path", "no_such_file", "too_large", "bad_range", "bad_pattern", "bad_patch",
    "patch_conflict", "unsupported", "not_text",
]  # fmt: skip


class WorkspaceActionError(ValueError):
    """An action cannot be carried out; ``code`` says what kind of mistake, ``message`` how."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        if len(message) > MAX_ERROR_CHARS:
            message = message[: MAX_ERROR_CHARS - 1] + "…"
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis if anything was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its ``\\n`` (the last may lack one); split on ``\\n``
    only."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def validate_path(path: str) -> str:
    """``path`` if it is a safe, normalised, relative POSIX path of at most ``MAX_PATH_CHARS``:
    no ``..``, ``.`` or empty components, no leading ``/``, no backslash, no control character
    (NUL, tab, newline), no ``.git`` component, no surrounding whitespace."""

    def bad(why: str) -> WorkspaceActionError:
        return WorkspaceActionError("invalid_path", f"invalid path {clip(repr(path))}: {why}")

    if not isinstance(path, str) or not path:
        raise bad("a path is a non-empty string")
    if len(path) > MAX_PATH_CHARS:
        raise bad(f"longer than {MAX_PATH_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise bad("control characters (NUL, tab, newline) are not allowed")
    if "\\" in path:
        raise bad("use '/' to separate directories, not '\\'")
    if path.startswith("/"):
        raise bad("paths are relative to the project root (no leading '/')")
    if path != path.strip():
        raise bad("leading or trailing whitespace")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise bad("empty, '.' and '..' components are not allowed")
        if part.casefold() == ".git":
            raise bad("'.git' is not part of the workspace")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise bad("not valid Unicode text") from None
    return path


def no_such_file(path: str, known: Iterable[str]) -> WorkspaceActionError:
    """The error for a valid path that names no file, suggesting up to three close paths (in a
    large workspace, from its directory and the files of its name: difflib is slow)."""
    folder, _, name = path.rpartition("/")
    paths = list(known)
    if len(paths) > 200:
        paths = [p for p in paths if (split := p.rpartition("/"))[0] == folder or split[2] == name]
    close = difflib.get_close_matches(path, paths, n=3)
    hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
    return WorkspaceActionError("no_such_file", f"no such file: {clip(repr(path))}{hint}")


def _check_text(path: str, content: str) -> None:
    if not isinstance(content, str):
        raise WorkspaceActionError("not_text", f"{path}: file content must be text (str)")
    if len(content) > MAX_FILE_CHARS:
        raise WorkspaceActionError(
            "too_large", f"{path}: {len(content):,} characters (at most {MAX_FILE_CHARS:,})"
        )
    if not content.isascii():
        try:
            content.encode("utf-8")
        except UnicodeEncodeError:
            raise WorkspaceActionError("not_text", f"{path}: not valid Unicode") from None


def _check_layout(files: Mapping[str, str], total: int, new: Iterable[str]) -> None:
    """The caps hold, and no file of ``new`` (the paths added) is under a file or over one."""
    if len(files) > MAX_FILES:
        raise WorkspaceActionError("too_large", f"{len(files):,} files (at most {MAX_FILES:,})")
    if total > MAX_TOTAL_CHARS:
        raise WorkspaceActionError(
            "too_large", f"{total:,} characters in all (at most {MAX_TOTAL_CHARS:,})"
        )
    for path in new:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if (parent := "/".join(parts[:depth])) in files:
                raise WorkspaceActionError(
                    "invalid_path", f"{clip(repr(path))} is under {clip(repr(parent))}, a file"
                )


class Result(BaseModel):
    """Base of the actions' result values: frozen, no extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FileList(Result):
    """The paths matching a glob, sorted: at most ``MAX_LIST_ENTRIES`` of ``total``."""

    pattern: str
    paths: tuple[str, ...]
    total: int

    @property
    def note(self) -> str:
        """What was left off, or ``""``."""
        left_off = self.total - len(self.paths)
        return f"{left_off:,} more not shown; narrow the pattern" if left_off else ""


class FileSlice(Result):
    """Lines ``start_line``..``end_line`` of a file, verbatim in ``text``; ``end_line`` is
    ``start_line - 1`` for an empty file, ``truncated`` is set when the read was capped."""

    path: str
    start_line: int
    end_line: int
    total_lines: int
    text: str
    truncated: bool = False

    @property
    def note(self) -> str:
        """Where the slice sits in the file and how to read on, or ``""`` for a whole file."""
        if self.start_line == 1 and self.end_line == self.total_lines and not self.truncated:
            return ""
        more = f"; read on with start_line={self.end_line + 1}" if self.truncated else ""
        return f"lines {self.start_line}-{self.end_line} of {self.total_lines}{more}"

    def numbered(self) -> str:
        """The text with a line number before each line (``  12 | code``)."""
        lines = split_lines(self.text)
        return "".join(
            f"{number:>5} | {line.removesuffix(chr(10))}\n"
            for number, line in enumerate(lines, self.start_line)
        )


def _match_segments(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    reach = [True] + [False] * len(parts)  # reach[j]: the segments so far match parts[:j]
    for segment in pattern:
        if segment == "**":  # zero or more whole components
            reach = list(itertools.accumulate(reach, operator.or_))
        else:
            reach = [False] + [
                reach[j] and fnmatchcase(part, segment) for j, part in enumerate(parts)
            ]
    return reach[-1]


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A test of paths against a glob, like ``.gitignore`` patterns.

    ``*``, ``?``, ``[seq]`` and ``[!seq]`` match within one path component (``fnmatch``); a
    ``**`` component matches zero or more components. A pattern without ``/`` matches at any
    depth (``*.py`` is every Python file, ``test_*.py`` every test module); with a ``/`` it
    matches from the root (``tests/*`` is what is directly in ``tests/``, ``pkg/**/*.py`` every
    ``.py`` under ``pkg/``); a leading ``/`` anchors a one-component pattern. A trailing ``/``
    or a pattern without wildcards that names a directory matches everything under it.
    """
    if not pattern or len(pattern) > MAX_PATTERN_CHARS or "\0" in pattern:
        raise WorkspaceActionError(
            "bad_pattern", f"a glob is 1 to {MAX_PATTERN_CHARS} characters, without NUL"
        )
    body = pattern.strip("/")
    segments = body.split("/") if body else ["**"]
    if pattern.endswith("/") or not any(ch in body for ch in "*?["):
        segments.append("**")
    if not pattern.startswith("/") and "/" not in body:
        segments.insert(0, "**")
    return lambda path: _match_segments(segments, path.split("/"))


class Workspace(Mapping[str, str]):
    """An immutable project snapshot: POSIX relative path → text, iterated in sorted order.

    Every path passes ``validate_path``; the caps (``MAX_FILES``, ``MAX_FILE_CHARS``,
    ``MAX_TOTAL_CHARS``) hold; no file sits under another file's path. Two workspaces are equal
    when they hold the same files; ``digest()`` names the content.
    """

    __slots__ = ("_digest", "_files", "_total")

    def __init__(self, files: Mapping[str, str] | None = None) -> None:
        items = dict(files or {})
        total = 0
        for path, content in items.items():
            validate_path(path)
            _check_text(path, content)
            total += len(content)
        _check_layout(items, total, items)  # checking every file's parents covers all pairs
        self._files = dict(sorted(items.items()))
        self._total = total
        self._digest: str | None = None

    @classmethod
    def from_base_and_diff(cls, base: Workspace, diff: str) -> Workspace:
        """The workspace ``diff`` (a unified diff) makes of ``base``: how tasks are stored."""
        from python_env.tasks.patches import apply_patch

        return apply_patch(base, diff)

    def __getitem__(self, path: str) -> str:
        return self._files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Workspace):
            return self._files == other._files
        if isinstance(other, Mapping):
            return self._files == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return f"Workspace({len(self)} files, {self._total:,} chars, {self.digest()[:12]})"

    @property
    def total_chars(self) -> int:
        """How many characters the files hold in all."""
        return self._total

    def digest(self) -> str:
        """SHA-256 (hex) over the sorted paths and their contents: equal for equal workspaces,
        whatever order they were built in, different if any byte of a path or a file differs."""
        if self._digest is None:
            sha = hashlib.sha256()
            for path, content in self._files.items():
                data = content.encode("utf-8")
                sha.update(b"%s\0%d\0" % (path.encode("utf-8"), len(data)))
                sha.update(data)
            self._digest = sha.hexdigest()
        return self._digest

    def text(self, path: str) -> str:
        """The content of ``path``; ``invalid_path`` or ``no_such_file`` if there is none."""
        content = self._files.get(validate_path(path))
        if content is None:
            raise no_such_file(path, self._files)
        return content

    def updated(self, changes: Mapping[str, str | None]) -> Workspace:
        """A new workspace with ``changes`` applied: path → new content, or ``None`` to delete."""
        files = dict(self._files)
        total = self._total
        for path, content in changes.items():
            old = files.get(validate_path(path))
            if content is None:
                if old is None:
                    raise no_such_file(path, files)
                del files[path]
                total -= len(old)
            else:
                _check_text(path, content)
                files[path] = content
                total += len(content) - len(old or "")
        added = files.keys() - self._files.keys()
        _check_layout(files, total, added)
        for path in added:
            if under := next((f for f in files if f.startswith(path + "/")), None):
                raise WorkspaceActionError(
                    "invalid_path", f"{clip(repr(under))} is under {clip(repr(path))}, a file"
                )
        new = Workspace.__new__(Workspace)
        new._files = dict(sorted(files.items())) if added else files  # keep the order sorted
        new._total = total
        new._digest = None
        return new

    def list_files(self, pattern: str = "**/*") -> FileList:
        """The paths matching ``pattern`` (see ``glob_matcher``), sorted, at most
        ``MAX_LIST_ENTRIES`` of them; ``total`` counts them all."""
        match = glob_matcher(pattern)
        found = [path for path in self._files if match(path)]
        return FileList(pattern=pattern, paths=tuple(found[:MAX_LIST_ENTRIES]), total=len(found))

    def read_file(
        self, path: str, start_line: int | None = None, end_line: int | None = None
    ) -> FileSlice:
        """Lines ``start_line``..``end_line`` (1-based, inclusive; default the whole file; an
        ``end_line`` past the end stops at the end), at most ``MAX_READ_LINES`` lines and
        ``MAX_READ_CHARS`` characters: a longer read is cut and says so (``truncated``)."""
        lines = split_lines(self.text(path))
        total = len(lines)
        start = 1 if start_line is None else start_line
        end = total if end_line is None else min(end_line, total)
        if not 1 <= start <= max(total, 1):
            raise WorkspaceActionError(
                "bad_range", f"start_line {start} is out of range: {path} has {total} lines"
            )
        if end_line is not None and end_line < start:
            raise WorkspaceActionError(
                "bad_range", f"end_line {end_line} is before start_line {start}"
            )
        taken: list[str] = []
        size = 0
        for line in lines[start - 1 : min(end, start - 1 + MAX_READ_LINES)]:
            if size + len(line) > MAX_READ_CHARS:
                if not taken:  # one huge line: show its beginning
                    taken.append(line[:MAX_READ_CHARS])
                break
            taken.append(line)
            size += len(line)
        last = start - 1 + len(taken)
        truncated = last < end or (bool(taken) and len(taken[-1]) < len(lines[last - 1]))
        return FileSlice(
            path=path, start_line=start, end_line=last, total_lines=total,
            text="".join(taken), truncated=truncated,
        )  # fmt: skip

    def search(
        self, pattern: str, path_glob: str | None = None, max_results: int = 100
    ) -> SearchResult:
        """Lines matching a regular expression, within bounds: see ``search.search``."""
        from python_env.tasks.search import search

        return search(self, pattern, path_glob, max_results)

    def edit_file(
        self,
        path: str,
        content: str | None = None,
        start_line: int | None = None,
        end_line: int | None = None,
        new_text: str | None = None,
    ) -> Workspace:
        """A new workspace with ``path`` edited: either its whole ``content`` (which may create
        the file), or lines ``start_line``..``end_line`` (1-based, inclusive) replaced by
        ``new_text``.

        An empty range, ``end_line == start_line - 1``, inserts before ``start_line``
        (``start_line`` = line count + 1 appends); an empty ``new_text`` deletes the lines.
        ``new_text`` gets a final newline if it lacks one, except where it replaces the file's
        last line and that line had none: a file keeps whether it ends with a newline.
        """
        validate_path(path)
        ranged = (start_line, end_line, new_text)
        if content is not None:
            if ranged != (None, None, None):
                raise WorkspaceActionError(
                    "bad_range", "give either content, or start_line, end_line and new_text"
                )
            return self.updated({path: content})
        if start_line is None or end_line is None or new_text is None:
            raise WorkspaceActionError(
                "bad_range", "give either content, or start_line, end_line and new_text"
            )
        text = self.text(path)
        lines = split_lines(text)
        total = len(lines)
        if not 1 <= start_line <= total + 1:
            raise WorkspaceActionError(
                "bad_range",
                f"start_line {start_line} is out of range: {path} has {total} lines "
                f"(1 to {total + 1}; {total + 1} appends)",
            )
        if not start_line - 1 <= end_line <= total:
            raise WorkspaceActionError(
                "bad_range",
                f"end_line {end_line} is out of range: from {start_line - 1} (an empty range "
                f"inserts before start_line) to {total}, the last line of {path}",
            )
        unterminated = bool(text) and not text.endswith("\n")
        if new_text and not new_text.endswith("\n") and not (unterminated and end_line == total):
            new_text += "\n"
        head = lines[: start_line - 1]
        if new_text and head and start_line == total + 1 and unterminated:
            head[-1] += "\n"  # appending after a last line without a newline
        return self.updated({path: "".join([*head, new_text, *lines[end_line:]])})

    def apply_patch(self, diff: str) -> Workspace:
        """A new workspace with the unified ``diff`` applied (see ``patches.apply_patch``)."""
        return Workspace.from_base_and_diff(self, diff)
