"""Patches and diffs over workspaces: git-style and plain unified diffs, errors naming the hunk,
path checks, and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from python_env.tasks.patches import MAX_PATCH_CHARS, apply_patch, changed_lines, unified_diff
from python_env.tasks.workspace import MAX_FILE_CHARS, Workspace, WorkspaceActionError, split_lines
from tests.tasks.test_workspace import MOD, refused

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
    assert "creates it, but it exists" in refused("patch_conflict", apply_patch, after, plain_new)
    leftover = "--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    assert "leaves 1 lines" in refused("patch_conflict", apply_patch, ws, leftover)
    assert "no such file" in refused("no_such_file", apply_patch, ws, delete.replace("old", "nope"))


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
    message = refused("patch_conflict", apply_patch, ws, diff)
    assert message.startswith("pkg/mod.py: hunk 2 (@@ -40,3 +40,3 @@) does not apply: ")
    assert "line 42 expected 'x = 1', found 'x = 2'" in message and "50 lines" in message
    assert ws["ok.py"] == SIMPLE  # all or nothing (and the workspace never changes)
    far = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1 +1 @@\n-line 60\n+LINE 60\n"
    assert "hunk 1" in refused("patch_conflict", apply_patch, ws, far)  # 59 lines away
    near = far.replace("-1 +1", "-15 +15")
    assert apply_patch(ws, near)["pkg/mod.py"].count("LINE 60") == 1
    past = "--- a/ok.py\n+++ b/ok.py\n@@ -5,2 +5,2 @@\n e\n-f\n+F\n"
    assert "past the end (5 lines)" in refused("patch_conflict", apply_patch, ws, past)


def test_no_newline_at_end_of_file() -> None:
    ws = Workspace({"a.py": "x\ny", "b.py": "x\ny\n"})
    add_newline = "--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@\n-y\n\\ No newline at end of file\n+y\n"
    drop_newline = "--- a/b.py\n+++ b/b.py\n@@ -2 +2 @@\n-y\n+y\n\\ No newline at end of file\n"
    assert apply_patch(ws, add_newline + drop_newline) == {"a.py": "x\ny\n", "b.py": "x\ny"}
    missing_marker = "--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@\n-y\n+z\n"
    assert "found 'y' (no newline at end of file)" in refused(
        "patch_conflict", apply_patch, ws, missing_marker
    )


def test_blank_context_lines_without_their_space_and_quoted_paths() -> None:
    ws = Workspace({"a.py": "x\n\ny\n", "tést.py": "1\n"})
    stripped = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n\n-y\n+Y\n"
    quoted = '--- "a/t\\303\\251st.py"\n+++ "b/t\\303\\251st.py"\n@@ -1 +1 @@\n-1\n+2\n'
    assert apply_patch(ws, stripped + quoted) == {"a.py": "x\n\nY\n", "tést.py": "2\n"}
    refused("bad_patch", apply_patch, ws, quoted.replace("\\303", "\\x"))
    two_literals = '--- "a/a.py" "x"\n+++ "b/a.py" "x"\n@@ -1 +1 @@\n-x\n+X\n'
    assert "quoted path" in refused("bad_patch", apply_patch, ws, two_literals)


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
    assert "invalid path" in refused("invalid_path", apply_patch, ws, diff)
    modify = f"--- {target.replace('b/', 'a/', 1)}\n+++ {target}\n@@ -1 +1 @@\n-x\n+y\n"
    refused("invalid_path", apply_patch, ws, modify)


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
        assert words in refused("unsupported", apply_patch, ws, diff)


def test_unreadable_patches() -> None:
    ws = Workspace({"a.py": "x\ny\n"})
    assert "empty" in refused("bad_patch", apply_patch, ws, " \n")
    assert "no file changes" in refused("bad_patch", apply_patch, ws, "just some words\n")
    short = "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n"
    message = refused("bad_patch", apply_patch, ws, short)
    assert "counts must match" in message
    long = "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n x\n-y\n+Y\n"
    message = refused("bad_patch", apply_patch, ws, long)  # unidiff alone would drop -y +Y
    assert message.startswith("a.py: hunk 1 (@@ -1,1 +1,1 @@) ends before patch line 5, '-y'")
    refused("too_large", apply_patch, ws, "x" * (MAX_PATCH_CHARS + 1))
    huge = "--- /dev/null\n+++ b/big.py\n@@ -0,0 +1 @@\n+" + "x" * MAX_FILE_CHARS + "\n"
    refused("too_large", apply_patch, ws, huge)


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
