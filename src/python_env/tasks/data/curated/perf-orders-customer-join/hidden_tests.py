from solution import attach_customers, revenue_by_region

CUSTOMERS = [
    {"id": 1, "name": "Acme", "region": "EU"},
    {"id": 2, "name": "Globex", "region": "US"},
    {"id": 3, "name": "Initech", "region": "US"},
]


def test_full_rows_in_order():
    orders = [
        {"id": 10, "customer_id": 3, "amount": 5.0, "sku": "A"},
        {"id": 11, "customer_id": 1, "amount": 7.5, "sku": "B"},
        {"id": 12, "customer_id": 3, "amount": 1.0, "sku": "C"},
    ]
    return attach_customers(orders, CUSTOMERS)


def test_first_duplicate_customer_wins():
    customers = [
        {"id": 7, "name": "Old Name", "region": "APAC"},
        {"id": 7, "name": "New Name", "region": "EU"},
    ]
    return attach_customers([{"id": 1, "customer_id": 7, "amount": 3.0}], customers)


def test_empty_inputs():
    return [
        attach_customers([], CUSTOMERS),
        attach_customers([{"id": 1, "customer_id": 1, "amount": 2.0}], []),
        revenue_by_region([], CUSTOMERS),
    ]


def test_inputs_not_modified():
    orders = [{"id": 1, "customer_id": 2, "amount": 2.0}]
    customers = [dict(c) for c in CUSTOMERS]
    rows = attach_customers(orders, customers)
    rows[0]["amount"] = 99.0
    return [orders, customers == CUSTOMERS, rows[0] is orders[0]]


def test_string_and_int_ids_do_not_mix():
    customers = [{"id": "1", "name": "Text Id", "region": "EU"}, {"id": 1, "name": "Int Id", "region": "US"}]
    orders = [{"id": 5, "customer_id": 1, "amount": 1.0}, {"id": 6, "customer_id": "1", "amount": 2.0}]
    return [(r["customer_name"], r["region"]) for r in attach_customers(orders, customers)]


def test_revenue_with_missing_region_and_unknowns():
    customers = CUSTOMERS + [{"id": 4, "name": "Nowhere", "region": None}]
    orders = [
        {"id": 1, "customer_id": 2, "amount": 10.0},
        {"id": 2, "customer_id": 3, "amount": 2.25},
        {"id": 3, "customer_id": 4, "amount": 1.0},
        {"id": 4, "customer_id": 42, "amount": 0.5},
    ]
    return revenue_by_region(orders, customers)
