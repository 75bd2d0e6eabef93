"""Injectors: each plants one kind of known issue and writes its answer key.

An injector belongs to a *family* that decides how its injections are validated:

* ``bug``: behaviour changes; kept only if the differential hidden tests (and a visible one)
  fail on it, and no new analyzer finding gives it away.
* ``static``: behaviour is unchanged; kept only if the matching analyzer rule fires on the
  injected lines and not on the original (security, maintainability, style).
* ``perf``: behaviour is unchanged; kept only if the benchmark's counted cost grows >= 3x.
* ``refactor``: a behaviour-preserving refactor done wrong (a bug in a refactor's clothes);
  only the repository generator plants these, validated as it validates every mutant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from python_env.tasks.generate.injectors.base import Scan, Site
from python_env.types import Category, Severity

Family = Literal["bug", "static", "perf", "refactor"]


@dataclass(frozen=True)
class Injector:
    name: str
    family: Family
    category: Category
    severity: Severity
    rule_id: str  # analyzer rule that must fire (static) or that also applies (bug), or ""
    subtlety: int  # 1 = obvious once read, 2 = needs reasoning; drives difficulty
    find: Callable[[Scan], list[Site]]
    alt_categories: tuple[Category, ...] = ()  # other categories a careful reviewer could use


REGISTRY: dict[str, Injector] = {}


def register(
    name: str,
    family: Family,
    category: Category,
    severity: Severity,
    rule_id: str = "",
    subtlety: int = 1,
    alt: tuple[Category, ...] = (),
) -> Callable[[Callable[[Scan], list[Site]]], Callable[[Scan], list[Site]]]:
    def wrap(find: Callable[[Scan], list[Site]]) -> Callable[[Scan], list[Site]]:
        if name in REGISTRY:
            raise ValueError(f"injector {name!r} registered twice")
        REGISTRY[name] = Injector(name, family, category, severity, rule_id, subtlety, find, alt)
        return find

    return wrap


def load_all() -> dict[str, Injector]:
    """Import every injector module (they register themselves) and return the registry."""
    from python_env.tasks.generate.injectors import (  # noqa: F401
        bugs_flow,
        bugs_ops,
        bugs_refactor,
        maintainability,
        performance,
        security,
        style,
    )

    return REGISTRY
