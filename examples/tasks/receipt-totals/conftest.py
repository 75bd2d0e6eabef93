"""Fixtures shared by the visible and the hidden tests."""

from decimal import Decimal

import pytest

from receipts import Item


@pytest.fixture
def sample_items():
    """A morning order: 17.00 before discount and tax."""
    return [
        Item("coffee", 2, Decimal("3.50")),
        Item("bagel", 3, Decimal("2.00")),
        Item("juice", 1, Decimal("4.00")),
    ]


@pytest.fixture
def receipt_file(tmp_path):
    """The same order as a receipt file, with a comment line and a blank line."""
    path = tmp_path / "receipt.txt"
    path.write_text(
        "# morning order\ncoffee, 2, 3.50\n\nbagel, 3, 2.00\njuice, 1, 4.00\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def receipt_log(tmp_path):
    """The till's log file, open for writing; closed after the test."""
    handle = (tmp_path / "till.log").open("w", encoding="utf-8")
    yield handle
    handle.close()
