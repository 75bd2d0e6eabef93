import sqlite3

from solution import export_csv, fetch_orders, totals_by_status

ORDERS = [
    (1, 501, "emea", "paid", 1999, "2024-05-01"),
    (2, 502, "emea", "paid", 500, "2024-05-15"),
    (3, 503, "emea", "refunded", 1999, "2024-05-31"),
    (4, 504, "apac", "paid", 7000, "2024-05-04"),
    (5, 501, "emea", "paid", 12050, "2024-05-31"),
    (6, 505, "emea", "pending", 250, "2024-06-01"),
    (7, 506, "emea", "paid", 4000, "2024-04-30"),
]


def _db():
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, region TEXT, "
        "status TEXT, amount_cents INTEGER, created_on TEXT)"
    )
    conn.execute("CREATE TABLE admins (name TEXT, api_key TEXT)")
    conn.execute("INSERT INTO admins VALUES ('root', 'k3y-7f2a')")
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
    return conn


def _ids(sort):
    conn = _db()
    try:
        rows = fetch_orders(conn, "emea", "paid", "2024-05-01", "2024-05-31", sort=sort)
        return [row[0] for row in rows]
    except ValueError:
        return "ValueError"
    except sqlite3.Error as exc:
        return type(exc).__name__
    finally:
        conn.close()


def test_range_includes_both_end_dates():
    conn = _db()
    return export_csv(conn, "emea", "paid", "2024-05-01", "2024-05-31").splitlines()


def test_single_day_range():
    conn = _db()
    return [row[0] for row in fetch_orders(conn, "emea", "paid", "2024-05-15", "2024-05-15")]


def test_totals_by_status():
    return totals_by_status(_db(), "emea", "2024-05-01", "2024-05-31")


def test_allowed_sort_columns():
    return [_ids("created_on"), _ids("amount_cents"), _ids("customer_id")]


def test_stacked_statement_in_sort_rejected():
    return _ids("id; DROP TABLE orders")


def test_blind_injection_in_sort_rejected():
    probe = ("(CASE WHEN (SELECT substr(api_key, 1, 1) FROM admins) = 'k' "
             "THEN -amount_cents ELSE amount_cents END)")
    return _ids(probe)


def test_empty_report_has_header_only():
    return export_csv(_db(), "apac", "refunded", "2024-01-01", "2024-12-31")
