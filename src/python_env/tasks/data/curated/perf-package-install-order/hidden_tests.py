from solution import DependencyCycleError, UnknownDependencyError, affected_by, install_order


def test_alphabetical_tie_breaking():
    reqs = {
        "zlib": [],
        "app": ["zlib", "yaml"],
        "yaml": [],
        "cli": ["app"],
        "bz2": [],
        "docs": ["bz2", "cli"],
    }
    return install_order(reqs)


def test_diamond_with_duplicate_dependencies():
    reqs = {
        "top": ["left", "right", "left"],
        "left": ["base"],
        "right": ["base", "base"],
        "base": [],
        "extra": ["right"],
    }
    return [install_order(reqs), affected_by(reqs, "base"), affected_by(reqs, "right")]


def test_cycle_includes_everything_stuck_behind_it():
    reqs = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": [], "f": ["e"]}
    try:
        install_order(reqs)
    except DependencyCycleError as exc:
        return ["cycle", exc.packages, str(exc)]
    return ["no error"]


def test_self_dependency():
    reqs = {"solo": ["solo"], "ok": []}
    try:
        install_order(reqs)
    except DependencyCycleError as exc:
        return ["cycle", exc.packages, affected_by(reqs, "solo"), affected_by(reqs, "ok")]
    return ["no error"]


def test_unknown_dependency_reported_first_by_name():
    reqs = {"b": ["missing-b"], "a": ["x", "missing-a"], "x": []}
    try:
        install_order(reqs)
    except UnknownDependencyError as exc:
        return [exc.package, exc.dependency, str(exc)]
    return ["no error"]


def test_empty_and_unknown_package():
    reqs = {"a": [], "b": ["a"]}
    return [install_order({}), affected_by({}, "a"), affected_by(reqs, "nope"), affected_by(reqs, "b")]


def test_affected_by_through_cycle():
    reqs = {"a": ["b"], "b": ["a"], "c": ["b"], "d": ["c"], "e": []}
    return [affected_by(reqs, "a"), affected_by(reqs, "c"), affected_by(reqs, "e")]
