"""Install planning for the internal package mirror: dependency order and rebuild impact."""

from __future__ import annotations

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
    installed: list[str] = []
    pending = sorted(requirements)
    while pending:
        for name in pending:
            if all(dep in installed for dep in requirements[name]):
                installed.append(name)
                pending.remove(name)
                break
        else:
            raise DependencyCycleError(pending)
    return installed


def affected_by(requirements: Requirements, package: str) -> list[str]:
    """Every package that depends on ``package`` directly or indirectly, sorted by name."""
    affected: list[str] = []
    frontier = [package]
    while frontier:
        current = frontier.pop(0)
        for name in sorted(requirements):
            if current in requirements[name] and name not in affected:
                affected.append(name)
                frontier.append(name)
    return sorted(affected)
