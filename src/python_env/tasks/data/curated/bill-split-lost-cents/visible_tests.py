from solution import split_bill, split_evenly


def test_even_total():
    assert split_evenly(900, 3) == [300, 300, 300]


def test_shares_add_up_to_total():
    shares = split_evenly(1000, 3)
    assert sum(shares) == 1000, shares
    assert max(shares) - min(shares) <= 1


def test_split_bill_example():
    assert split_bill("100.00", ["ana", "ben", "cy"]) == {
        "ana": "33.34",
        "ben": "33.33",
        "cy": "33.33",
    }
