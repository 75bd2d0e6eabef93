"""Workspaces: paths and caps, the file actions and bounded search (patches: test_patches.py)."""

from __future__ import annotations

import hashlib
import time

import pytest

from python_env.tasks import search as search_module
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


def refused(code: str, call: object, *args: object, **kwargs: object) -> str:
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
    assert "invalid path" in refused("invalid_path", Workspace, {path: "x"})
    refused("invalid_path", ws.edit_file, path, "x")
    refused("invalid_path", ws.read_file, path)
    refused("invalid_path", ws.updated, {path: "x"})


def test_a_path_of_the_maximum_length_and_unusual_names_are_fine() -> None:
    long = "/".join(["d" * 50] * 4) + "/" + "f" * (MAX_PATH_CHARS - 204)
    ws = Workspace({long: "", "dir with space/é.py": "", ".github/ci.yml": "", "..x": ""})
    assert len(long) == MAX_PATH_CHARS and long in ws
    refused("invalid_path", Workspace, {long + "x": ""})


def test_a_file_cannot_be_a_directory_of_another() -> None:
    assert "a file" in refused("invalid_path", Workspace, {"pkg": "", "pkg/a.py": ""})
    refused("invalid_path", _ws().edit_file, "pkg/mod.py/x.py", "")
    refused("invalid_path", _ws().edit_file, "pkg/sub", "")


def test_caps() -> None:
    big = "x" * (MAX_FILE_CHARS + 1)
    assert "400,001 characters" in refused("too_large", Workspace, {"a.py": big})
    refused("too_large", _ws().edit_file, "a.py", big)
    full = "x" * MAX_FILE_CHARS  # one string shared: cheap
    count = MAX_TOTAL_CHARS // MAX_FILE_CHARS
    ws = Workspace({f"f{n}": full for n in range(count)})
    assert ws.total_chars == MAX_TOTAL_CHARS
    assert "characters in all" in refused("too_large", ws.edit_file, "one_more.py", "x")
    ws.edit_file("f0", "")  # shrinking is fine
    assert "files" in refused("too_large", Workspace, {f"f{n}": "" for n in range(MAX_FILES + 1)})
    refused("not_text", Workspace, {"a.py": b"bytes"})


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
    refused("no_such_file", ws.updated, {"nope.py": None})


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
    refused("bad_pattern", ws.list_files, "")
    refused("bad_pattern", ws.list_files, "*" * 201)


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
    assert "did you mean 'pkg/mod.py'" in refused("no_such_file", ws.read_file, "pkg/mdo.py")
    big = Workspace({f"d{n % 30}/m{n}.py": "" for n in range(1_000)} | {"top.py": ""})
    start = time.perf_counter()
    assert "did you mean 'd3/m3.py'" in refused("no_such_file", big.read_file, "d3/m3.pyy")
    assert "did you mean 'd3/m3.py'" in refused("no_such_file", big.read_file, "d33/m3.py")
    assert "did you mean 'top.py'" in refused("no_such_file", big.read_file, "d3/top.py")
    assert time.perf_counter() - start < 0.1
    assert "has 100 lines" in refused("bad_range", ws.read_file, "pkg/mod.py", 101)
    refused("bad_range", ws.read_file, "pkg/mod.py", 0)
    refused("bad_range", ws.read_file, "pkg/mod.py", 5, 4)


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
    assert "invalid regular expression" in refused("bad_pattern", ws.search, "(unclosed")
    refused("bad_pattern", ws.search, "")
    refused("bad_pattern", ws.search, "a" * 201)
    refused("bad_pattern", ws.search, "x", path_glob="")
    start = time.perf_counter()  # regex would expand these to gigabytes when compiling
    for bomb in ["((a{1000}){1000}){1000}", "(?:x{65535}){65535}", "a{100001}", "(a{,200}){60}"]:
        assert "repetition counts" in refused("bad_pattern", ws.search, bomb)
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
    assert "1 to 4" in refused("bad_range", ws.edit_file, "f.py", None, 0, 0, "x")
    refused("bad_range", ws.edit_file, "f.py", None, 5, 5, "x")
    assert "from 1" in refused("bad_range", ws.edit_file, "f.py", None, 2, 0, "x")
    refused("bad_range", ws.edit_file, "f.py", None, 2, 4, "x")
    refused("bad_range", ws.edit_file, "f.py", "content", 1, 1, "x")
    refused("bad_range", ws.edit_file, "f.py", None, 1, None, "x")
    refused("bad_range", ws.edit_file, "f.py")
    refused("no_such_file", ws.edit_file, "g.py", None, 1, 0, "x")
    refused("too_large", ws.edit_file, "f.py", None, 1, 1, "x" * MAX_FILE_CHARS)
