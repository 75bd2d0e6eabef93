"""Hidden tests of receipts: discounts, comment lines, the printed receipt, the dashboard."""

from pathlib import Path

import pytest

from receipts import average_price, load_items, total, write_receipt


@pytest.mark.parametrize(
    ("discount", "expected"),
    [(0, "18.36"), (10, "16.52"), (25, "13.77"), (50, "9.18"), (100, "0.00")],
)
def test_total_with_a_discount(sample_items, discount, expected):
    assert str(total(sample_items, discount_percent=discount)) == expected


@pytest.mark.parametrize("discount", [-5, 101])
def test_total_refuses_a_discount_out_of_range(sample_items, discount):
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        total(sample_items, discount_percent=discount)


def test_load_items_skips_indented_comment_lines(tmp_path):
    path = tmp_path / "receipt.txt"
    path.write_text(
        "coffee, 1, 3.50\n\n    # staff discount given at the till\nbagel, 2, 2.00\n",
        encoding="utf-8",
    )
    assert [(item.name, item.quantity) for item in load_items(path)] == [
        ("coffee", 1),
        ("bagel", 2),
    ]


def test_load_items_reads_the_fixture_file(receipt_file):
    assert [item.quantity for item in load_items(receipt_file)] == [2, 3, 1]


def test_write_receipt_prints_each_item_and_the_total(sample_items, receipt_log):
    write_receipt(sample_items, receipt_log, discount_percent=10)
    receipt_log.flush()
    lines = Path(receipt_log.name).read_text(encoding="utf-8").splitlines()
    assert lines == ["2 x coffee @ 3.50", "3 x bagel @ 2.00", "1 x juice @ 4.00", "TOTAL 16.52"]


def test_average_price_per_unit(sample_items):
    assert average_price(sample_items) == pytest.approx(2.8333333333333335)


def test_average_price_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no items"):
        average_price([])
