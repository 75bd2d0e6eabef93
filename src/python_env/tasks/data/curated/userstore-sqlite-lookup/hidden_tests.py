import sqlite3

from solution import UserStore


def _store():
    store = UserStore()
    store.add("admin", "root@example.com")
    store.add("alice", "alice@example.com")
    store.add("d'artagnan", "musketeer@example.com")
    return store


def test_lookup_plain_user():
    store = _store()
    try:
        user = store.find_by_username("alice")
        return [user.id, user.username, user.email]
    finally:
        store.close()


def test_lookup_missing_user():
    store = _store()
    try:
        return store.find_by_username("mallory") is None
    finally:
        store.close()


def test_lookup_username_with_quote():
    store = _store()
    try:
        user = store.find_by_username("d'artagnan")
        return None if user is None else [user.id, user.email]
    except sqlite3.Error as exc:
        return type(exc).__name__
    finally:
        store.close()


def test_injection_does_not_match_other_users():
    store = _store()
    try:
        user = store.find_by_username("nobody' OR '1'='1")
        return "no match" if user is None else user.username
    except sqlite3.Error as exc:
        return type(exc).__name__
    finally:
        store.close()


def test_injection_comment_trick():
    store = _store()
    try:
        user = store.find_by_username("admin'--")
        return "no match" if user is None else user.username
    except sqlite3.Error as exc:
        return type(exc).__name__
    finally:
        store.close()


def test_count_and_delete():
    store = _store()
    try:
        before = store.count()
        deleted = store.delete(store.find_by_username("admin").id)
        return [before, deleted, store.count(), store.delete(999)]
    finally:
        store.close()
