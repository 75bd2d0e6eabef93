from solution import impact_report, impacted_services

EDGES = [
    ("web", "api"),
    ("mobile", "api"),
    ("api", "auth"),
    ("api", "db"),
    ("auth", "db"),
    ("billing", "db"),
]


def test_direct_and_indirect_callers():
    assert impacted_services(EDGES, "db") == ["api", "auth", "billing", "web", "mobile"]


def test_leaf_caller_has_no_impact():
    assert impacted_services(EDGES, "web") == []


def test_report():
    assert impact_report(EDGES, ["auth", "web"]) == "auth: api, web, mobile\nweb: \n"
