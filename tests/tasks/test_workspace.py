"""Workspaces: paths and caps, the file actions, bounded search, patches and diffs."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from python_env.tasks import search as search_module
from python_env.tasks.patches import MAX_PATCH_CHARS, apply_patch, changed_lines, unified_diff
from python_env.tasks.search import MAX_MATCH_TEXT_CHARS, SearchResult
from python_env.tasks.workspace import (
    MAX_FILE_CHARS,
    MAX_FILES,
    MAX_LIST_ENTRIES,
    MAX_PATH_CHARS,
    MAX_READ_CHARS,
    MAX_READ_LINES,
    MAX_TOTAL_CHARS,
    Workspace,
    WorkspaceActionError,
    split_lines,
)

MOD = "".join(f"line {n}\n" for n in range(1, 101))  # "line 1" .. "line 100"


def _ws() -> Workspace:
    return Workspace({
        "pkg/__init__.py": "",
        "pkg/mod.py": MOD,
        "pkg/sub/deep.py": "def deep():\n    return 1\n",
        "pkg/sub/data.txt": "x = 1\n",
        "tests/test_mod.py": "from pkg.mod import x\n\ndef test_x():\n    assert x == 1\n",
        "tests/sub/test_deep.py": "def test_deep():\n    pass\n",
        "test_top.py": "",
        "setup.py": "setup()",
        ".hidden.py": "",
    })  # fmt: skip


def _error(code: str, call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(WorkspaceActionError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert str(info.value) == info.value.message
    return info.value.message


# --- paths and caps ---------------------------------------------------------------------------

BAD_PATHS = [
    "../x", "/etc/passwd", "a/../../b", "a/..", "a\\b", "..\\..\\windows", ".git/config",
    "pkg/.git/hooks/pre-commit", ".GIT/config", "a\0b", "a\nb", "tab\tname", "x" * 300,
    "", "a//b", "./a", "a/.", "a/", " lead.py", "trail.py ", "bad\udc80.py",
]  # fmt: skip


@pytest.mark.parametrize("path", BAD_PATHS)
def test_unsafe_paths_are_refused_everywhere(path: str) -> None:
    ws = _ws()
    assert "invalid path" in _error("invalid_path", Workspace, {path: "x"})
    _error("invalid_path", ws.edit_file, path, "x")
    _error("invalid_path", ws.read_file, path)
    _error("invalid_path", ws.updated, {path: "x"})


def test_a_path_of_the_maximum_length_and_unusual_names_are_fine() -> None:
    long = "/".join(["d" * 50] * 4) + "/" + "f" * (MAX_PATH_CHARS - 204)
    ws = Workspace({long: "", "dir with space/é.py": "", ".github/ci.yml": "", "..x": ""})
    assert len(long) == MAX_PATH_CHARS and long in ws
    _error("invalid_path", Workspace, {long + "x": ""})


def test_a_file_cannot_be_a_directory_of_another() -> None:
    assert "a file" in _error("invalid_path", Workspace, {"pkg": "", "pkg/a.py": ""})
    _error("invalid_path", _ws().edit_file, "pkg/mod.py/x.py", "")
    _error("invalid_path", _ws().edit_file, "pkg/sub", "")


def test_caps() -> None:
    big = "x" * (MAX_FILE_CHARS + 1)
    assert "400,001 characters" in _error("too_large", Workspace, {"a.py": big})
    _error("too_large", _ws().edit_file, "a.py", big)
    full = "x" * MAX_FILE_CHARS  # one string shared: cheap
    count = MAX_TOTAL_CHARS // MAX_FILE_CHARS
    ws = Workspace({f"f{n}": full for n in range(count)})
    assert ws.total_chars == MAX_TOTAL_CHARS
    assert "characters in all" in _error("too_large", ws.edit_file, "one_more.py", "x")
    ws.edit_file("f0", "")  # shrinking is fine
    assert "files" in _error("too_large", Workspace, {f"f{n}": "" for n in range(MAX_FILES + 1)})
    _error("not_text", Workspace, {"a.py": b"bytes"})


def test_a_workspace_is_an_immutable_sorted_mapping() -> None:
    files = {"b.py": "2", "a.py": "1", "c/d.py": "3"}
    ws = Workspace(files)
    assert list(ws) == ["a.py", "b.py", "c/d.py"] and len(ws) == 3
    assert ws == files and ws == Workspace(dict(reversed(files.items()))) and ws != {"a.py": "1"}
    number: object = 3
    assert "a.py" in ws and "zz" not in ws and number not in ws and ws.get("zz") is None
    assert hash(ws) == hash(Workspace(files)) and "3 files" in repr(ws)
    with pytest.raises(TypeError):
        ws["a.py"] = "x"  # type: ignore[index]
    edited = ws.edit_file("a.py", "new").updated({"b.py": None, "0.py": ""})
    assert ws == files  # unchanged
    assert list(edited) == ["0.py", "a.py", "c/d.py"] and edited["a.py"] == "new"
    assert Workspace(ws) == ws and Workspace() == {}
    _error("no_such_file", ws.updated, {"nope.py": None})


def test_the_digest_is_stable_order_independent_and_sensitive_to_every_byte() -> None:
    files = {"pkg/a.py": "x = 1\n", "b.txt": "é"}
    digest = Workspace(files).digest()
    assert digest == Workspace(dict(reversed(files.items()))).digest()
    variants = [
        {"pkg/a.py": "x = 2\n", "b.txt": "é"},
        {"pkg/a.py": "x = 1", "b.txt": "é"},
        {"pkg/b.py": "x = 1\n", "b.txt": "é"},
        {"pkg/a.py": "x = 1\n", "b.txt": "e"},
        {"pkg/a.py": "x = 1\n", "b.txt": "é", "c": ""},
        {"pkg/a.py": "x = 1\n"},
        {"pkg/a.py": "", "b.txt": "x = 1\né"},  # content moved between files
    ]
    digests = {Workspace(v).digest() for v in variants}
    assert len(digests) == len(variants) and digest not in digests


def test_the_digest_is_pinned() -> None:
    """Stored tasks are named by digest: changing the formula must be a decision."""
    assert Workspace({"a.py": "x\n"}).digest() == PINNED_DIGEST
    # path NUL byte-length NUL bytes, for each file in path order
    framed = b"a.py\x002\x00x\n" + "b/é\x002\x00é".encode()
    assert Workspace({"b/é": "é", "a.py": "x\n"}).digest() == hashlib.sha256(framed).hexdigest()


PINNED_DIGEST = "04ab94c269fb259a6b264742cf041ebf2434f4731160537bcd5f673a5f4ef675"


def test_split_lines_splits_on_newline_only() -> None:
    assert split_lines("") == []
    assert split_lines("a\nb") == ["a\n", "b"]
    assert split_lines("a\r\n\x0cb\u2028c\n") == ["a\r\n", "\x0cb\u2028c\n"]


# --- list_files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.py", [".hidden.py", "pkg/__init__.py", "pkg/mod.py", "pkg/sub/deep.py", "setup.py",
                  "test_top.py", "tests/sub/test_deep.py", "tests/test_mod.py"]),
        ("pkg/**/*.py", ["pkg/__init__.py", "pkg/mod.py", "pkg/sub/deep.py"]),
        ("**/test_*.py", ["test_top.py", "tests/sub/test_deep.py", "tests/test_mod.py"]),
        ("test_*.py", ["test_top.py", "tests/sub/test_deep.py", "tests/test_mod.py"]),
        ("tests/*", ["tests/test_mod.py"]),
        ("tests/", ["tests/sub/test_deep.py", "tests/test_mod.py"]),
        ("pkg/sub", ["pkg/sub/data.txt", "pkg/sub/deep.py"]),
        ("pkg/**", ["pkg/__init__.py", "pkg/mod.py", "pkg/sub/data.txt", "pkg/sub/deep.py"]),
        ("/setup.py", ["setup.py"]),
        ("/*.py", [".hidden.py", "setup.py", "test_top.py"]),
        ("pkg/?od.py", ["pkg/mod.py"]),
        ("pkg/[lm]od.py", ["pkg/mod.py"]),
        ("pkg/[!m]*.py", ["pkg/__init__.py"]),
        ("*.txt", ["pkg/sub/data.txt"]),
        ("nothing/*", []),
        ("pkg", ["pkg/__init__.py", "pkg/mod.py", "pkg/sub/data.txt", "pkg/sub/deep.py"]),
    ],
)  # fmt: skip
def test_glob_semantics(pattern: str, expected: list[str]) -> None:
    listed = _ws().list_files(pattern)
    assert list(listed.paths) == expected and listed.total == len(expected) and listed.note == ""


def test_the_default_lists_everything_and_long_lists_are_capped() -> None:
    assert _ws().list_files().paths == tuple(_ws())
    ws = Workspace({f"m/f{n:04}.py": "" for n in range(MAX_LIST_ENTRIES + 100)})
    listed = ws.list_files("*.py")
    assert len(listed.paths) == MAX_LIST_ENTRIES and listed.total == MAX_LIST_ENTRIES + 100
    assert listed.paths[-1] == f"m/f{MAX_LIST_ENTRIES - 1:04}.py" and "100 more" in listed.note
    _error("bad_pattern", ws.list_files, "")
    _error("bad_pattern", ws.list_files, "*" * 201)


# --- read_file ----------------------------------------------------------------------------------


def test_read_whole_files_and_ranges() -> None:
    ws = _ws()
    whole = ws.read_file("pkg/sub/deep.py")
    assert whole.text == "def deep():\n    return 1\n" and whole.note == ""
    assert (whole.start_line, whole.end_line, whole.total_lines) == (1, 2, 2)
    assert whole.numbered() == "    1 | def deep():\n    2 |     return 1\n"
    part = ws.read_file("pkg/mod.py", 10, 12)
    assert part.text == "line 10\nline 11\nline 12\n" and not part.truncated
    assert (
        part.numbered().splitlines()[0] == "   10 | line 10" and part.note == "lines 10-12 of 100"
    )
    tail = ws.read_file("pkg/mod.py", 99, 500)  # past the end: up to the end
    assert tail.text == "line 99\nline 100\n" and tail.end_line == 100
    assert ws.read_file("setup.py").text == "setup()"
    empty = ws.read_file("test_top.py")
    assert (empty.text, empty.start_line, empty.end_line, empty.total_lines) == ("", 1, 0, 0)


def test_read_errors() -> None:
    ws = _ws()
    assert "did you mean 'pkg/mod.py'" in _error("no_such_file", ws.read_file, "pkg/mdo.py")
    big = Workspace({f"d{n % 30}/m{n}.py": "" for n in range(1_000)} | {"top.py": ""})
    start = time.perf_counter()
    assert "did you mean 'd3/m3.py'" in _error("no_such_file", big.read_file, "d3/m3.pyy")
    assert "did you mean 'd3/m3.py'" in _error("no_such_file", big.read_file, "d33/m3.py")
    assert "did you mean 'top.py'" in _error("no_such_file", big.read_file, "d3/top.py")
    assert time.perf_counter() - start < 0.1
    assert "has 100 lines" in _error("bad_range", ws.read_file, "pkg/mod.py", 101)
    _error("bad_range", ws.read_file, "pkg/mod.py", 0)
    _error("bad_range", ws.read_file, "pkg/mod.py", 5, 4)


def test_reads_are_capped_by_lines_and_characters() -> None:
    ws = Workspace({
        "long.py": "".join(f"x{n}\n" for n in range(1, 1001)),
        "wide.py": ("y" * 999 + "\n") * 100,
        "huge.min.js": "z" * 100_000,
    })  # fmt: skip
    long = ws.read_file("long.py")
    assert long.end_line == MAX_READ_LINES and long.truncated
    assert long.note == "lines 1-400 of 1000; read on with start_line=401"
    assert ws.read_file("long.py", 401).text.startswith("x401\n")
    wide = ws.read_file("wide.py")
    assert wide.end_line == MAX_READ_CHARS // 1000 and len(wide.text) <= MAX_READ_CHARS
    huge = ws.read_file("huge.min.js")
    assert len(huge.text) == MAX_READ_CHARS and huge.truncated and huge.end_line == 1


# --- search -------------------------------------------------------------------------------------


def test_search_finds_lines_in_order() -> None:
    ws = _ws()
    found = ws.search(r"def \w+\(")
    assert [(m.path, m.line, m.text) for m in found.matches] == [
        ("pkg/sub/deep.py", 1, "def deep():"),
        ("tests/sub/test_deep.py", 1, "def test_deep():"),
        ("tests/test_mod.py", 3, "def test_x():"),
    ]
    assert found.files_searched == len(ws) and not found.cut_short and not found.limit_reached
    assert [m.path for m in ws.search(r"def", path_glob="tests/**").matches] == [
        "tests/sub/test_deep.py", "tests/test_mod.py",
    ]  # fmt: skip
    assert ws.search("def", path_glob="tests/*").files_searched == 1
    assert [m.line for m in ws.search(r"^line 1\d$").matches] == list(range(10, 20))
    assert ws.search("(?i)SETUP").matches[0].text == "setup()"


def test_search_results_are_capped() -> None:
    found = _ws().search("line", max_results=5)
    assert len(found.matches) == 5 and found.limit_reached and "5 matches" in found.note
    assert len(_ws().search("line", max_results=10**9).matches) == 100
    assert len(_ws().search("line", max_results=0).matches) == 1


def test_search_lines_and_excerpts() -> None:
    ws = Workspace({
        "a.py": "a\n\nb\n",
        "crlf.py": "one\r\ntwo\r\n",
        "wide.py": "q" * 1000 + "NEEDLE" + "q" * 1000 + "\n" + "q" * 3000 + "FAR\n",
    })  # fmt: skip
    assert [(m.path, m.line) for m in ws.search("^$").matches] == [("a.py", 2)]
    assert [m.text for m in ws.search("two").matches] == ["two"]
    (needle,) = ws.search("NEEDLE").matches
    assert len(needle.text) <= MAX_MATCH_TEXT_CHARS + 2 and "NEEDLE" in needle.text
    assert needle.text.startswith("…") and needle.text.endswith("…")
    assert ws.search("FAR").matches == ()  # past the first 2,000 characters of its line


def test_bad_search_patterns() -> None:
    ws = _ws()
    assert "invalid regular expression" in _error("bad_pattern", ws.search, "(unclosed")
    _error("bad_pattern", ws.search, "")
    _error("bad_pattern", ws.search, "a" * 201)
    _error("bad_pattern", ws.search, "x", path_glob="")
    start = time.perf_counter()  # regex would expand these to gigabytes when compiling
    for bomb in ["((a{1000}){1000}){1000}", "(?:x{65535}){65535}", "a{100001}", "(a{,200}){60}"]:
        assert "repetition counts" in _error("bad_pattern", ws.search, bomb)
    assert time.perf_counter() - start < 0.5
    assert ws.search(r"\d{4}-\d{2}-\d{2}|x{1,100}").cut_short is False
    assert ws.search(r"\{1000\}").matches == ()  # escaped braces are no count


def test_catastrophic_backtracking_is_cut_short() -> None:
    line = "a" * 1_000 + "b"  # within the 2,000 characters searched
    ws = Workspace({"a.py": "fine\n", "b.py": f"ok\n{line}\n", "c.py": "aaa\n"})
    start = time.perf_counter()
    found = ws.search(r"(a+)+$")
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    assert found.cut_short and "b.py:2" in found.note and "backtracking" in found.note
    assert found.files_searched == 2 and found.matches == ()


def test_the_search_budget_cuts_a_long_search_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "SEARCH_BUDGET_SECONDS", 0.02)
    ws = Workspace({f"f{n}.py": "some text\n" * 20_000 for n in range(10)})
    start = time.perf_counter()
    found = ws.search("nomatch")
    assert time.perf_counter() - start < 5  # loose: CI machines are busy; cut_short decides
    # The whole-search budget, or (on a loaded machine) one line's own time limit, cuts it short.
    assert isinstance(found, SearchResult) and found.cut_short and "cut short" in found.note
    assert found.files_searched < 10


# --- edit_file ----------------------------------------------------------------------------------


def test_edit_whole_content_creates_or_replaces() -> None:
    ws = _ws()
    created = ws.edit_file("pkg/new/thing.py", "x = 1\n")
    assert created["pkg/new/thing.py"] == "x = 1\n" and "pkg/new/thing.py" not in ws
    assert created.edit_file("pkg/new/thing.py", "")["pkg/new/thing.py"] == ""


@pytest.mark.parametrize(
    ("text", "start", "end", "new", "expected"),
    [
        ("a\nb\nc\n", 2, 2, "B", "a\nB\nc\n"),  # a newline is added
        ("a\nb\nc\n", 2, 3, "X\nY\nZ\n", "a\nX\nY\nZ\n"),
        ("a\nb\nc\n", 1, 3, "", ""),  # delete all
        ("a\nb\nc\n", 2, 2, "", "a\nc\n"),  # delete one
        ("a\nb\nc\n", 1, 0, "top", "top\na\nb\nc\n"),  # insert before line 1
        ("a\nb\nc\n", 3, 2, "mid\n", "a\nb\nmid\nc\n"),  # insert before line 3
        ("a\nb\nc\n", 4, 3, "end", "a\nb\nc\nend\n"),  # append
        ("a\nb", 2, 2, "B", "a\nB"),  # the last line had no newline: still none
        ("a\nb", 1, 1, "A", "A\nb"),
        ("a\nb", 3, 2, "c", "a\nb\nc"),  # append after a last line without newline
        ("a\nb", 3, 2, "", "a\nb"),
        ("", 1, 0, "first", "first\n"),
    ],
)
def test_edit_line_ranges(text: str, start: int, end: int, new: str, expected: str) -> None:
    ws = Workspace({"f.py": text})
    assert ws.edit_file("f.py", start_line=start, end_line=end, new_text=new)["f.py"] == expected
    assert ws["f.py"] == text


def test_edit_errors() -> None:
    ws = Workspace({"f.py": "a\nb\nc\n"})
    assert "1 to 4" in _error("bad_range", ws.edit_file, "f.py", None, 0, 0, "x")
    _error("bad_range", ws.edit_file, "f.py", None, 5, 5, "x")
    assert "from 1" in _error("bad_range", ws.edit_file, "f.py", None, 2, 0, "x")
    _error("bad_range", ws.edit_file, "f.py", None, 2, 4, "x")
    _error("bad_range", ws.edit_file, "f.py", "content", 1, 1, "x")
    _error("bad_range", ws.edit_file, "f.py", None, 1, None, "x")
    _error("bad_range", ws.edit_file, "f.py")
    _error("no_such_file", ws.edit_file, "g.py", None, 1, 0, "x")
    _error("too_large", ws.edit_file, "f.py", None, 1, 1, "x" * MAX_FILE_CHARS)


# --- apply_patch --------------------------------------------------------------------------------

SIMPLE = "a\nb\nc\nd\ne\n"


def test_git_style_patches_apply() -> None:
    ws = Workspace({"pkg/mod.py": SIMPLE, "other.py": "keep\n"})
    diff = (
        "diff --git a/pkg/mod.py b/pkg/mod.py\n"
        "index 1234567..89abcde 100644\n"
        "--- a/pkg/mod.py\n"
        "+++ b/pkg/mod.py\n"
        "@@ -2,3 +2,3 @@ def context():\n"
        " b\n"
        "-c\n"
        "+C\n"
        " d\n"
    )
    assert apply_patch(ws, diff) == {"pkg/mod.py": "a\nb\nC\nd\ne\n", "other.py": "keep\n"}
    assert ws.apply_patch(diff) == Workspace.from_base_and_diff(ws, diff) == apply_patch(ws, diff)
    assert apply_patch(ws, diff.rstrip("\n"))["pkg/mod.py"] == "a\nb\nC\nd\ne\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [("mod.py", "mod.py"), ("a/mod.py", "b/mod.py"), ("before/mod.py", "after/mod.py")],
)
def test_plain_headers_with_or_without_prefixes(old: str, new: str) -> None:
    ws = Workspace({"mod.py": SIMPLE})
    diff = f"--- {old}\t2024-01-01 10:00:00\n+++ {new}\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n"
    assert apply_patch(ws, diff)["mod.py"] == "A\nb\nc\nd\ne\n"


def test_new_and_deleted_files() -> None:
    ws = Workspace({"old.py": "x\ny\n", "keep.py": ""})
    git_new = (
        "diff --git a/pkg/new.py b/pkg/new.py\nnew file mode 100644\nindex 0000000..e69de29\n"
        "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1,2 @@\n+one\n+two\n"
    )
    plain_new = "--- /dev/null\n+++ plain.py\n@@ -0,0 +1 @@\n+p\n"
    no_null = "--- made.py\n+++ made.py\n@@ -0,0 +1 @@\n+m\n"
    delete = "--- a/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n"
    empty_new = "diff --git a/e.py b/e.py\nnew file mode 100644\nindex 0000000..e69de29\n"
    gone = "diff --git a/keep.py b/keep.py\ndeleted file mode 100644\nindex e69de29..0000000\n"
    after = apply_patch(ws, git_new + plain_new + no_null + delete + empty_new + gone)
    assert after == {"pkg/new.py": "one\ntwo\n", "plain.py": "p\n", "made.py": "m\n", "e.py": ""}
    assert "creates it, but it exists" in _error("patch_conflict", apply_patch, after, plain_new)
    leftover = "--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    assert "leaves 1 lines" in _error("patch_conflict", apply_patch, ws, leftover)
    assert "no such file" in _error("no_such_file", apply_patch, ws, delete.replace("old", "nope"))


def test_multiple_files_and_hunks_and_offsets() -> None:
    ws = Workspace({"pkg/mod.py": MOD, "b.py": SIMPLE})
    diff = (
        "--- a/b.py\n+++ b/b.py\n@@ -5 +5 @@\n-e\n+E\n"
        "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n"
        "@@ -1,3 +1,4 @@\n line 1\n+inserted\n line 2\n line 3\n"
        # stated 30 lines early: found by searching; the next hunk starts from that offset
        "@@ -10,3 +11,3 @@\n line 40\n-line 41\n+LINE 41\n line 42\n"
        "@@ -70 +71 @@\n-line 100\n+LINE 100\n"
    )
    after = apply_patch(ws, diff)
    lines = after["pkg/mod.py"].splitlines()
    assert lines[1] == "inserted" and lines[41] == "LINE 41" and lines[-1] == "LINE 100"
    assert after["b.py"] == "a\nb\nc\nd\nE\n"


def test_a_hunk_that_does_not_match_names_the_file_and_hunk() -> None:
    ws = Workspace({"pkg/mod.py": MOD.replace("line 42\n", "x = 2\n"), "ok.py": SIMPLE})
    diff = (
        "--- a/ok.py\n+++ b/ok.py\n@@ -1 +1 @@\n-a\n+A\n"
        "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n"
        "@@ -1,2 +1,2 @@\n-line 1\n+LINE 1\n line 2\n"
        "@@ -40,3 +40,3 @@\n line 40\n line 41\n-x = 1\n+x = 3\n"
    )
    message = _error("patch_conflict", apply_patch, ws, diff)
    assert message.startswith("pkg/mod.py: hunk 2 (@@ -40,3 +40,3 @@) does not apply: ")
    assert "line 42 expected 'x = 1', found 'x = 2'" in message and "50 lines" in message
    assert ws["ok.py"] == SIMPLE  # all or nothing (and the workspace never changes)
    far = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1 +1 @@\n-line 60\n+LINE 60\n"
    assert "hunk 1" in _error("patch_conflict", apply_patch, ws, far)  # 59 lines away
    near = far.replace("-1 +1", "-15 +15")
    assert apply_patch(ws, near)["pkg/mod.py"].count("LINE 60") == 1
    past = "--- a/ok.py\n+++ b/ok.py\n@@ -5,2 +5,2 @@\n e\n-f\n+F\n"
    assert "past the end (5 lines)" in _error("patch_conflict", apply_patch, ws, past)


def test_no_newline_at_end_of_file() -> None:
    ws = Workspace({"a.py": "x\ny", "b.py": "x\ny\n"})
    add_newline = "--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@\n-y\n\\ No newline at end of file\n+y\n"
    drop_newline = "--- a/b.py\n+++ b/b.py\n@@ -2 +2 @@\n-y\n+y\n\\ No newline at end of file\n"
    assert apply_patch(ws, add_newline + drop_newline) == {"a.py": "x\ny\n", "b.py": "x\ny"}
    missing_marker = "--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@\n-y\n+z\n"
    assert "found 'y' (no newline at end of file)" in _error(
        "patch_conflict", apply_patch, ws, missing_marker
    )


def test_blank_context_lines_without_their_space_and_quoted_paths() -> None:
    ws = Workspace({"a.py": "x\n\ny\n", "tést.py": "1\n"})
    stripped = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n\n-y\n+Y\n"
    quoted = '--- "a/t\\303\\251st.py"\n+++ "b/t\\303\\251st.py"\n@@ -1 +1 @@\n-1\n+2\n'
    assert apply_patch(ws, stripped + quoted) == {"a.py": "x\n\nY\n", "tést.py": "2\n"}
    _error("bad_patch", apply_patch, ws, quoted.replace("\\303", "\\x"))
    two_literals = '--- "a/a.py" "x"\n+++ "b/a.py" "x"\n@@ -1 +1 @@\n-x\n+X\n'
    assert "quoted path" in _error("bad_patch", apply_patch, ws, two_literals)


def test_git_format_patch_output_applies() -> None:
    ws = Workspace({"a.py": "x\n"})
    mail = (
        "From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] fix\n\n---\n"
        " a.py | 2 +-\n 1 file changed\n\n"
        "diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n"
        "@@ -1 +1 @@\n-x\n+y\n-- \n2.43.0\n\n"
    )
    assert apply_patch(ws, mail) == {"a.py": "y\n"}


@pytest.mark.parametrize(
    "target",
    ["b/../../etc/passwd", "/etc/passwd", "b//etc/passwd", "b/.git/hooks/pre-commit",
     "b/a\\..\\x", "../x"],
)  # fmt: skip
def test_patch_paths_are_validated(target: str) -> None:
    ws = Workspace({"a.py": "x\n"})
    diff = f"--- /dev/null\n+++ {target}\n@@ -0,0 +1 @@\n+pwned\n"
    assert "invalid path" in _error("invalid_path", apply_patch, ws, diff)
    modify = f"--- {target.replace('b/', 'a/', 1)}\n+++ {target}\n@@ -1 +1 @@\n-x\n+y\n"
    _error("invalid_path", apply_patch, ws, modify)


def test_unsupported_patches() -> None:
    ws = Workspace({"a.py": "x\n", "img.png": ""})
    cases = {
        "Binary files a/img.png and b/img.png differ\n": "binary",
        "diff --git a/img.png b/img.png\nindex 1..2 100644\nGIT binary patch\nliteral 5\n"
        "Hcmd\n\nliteral 0\nHcmV?d00001\n\n": "binary",
        "diff --git a/a.py b/b.py\nsimilarity index 100%\nrename from a.py\nrename to b.py\n": (
            "renam"
        ),
        "--- a/a.py\n+++ b/b.py\n@@ -1 +1 @@\n-x\n+y\n": "renam",
        "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n"
        "@@ -0,0 +1 @@\n+a.py\n\\ No newline at end of file\n": "symlink",
    }
    for diff, words in cases.items():
        assert words in _error("unsupported", apply_patch, ws, diff)


def test_unreadable_patches() -> None:
    ws = Workspace({"a.py": "x\ny\n"})
    assert "empty" in _error("bad_patch", apply_patch, ws, " \n")
    assert "no file changes" in _error("bad_patch", apply_patch, ws, "just some words\n")
    short = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n"
    message = _error("bad_patch", apply_patch, ws, short)
    assert "counts must match" in message
    long = "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n x\n-y\n+Y\n"
    message = _error("bad_patch", apply_patch, ws, long)  # unidiff alone would drop -y +Y
    assert message.startswith("a.py: hunk 1 (@@ -1,1 +1,1 @@) ends before patch line 5, '-y'")
    _error("too_large", apply_patch, ws, "x" * (MAX_PATCH_CHARS + 1))
    huge = "--- /dev/null\n+++ b/big.py\n@@ -0,0 +1 @@\n+" + "x" * MAX_FILE_CHARS + "\n"
    _error("too_large", apply_patch, ws, huge)


def test_a_file_patched_twice_in_one_patch() -> None:
    ws = Workspace({"a.py": SIMPLE})
    one = "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-a\n+A\n"
    two = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n A\n-b\n+B\n"
    assert apply_patch(ws, one + two)["a.py"] == "A\nB\nc\nd\ne\n"
    create_then_delete = "--- /dev/null\n+++ b/t.py\n@@ -0,0 +1 @@\n+t\n"
    create_then_delete += "--- a/t.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-t\n"
    assert apply_patch(ws, create_then_delete) == ws


# --- unified_diff and changed_lines -------------------------------------------------------------


def test_unified_diff_is_git_style() -> None:
    base = Workspace({"a.py": SIMPLE, "gone.py": "g\n", "same.py": "s\n", "tail.py": "t"})
    head = Workspace({"a.py": SIMPLE.replace("c", "C"), "new.py": "n\n", "same.py": "s\n",
                      "tail.py": "t\n"})  # fmt: skip
    diff = unified_diff(base, head)
    assert diff.startswith("diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,5 +1,5 @@\n")
    assert "diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n" in diff
    assert "new file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+n\n" in diff
    assert "-t\n\\ No newline at end of file\n+t\n" in diff and "same.py" not in diff
    assert diff.index("gone.py") < diff.index("new.py") < diff.index("tail.py")
    assert unified_diff(base, base) == ""
    assert apply_patch(base, diff) == head


def test_changed_lines() -> None:
    base = Workspace({"a.py": MOD, "gone.py": "g\n", "cut.py": "1\n2\n3\n"})
    head = base.updated({
        "a.py": MOD.replace("line 5\n", "five\n").replace("line 50\n", "line 50\nextra\n"),
        "gone.py": None,
        "new.py": "n\nm\n",
        "cut.py": "1\n3\n",
    })  # fmt: skip
    assert changed_lines(unified_diff(base, head)) == {
        "a.py": {5, 51}, "new.py": {1, 2}, "cut.py": set(),
    }  # fmt: skip


# --- properties ---------------------------------------------------------------------------------

PATHS = ["a.py", "pkg/b.py", "pkg/sub/c.py", "tests/test_d.py", "e", "f g.txt"]
LINE = st.text(alphabet="ab +-@\\\t\r\x0cé\u2028", max_size=6)
TEXT: st.SearchStrategy[str] = st.builds(
    lambda lines, end: "\n".join(lines) + end,
    st.lists(LINE, max_size=12),
    st.sampled_from(["", "\n"]),
)


@st.composite
def _edited(draw: st.DrawFn, text: str) -> str | None:
    """``text`` with a few lines replaced, inserted or deleted, rewritten whole, or deleted."""
    kind = draw(st.sampled_from(["lines", "lines", "lines", "whole", "delete"]))
    if kind == "delete":
        return None
    if kind == "whole":
        return draw(TEXT)
    lines = split_lines(text)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        cut = draw(st.integers(0, min(2, len(lines) - at)))
        lines[at : at + cut] = [line + "\n" for line in draw(st.lists(LINE, max_size=2))]
    end_newline = draw(st.booleans())
    joined = "".join(lines)
    return joined if end_newline or not joined.endswith("\n") else joined[:-1]


@st.composite
def _base_and_head(draw: st.DrawFn) -> tuple[Workspace, Workspace]:
    base = draw(st.dictionaries(st.sampled_from(PATHS), TEXT, max_size=len(PATHS)))
    head: dict[str, str] = {}
    for path in PATHS:
        if path in base:
            edited = draw(_edited(base[path]))
            if edited is not None:
                head[path] = edited
        elif draw(st.booleans()):
            head[path] = draw(TEXT)
    return Workspace(base), Workspace(head)


@settings(max_examples=200, deadline=None, database=None)
@given(_base_and_head())
def test_a_diff_applied_to_its_base_gives_its_head(pair: tuple[Workspace, Workspace]) -> None:
    base, head = pair
    diff = unified_diff(base, head)
    assert apply_patch(base, diff) == head if diff else base == head
    if diff:
        for path, lines in changed_lines(diff).items():
            assert lines <= set(range(1, len(split_lines(head[path])) + 1))


DIFF_LINES = [
    "--- a/a.py", "+++ b/a.py", "--- /dev/null", "+++ /dev/null", "@@ -1,2 +1,2 @@",
    "@@ -0,0 +1 @@", "@@ -1 +0,0 @@", " x", "-x", "+y", "", "\\ No newline at end of file",
    "diff --git a/a.py b/a.py", "new file mode 100644", "deleted file mode 100644",
    "Binary files a/a.py and b/a.py differ", "GIT binary patch", "rename from a.py",
    "index 1..2 100644", "old mode 100644", "+++ b/../x", "--- a/b.py",
]  # fmt: skip


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(DIFF_LINES), max_size=14), st.booleans())
def test_any_patch_text_applies_or_is_an_action_error(lines: list[str], newline: bool) -> None:
    ws = Workspace({"a.py": "x\n", "b.py": "x"})
    diff = "\n".join(lines) + ("\n" if newline else "")
    try:
        result = apply_patch(ws, diff)
        changed_lines(diff)
    except WorkspaceActionError as error:
        assert error.message and len(error.message) <= 1_000
    else:
        assert isinstance(result, Workspace)
