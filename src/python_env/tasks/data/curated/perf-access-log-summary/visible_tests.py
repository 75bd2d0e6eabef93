from solution import parse_line, render, summarize

LINES = [
    '10.0.0.1 - - [01/May/2024:10:00:00 +0000] "GET /home?x=1 HTTP/1.1" 200 512 35',
    '10.0.0.2 - - [01/May/2024:10:00:01 +0000] "POST /login HTTP/1.1" 302 - 120',
    "garbage line",
    '10.0.0.1 - - [01/May/2024:10:00:02 +0000] "GET /home HTTP/1.1" 200 512 12',
]


def test_parse_line():
    assert parse_line(LINES[1]) == {"ip": "10.0.0.2", "path": "/login", "status": 302, "bytes": 0, "ms": 120}
    assert parse_line("garbage") is None


def test_summary_counts():
    summary = summarize(LINES)
    assert summary["requests"] == 3
    assert summary["clients"] == 2
    assert summary["slowest"] == ("/login", 120)
    assert summary["hits"] == {"/home": 2, "/login": 1}


def test_render_starts_with_totals():
    assert render(summarize(LINES)).startswith("requests: 3\nclients: 2\n5xx: 0\n")
