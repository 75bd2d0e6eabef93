"""Find phrases that are anagrams of each other, for the word-puzzle editor."""

from __future__ import annotations


def _letters(phrase: str) -> list[str]:
    """The letters and digits of ``phrase``, lower-cased and sorted."""
    return sorted(ch for ch in phrase.lower() if ch.isalnum())


def group_anagrams(phrases: list[str], min_size: int = 2) -> list[list[str]]:
    """Group phrases that are anagrams of each other, ignoring case, spaces and punctuation.

    Groups are listed in the order of their first member and members keep their input order.
    A phrase that occurs more than once is listed once. Only groups with at least ``min_size``
    members are returned.
    """
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for phrase in phrases:
        if phrase in seen:
            continue
        seen.add(phrase)
        key = "".join(_letters(phrase))
        groups.setdefault(key, []).append(phrase)
    return [group for group in groups.values() if len(group) >= min_size]


def largest_group(phrases: list[str]) -> list[str]:
    """The biggest anagram group (the earliest one on a tie), or ``[]`` if there is none."""
    best: list[str] = []
    for group in group_anagrams(phrases):
        if len(group) > len(best):
            best = group
    return best
