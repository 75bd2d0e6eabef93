from solution import User, UserStore


def test_add_and_find():
    store = UserStore()
    alice = store.add("alice", "alice@example.com")
    assert store.find_by_username("alice") == alice
    assert store.find_by_username("nobody") is None
    store.close()


def test_username_with_apostrophe():
    store = UserStore()
    user = store.add("o'connor", "oc@example.com")
    assert store.find_by_username("o'connor") == user
    store.close()


def test_change_email_and_delete():
    store = UserStore()
    bob = store.add("bob", "bob@example.com")
    assert store.change_email(bob.id, "robert@example.com")
    assert store.get(bob.id) == User(bob.id, "bob", "robert@example.com")
    assert store.delete(bob.id)
    assert store.count() == 0
    store.close()
