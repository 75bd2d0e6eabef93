from solution import load_statement, reconcile, reconcile_pages


def rec(id_, ref, cents, day):
    return {"id": id_, "reference": ref, "cents": cents, "date": day}


def test_window_edges():
    ledger = [
        rec("l1", "R1", 100, "2024-01-04"),
        rec("l2", "R2", 100, "2024-01-05"),
        rec("l3", "R3", 100, "2023-12-29"),
    ]
    statement = [rec("b1", "R1", 100, "2024-01-01"), rec("b2", "R2", 100, "2024-01-01"), rec("b3", "R3", 100, "2024-01-01")]
    return reconcile(statement, ledger)


def test_first_unused_entry_in_ledger_order():
    ledger = [
        rec("l1", "RENT", 50000, "2024-02-01"),
        rec("l2", "RENT", 50000, "2024-02-02"),
        rec("l3", "RENT", 50000, "2024-02-01"),
    ]
    statement = [
        rec("b1", "RENT", 50000, "2024-02-02"),
        rec("b2", "RENT", 50000, "2024-02-01"),
        rec("b3", "RENT", 50000, "2024-02-03"),
        rec("b4", "RENT", 50000, "2024-02-03"),
    ]
    return reconcile(statement, ledger)


def test_skips_entry_out_of_window_then_matches_later_one():
    ledger = [rec("old", "SUB", 999, "2024-01-01"), rec("new", "SUB", 999, "2024-02-01")]
    return reconcile([rec("b1", "SUB", 999, "2024-02-03"), rec("b2", "SUB", 999, "2024-01-02")], ledger)


def test_empty_inputs():
    return [reconcile([], []), reconcile([rec("b", "X", 1, "2024-01-01")], []), reconcile([], [rec("l", "X", 1, "2024-01-01")])]


def test_pages_flattened_in_order():
    pages = [[rec("b1", "A", 1, "2024-05-01")], [], [rec("b2", "B", 2, "2024-05-01"), rec("b3", "A", 1, "2024-05-04")]]
    ledger = [rec("l1", "A", 1, "2024-05-02"), rec("l2", "A", 1, "2024-05-07"), rec("l3", "B", 2, "2024-05-09")]
    return [[line["id"] for line in load_statement(pages)], reconcile_pages(pages, ledger)]


def test_month_boundary_and_leap_day():
    ledger = [rec("l1", "Q", 7, "2024-02-29"), rec("l2", "Q", 7, "2024-03-01")]
    statement = [rec("b1", "Q", 7, "2024-03-03"), rec("b2", "Q", 7, "2024-02-26")]
    return reconcile(statement, ledger)
