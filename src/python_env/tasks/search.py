"""Regular-expression search over a workspace, bounded in time and memory.

A pattern comes from the agent, so it may be pathological. Python's ``re`` cannot be stopped
once it backtracks: ``(a+)+$`` on 24 ``a``s and a ``b`` takes 3 s, and doubles with every
``a``, so no cap on line length bounds it. The ``regex`` module can be stopped (``timeout``, in
CPU time), so each line gets ``LINE_TIMEOUT_SECONDS`` and the whole search
``SEARCH_BUDGET_SECONDS`` of wall time. ``regex`` expands ``{m,n}`` counts when it compiles
(``(a{1000}){1000}`` takes 300 MB), so their product is capped first. Mistakes raise
``WorkspaceActionError`` (see ``tasks.workspace``).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import regex

from python_env.tasks.workspace import (
    MAX_PATTERN_CHARS,
    Result,
    WorkspaceActionError,
    glob_matcher,
)

if TYPE_CHECKING:
    from python_env.tasks.workspace import Workspace

MAX_SEARCH_RESULTS = 500
MAX_SEARCH_LINE_CHARS = 2_000  # only a line's first 2,000 characters are searched
MAX_MATCH_TEXT_CHARS = 200
SEARCH_BUDGET_SECONDS = 0.5  # wall time for one whole search
LINE_TIMEOUT_SECONDS = 0.1  # CPU time for one line, where a sane pattern needs microseconds
MAX_REPEAT_PRODUCT = 10_000  # (a{100}){100} compiles in 10 ms and 3 MB

_REPEAT = re.compile(r"(?<!\\)\{(\d*)(?:,(\d*))?\}")


class SearchMatch(Result):
    """One matching line: its path, 1-based number and text (clipped around the match)."""

    path: str
    line: int
    text: str


class SearchResult(Result):
    """What a search found; ``cut_short`` when the time budget or a slow line stopped it."""

    pattern: str
    matches: tuple[SearchMatch, ...]
    files_searched: int
    limit_reached: bool = False
    cut_short: bool = False
    note: str = ""


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """``pattern`` compiled, once it is 1 to ``MAX_PATTERN_CHARS`` characters and its ``{m,n}``
    counts multiply to at most ``MAX_REPEAT_PRODUCT``; else ``bad_pattern``."""
    if not pattern or len(pattern) > MAX_PATTERN_CHARS:
        raise WorkspaceActionError(
            "bad_pattern", f"a search pattern is 1 to {MAX_PATTERN_CHARS} characters"
        )
    product = 1
    for low, high in _REPEAT.findall(pattern):
        product *= max(int(low or 0), int(high or 0), 1)
        if product > MAX_REPEAT_PRODUCT:
            raise WorkspaceActionError(
                "bad_pattern",
                "repetition counts too large: the {m,n} counts of a pattern may multiply "
                f"to at most {MAX_REPEAT_PRODUCT:,}",
            )
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as error:
        raise WorkspaceActionError("bad_pattern", f"invalid regular expression: {error}") from None


def _excerpt(line: str, start: int) -> str:
    line = line.rstrip("\r")
    if len(line) <= MAX_MATCH_TEXT_CHARS:
        return line
    begin = max(0, min(start - 60, len(line) - MAX_MATCH_TEXT_CHARS))  # the match, some before
    text = line[begin : begin + MAX_MATCH_TEXT_CHARS]
    return ("…" if begin else "") + text + ("…" if begin + len(text) < len(line) else "")


def search(
    workspace: Workspace, pattern: str, path_glob: str | None = None, max_results: int = 100
) -> SearchResult:
    """The lines of ``workspace`` matching the regular expression ``pattern`` (Python syntax,
    as the ``regex`` module reads it), in files matching ``path_glob`` (default all; see
    ``glob_matcher``), in path and line order.

    Each line is matched on its own (``^`` and ``$`` anchor at the line), in its first
    ``MAX_SEARCH_LINE_CHARS`` characters; a match's text is clipped to
    ``MAX_MATCH_TEXT_CHARS`` around it. At most ``max_results`` (1 to ``MAX_SEARCH_RESULTS``)
    matches (``limit_reached``). ``SEARCH_BUDGET_SECONDS`` of wall time in all, and
    ``LINE_TIMEOUT_SECONDS`` of CPU time for any one line (catastrophic backtracking): past
    either, the search stops with what it found, ``cut_short`` and a ``note`` saying where.
    """
    compiled = compile_pattern(pattern)
    wanted = glob_matcher(path_glob) if path_glob is not None else None
    limit = max(1, min(max_results, MAX_SEARCH_RESULTS))
    deadline = time.perf_counter() + SEARCH_BUDGET_SECONDS
    matches: list[SearchMatch] = []
    searched = 0

    def result(
        limit_reached: bool = False, cut_short: bool = False, note: str = ""
    ) -> SearchResult:
        return SearchResult(
            pattern=pattern, matches=tuple(matches), files_searched=searched,
            limit_reached=limit_reached, cut_short=cut_short, note=note,
        )  # fmt: skip

    for path, content in workspace.items():
        if wanted is not None and not wanted(path):
            continue
        searched += 1
        lines = content.split("\n")
        if lines[-1] == "":
            lines.pop()  # after a final newline: no line
        for number, line in enumerate(lines, 1):
            left = deadline - time.perf_counter()
            if left <= 0:
                return result(cut_short=True, note=f"search cut short after "
                              f"{SEARCH_BUDGET_SECONDS} s, in {path}")  # fmt: skip
            try:
                timeout = min(left, LINE_TIMEOUT_SECONDS)
                found = compiled.search(line[:MAX_SEARCH_LINE_CHARS], timeout=timeout)
            except TimeoutError:
                note = (f"search cut short: the pattern took over {LINE_TIMEOUT_SECONDS} s "
                        f"on {path}:{number} (catastrophic backtracking?)")  # fmt: skip
                return result(cut_short=True, note=note)
            if found is not None:
                excerpt = _excerpt(line, found.start())
                matches.append(SearchMatch(path=path, line=number, text=excerpt))
                if len(matches) == limit:
                    return result(limit_reached=True, note=f"stopped at {limit} matches")
    return result()
