from solution import import_members

HEADER = "email,name,joined,plan\n"


def _summary(result):
    return {
        "members": [[m["email"], m["name"], m["joined"].isoformat(), m["plan"]] for m in result.members],
        "errors": list(result.errors),
    }


def test_clean_file():
    text = HEADER + "Ann@Example.com , Ann   Lee ,2024-01-05,Plus\ncarl@example.com,Carl,2023-12-31,\n"
    return _summary(import_members(text, []))


def test_error_line_numbers():
    text = (
        HEADER
        + "a@example.com,A,2024-01-01,basic\n"
        + "b@example.com,,2024-01-02,basic\n"
        + "c-at-example.com,C,2024-01-03,basic\n"
        + "d@example.com,D,2024-01-04,gold\n"
    )
    return _summary(import_members(text))["errors"]


def test_duplicate_reported_with_line():
    text = HEADER + "e@example.com,E,2024-01-01,basic\nE@example.com,E2,2024-01-02,plus\n"
    return _summary(import_members(text))


def test_consecutive_imports_are_independent():
    bad = HEADER + "f@example.com,F,2024-01-01,platinum\n"
    good = HEADER + "g@example.com,G,2024-01-01,premium\n"
    first = import_members(bad)
    second = import_members(good)
    third = import_members(bad)
    return [len(first.errors), second.errors, third.errors]


def test_results_not_shared():
    first = import_members(HEADER + ",H,2024-01-01,basic\n")
    import_members(HEADER + ",I,2024-01-01,basic\n")
    return first.errors


def test_caller_supplied_error_list_is_used():
    collected = ["earlier: skipped"]
    result = import_members(HEADER + "j@example.com,J,2024-05-06,basic\n", collected)
    return [collected, result.errors is collected, len(result.members)]


def test_skipped_rows_are_not_imported():
    text = HEADER + "k@example.com,K,2024-01-01,basic\n,L,2024-01-01,basic\nm@example.com,M,2024-01-01,gold\n"
    return _summary(import_members(text))["members"]
