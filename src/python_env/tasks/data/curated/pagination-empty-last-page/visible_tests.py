from solution import page_count, paginate


def test_partial_last_page():
    page = paginate(list(range(45)), 3, per_page=20)
    assert page.items == list(range(40, 45))
    assert page.total_pages == 3
    assert not page.has_next


def test_exact_multiple_has_no_empty_page():
    assert page_count(40, 20) == 2
    last = paginate(list(range(40)), 2, per_page=20)
    assert last.items == list(range(20, 40))
    assert not last.has_next
