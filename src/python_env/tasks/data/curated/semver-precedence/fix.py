"""Semantic versions for the plugin updater, ordered by SemVer 2.0.0 precedence.

Precedence rules used here:
- major, minor and patch are compared numerically;
- a pre-release version has lower precedence than the release with the same numbers
  (1.0.0-rc.1 < 1.0.0);
- pre-release identifiers are compared left to right: numeric identifiers numerically,
  alphanumeric ones in ASCII order, numeric ones lower than alphanumeric ones, and a shorter
  list of identifiers is lower when all preceding ones are equal;
- build metadata (after "+") is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"not a semantic version: {text!r}")
        major, minor, patch, pre, build = match.groups()
        prerelease = tuple(pre.split(".")) if pre else ()
        return cls(int(major), int(minor), int(patch), prerelease, build or "")

    def _key(self) -> tuple[object, ...]:
        identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, identifiers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)


def latest(versions: list[str], include_prereleases: bool = False) -> str | None:
    """The highest version in the list (as written there), or None if none qualifies."""
    candidates = [(Version.parse(v), v) for v in versions]
    if not include_prereleases:
        candidates = [(parsed, v) for parsed, v in candidates if not parsed.is_prerelease]
    if not candidates:
        return None
    return max(candidates, key=lambda pair: pair[0])[1]


def is_compatible_upgrade(current: str, candidate: str) -> bool:
    """True if candidate is newer than current within the same major version (caret rule)."""
    old, new = Version.parse(current), Version.parse(candidate)
    return new.major == old.major and new > old
