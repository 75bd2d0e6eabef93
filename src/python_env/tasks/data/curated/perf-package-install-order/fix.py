"""Install planning for the internal package mirror: dependency order and rebuild impact."""

from __future__ import annotations

import heapq
from collections import deque

Requirements = dict[str, list[str]]


class UnknownDependencyError(Exception):
    """A package depends on something that is not in the requirements."""

    def __init__(self, package: str, dependency: str) -> None:
        super().__init__(f"{package} depends on unknown package {dependency}")
        self.package = package
        self.dependency = dependency


class DependencyCycleError(Exception):
    """Some packages can never be installed because their dependencies form a cycle."""

    def __init__(self, packages: list[str]) -> None:
        super().__init__("dependency cycle among: " + ", ".join(packages))
        self.packages = packages


def install_order(requirements: Requirements) -> list[str]:
    """Order in which to install the packages so that each one follows its dependencies.

    Among the packages that are ready at the same time, the alphabetically first one goes first.
    Raises UnknownDependencyError for the first (by package name) unknown dependency, and
    DependencyCycleError listing, sorted, every package that can never be installed.
    """
    for name in sorted(requirements):
        for dep in requirements[name]:
            if dep not in requirements:
                raise UnknownDependencyError(name, dep)
    dependents: dict[str, list[str]] = {name: [] for name in requirements}
    waiting: dict[str, int] = {}
    for name, deps in requirements.items():
        unique = set(deps)
        waiting[name] = len(unique)
        for dep in unique:
            dependents[dep].append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    installed: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        installed.append(name)
        for user in dependents[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(installed) < len(requirements):
        raise DependencyCycleError(sorted(set(requirements).difference(installed)))
    return installed


def affected_by(requirements: Requirements, package: str) -> list[str]:
    """Every package that depends on ``package`` directly or indirectly, sorted by name."""
    dependents: dict[str, list[str]] = {}
    for name, deps in requirements.items():
        for dep in set(deps):
            dependents.setdefault(dep, []).append(name)
    affected: set[str] = set()
    frontier = deque([package])
    while frontier:
        current = frontier.popleft()
        for name in dependents.get(current, ()):
            if name not in affected:
                affected.add(name)
                frontier.append(name)
    return sorted(affected)
