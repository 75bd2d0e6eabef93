import random

from solution import attach_customers, revenue_by_region


def benchmark():
    rng = random.Random(1234)
    regions = ["EU", "US", "APAC", "LATAM"]
    customers = [
        {"id": i, "name": f"customer-{i}", "region": regions[i % len(regions)]} for i in range(300)
    ]
    orders = [
        {"id": n, "customer_id": int(rng.random() * 330), "amount": int(rng.random() * 2000) / 4}
        for n in range(250)
    ]
    rows = attach_customers(orders, customers)
    totals = revenue_by_region(orders[:50], customers)
    named = sum(1 for r in rows if r["customer_name"] is not None)
    return [named, len(rows), sorted(totals.items())]
