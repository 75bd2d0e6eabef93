import sqlite3

from solution import export_csv, fetch_orders

ORDERS = [
    (1, 501, "emea", "paid", 1999, "2024-05-02"),
    (2, 502, "emea", "paid", 500, "2024-05-03"),
    (3, 503, "emea", "refunded", 1999, "2024-05-03"),
    (4, 504, "apac", "paid", 7000, "2024-05-04"),
    (5, 501, "emea", "paid", 12050, "2024-05-09"),
]


def _db():
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, region TEXT, "
        "status TEXT, amount_cents INTEGER, created_on TEXT)"
    )
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
    return conn


def test_export_paid_emea():
    conn = _db()
    text = export_csv(conn, "emea", "paid", "2024-05-01", "2024-05-31")
    assert text.splitlines() == [
        "order_id,customer_id,region,status,amount,created_on",
        "1,501,emea,paid,19.99,2024-05-02",
        "2,502,emea,paid,5.00,2024-05-03",
        "5,501,emea,paid,120.50,2024-05-09",
    ]


def test_sort_by_amount():
    conn = _db()
    rows = fetch_orders(conn, "emea", "paid", "2024-05-01", "2024-05-31", sort="amount_cents")
    assert [row[0] for row in rows] == [2, 1, 5]


def test_unknown_status_rejected():
    try:
        fetch_orders(_db(), "emea", "shipped", "2024-05-01", "2024-05-31")
    except ValueError:
        return
    raise AssertionError("unknown status accepted")
