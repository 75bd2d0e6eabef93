from solution import parse_line, render, summarize


def line(ip, path, status, ms, size="100", method="GET"):
    return f'{ip} - - [01/May/2024:10:00:00 +0000] "{method} {path} HTTP/1.1" {status} {size} {ms}'


def test_server_errors_include_500():
    lines = [line("a", "/x", 500, 5), line("a", "/x", 503, 6), line("b", "/y", 499, 7), line("c", "/z", 200, 1)]
    return summarize(lines)


def test_empty_log():
    summary = summarize([])
    return [summary, render(summary)]


def test_render_orders_busiest_paths():
    lines = [line("a", p, 200, i) for i, p in enumerate(["/b", "/a", "/b", "/c", "/a", "/d", "/e", "/f"])]
    return [render(summarize(lines)), render(summarize(lines), top=2)]


def test_parse_variants():
    return [
        parse_line(line("1.2.3.4", "/q?page=2&x=1", 404, 77, size="-")),
        parse_line(line("1.2.3.4", "/upload", 201, 900, method="PUT")),
        parse_line("1.2.3.4 - - [bad] GET / 200 1 1"),
        parse_line(""),
    ]


def test_distinct_clients_and_slowest():
    lines = [line(f"10.0.0.{i % 4}", f"/p{i % 3}", 200, (i * 37) % 101) for i in range(20)]
    summary = summarize(lines + ["noise"])
    return [summary["clients"], summary["slowest"], summary["requests"], summary["hits"]]


def test_full_summary_with_mixed_statuses():
    statuses = (200, 500, 502, 404, 599, 301)
    lines = [line("a", f"/api/{i % 2}", s, 10 + (i * 5) % 6) for i, s in enumerate(statuses)]
    return summarize(lines)
