from solution import attach_customers, revenue_by_region

CUSTOMERS = [
    {"id": 1, "name": "Acme", "region": "EU"},
    {"id": 2, "name": "Globex", "region": "US"},
]


def test_orders_get_customer_fields():
    orders = [{"id": 10, "customer_id": 2, "amount": 5.0}, {"id": 11, "customer_id": 1, "amount": 7.5}]
    rows = attach_customers(orders, CUSTOMERS)
    assert [(r["id"], r["customer_name"], r["region"]) for r in rows] == [
        (10, "Globex", "US"),
        (11, "Acme", "EU"),
    ]


def test_unknown_customer_gets_none():
    rows = attach_customers([{"id": 1, "customer_id": 99, "amount": 1.0}], CUSTOMERS)
    assert rows[0]["customer_name"] is None and rows[0]["region"] is None


def test_revenue_by_region():
    orders = [
        {"id": 1, "customer_id": 1, "amount": 10.0},
        {"id": 2, "customer_id": 1, "amount": 2.5},
        {"id": 3, "customer_id": 3, "amount": 4.0},
    ]
    assert revenue_by_region(orders, CUSTOMERS) == {"EU": 12.5, "unknown": 4.0}
