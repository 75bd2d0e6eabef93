"""Visible tests of receipts: parsing, the subtotal, totals with and without a discount."""

import sys

import pytest

from receipts import load_items, parse_line, subtotal, total


def test_parse_line_reads_the_three_fields():
    item = parse_line("  coffee , 2, 3.50 ")
    assert (item.name, item.quantity, str(item.unit_price)) == ("coffee", 2, "3.50")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("coffee, 2", "expected 3 fields"),
        ("coffee, none, 3.50", "bad quantity"),
        ("coffee, 2, cheap", "bad price"),
    ],
)
def test_parse_line_refuses_a_malformed_line(line, message):
    with pytest.raises(ValueError, match=message):
        parse_line(line)


def test_subtotal_multiplies_quantities_by_prices(sample_items):
    assert str(subtotal(sample_items)) == "17.00"


def test_total_adds_tax(sample_items):
    assert str(total(sample_items)) == "18.36"


def test_total_takes_the_discount_off_before_tax(sample_items):
    assert str(total(sample_items, discount_percent=10)) == "16.52"


@pytest.mark.skipif(sys.platform == "win32", reason="the receipt file is written with LF endings")
def test_load_items_reads_a_receipt_file(receipt_file):
    assert [item.name for item in load_items(receipt_file)] == ["coffee", "bagel", "juice"]
