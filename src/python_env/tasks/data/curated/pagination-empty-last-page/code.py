"""Pagination helper used by the listing endpoints of the catalogue API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    total_pages: int
    total_items: int
    has_next: bool
    has_previous: bool


def page_count(total_items: int, per_page: int) -> int:
    """Number of pages needed to list total_items; an empty listing still has one page."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    if total_items == 0:
        return 1
    return total_items // per_page + 1


def paginate(items: Sequence[Any], number: int, per_page: int = 20) -> Page:
    """Return page `number` (1-based) of `items`; out-of-range pages raise ValueError."""
    total = page_count(len(items), per_page)
    if number < 1 or number > total:
        raise ValueError(f"page {number} is out of range 1..{total}")
    start = (number - 1) * per_page
    chunk = list(items[start : start + per_page])
    return Page(
        items=chunk,
        number=number,
        total_pages=total,
        total_items=len(items),
        has_next=number < total,
        has_previous=number > 1,
    )


def page_links(page: Page, base_url: str) -> dict[str, str | None]:
    """Links for the response envelope: first, previous, next, last."""

    def link(n: int) -> str:
        return f"{base_url}?page={n}"

    return {
        "first": link(1),
        "previous": link(page.number - 1) if page.has_previous else None,
        "next": link(page.number + 1) if page.has_next else None,
        "last": link(page.total_pages),
    }
