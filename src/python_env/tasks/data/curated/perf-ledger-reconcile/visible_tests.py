from solution import load_statement, reconcile


def rec(id_, ref, cents, day):
    return {"id": id_, "reference": ref, "cents": cents, "date": day}


def test_simple_match():
    statement = [rec("b1", "INV-1", 1000, "2024-03-01"), rec("b2", "INV-2", 500, "2024-03-02")]
    ledger = [rec("l1", "INV-2", 500, "2024-03-01"), rec("l2", "INV-1", 1000, "2024-03-02")]
    assert reconcile(statement, ledger) == {
        "pairs": [("b1", "l2"), ("b2", "l1")],
        "unmatched_bank": [],
        "unmatched_ledger": [],
    }


def test_amount_must_match():
    result = reconcile([rec("b1", "INV-1", 999, "2024-03-01")], [rec("l1", "INV-1", 1000, "2024-03-01")])
    assert result["unmatched_bank"] == ["b1"] and result["unmatched_ledger"] == ["l1"]


def test_load_statement_flattens_pages():
    assert load_statement([[1, 2], [], [3]]) == [1, 2, 3]
