from solution import DocumentStore


def make_store():
    store = DocumentStore()
    store.add("reset", "How to reset your password")
    store.add("billing", "Update billing details and your invoice address")
    store.add("2fa", "Enable two-factor authentication for your account")
    return store


def test_all_words_must_match():
    store = make_store()
    assert store.search("your password") == ["reset"]
    assert store.search("your") == ["reset", "billing", "2fa"]


def test_case_and_punctuation_ignored():
    assert make_store().search("Two-Factor!") == ["2fa"]


def test_empty_query_matches_nothing():
    assert make_store().search("  ?! ") == []
