from solution import DependencyCycleError, affected_by, install_order

REQS = {
    "web": ["http", "templates"],
    "http": ["sockets"],
    "templates": ["strings"],
    "sockets": [],
    "strings": [],
}


def test_dependencies_come_first():
    assert install_order(REQS) == ["sockets", "http", "strings", "templates", "web"]


def test_cycle_is_reported():
    try:
        install_order({"a": ["b"], "b": ["a"], "c": []})
    except DependencyCycleError as exc:
        assert exc.packages == ["a", "b"]
    else:
        raise AssertionError("expected DependencyCycleError")


def test_affected_by():
    assert affected_by(REQS, "sockets") == ["http", "web"]
