from solution import page_count, page_links, paginate


def test_page_count_exact_multiple():
    return [page_count(n, 10) for n in (10, 20, 30, 100)]


def test_page_count_with_remainder():
    return [page_count(n, 10) for n in (1, 9, 11, 21, 99)]


def test_page_count_single_per_page():
    return [page_count(n, 1) for n in (0, 1, 2, 7)]


def test_empty_listing_has_one_page():
    page = paginate([], 1, per_page=5)
    return [page.items, page.total_pages, page.has_next, page.has_previous]


def test_last_page_of_exact_multiple():
    page = paginate(list(range(60)), 3, per_page=20)
    return [page.items[0], page.items[-1], len(page.items), page.has_next, page.total_pages]


def test_page_past_the_end_is_rejected():
    try:
        paginate(list(range(40)), 3, per_page=20)
    except ValueError:
        return "ValueError"
    return "no error"


def test_middle_page_of_partial_listing():
    page = paginate(list("abcdefghijk"), 2, per_page=4)
    return [page.items, page.number, page.total_pages, page.has_next, page.has_previous]


def test_links_on_exact_multiple():
    page = paginate(list(range(30)), 2, per_page=15)
    return page_links(page, "/api/products")


def test_invalid_per_page():
    try:
        page_count(5, 0)
    except ValueError:
        return "ValueError"
    return "no error"
