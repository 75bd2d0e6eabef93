from solution import build_callers, impact_report, impacted_services


def test_breadth_first_order():
    edges = [("a", "x"), ("b", "x"), ("c", "a"), ("d", "b"), ("e", "c"), ("d", "a")]
    return impacted_services(edges, "x")


def test_cycles_do_not_loop_or_include_the_failed_service():
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "c")]
    return [impacted_services(edges, "a"), impacted_services(edges, "c")]


def test_duplicate_edges_and_self_calls():
    edges = [("a", "b"), ("a", "b"), ("b", "b"), ("c", "a")]
    return [impacted_services(edges, "b"), build_callers(edges)]


def test_unknown_service_and_empty_graph():
    return [impacted_services([("a", "b")], "zzz"), impacted_services([], "a"), impact_report([], ["a"])]


def test_report_multiple_outages():
    edges = [("web", "api"), ("api", "db"), ("cron", "db"), ("web", "cdn")]
    return impact_report(edges, ["db", "cdn", "api", "db"])


def test_empty_outage_list():
    return [impact_report([("a", "b")], []), len(impact_report([("a", "b")], ["b"] * 3))]
