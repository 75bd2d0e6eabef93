from solution import count_activity, top_active_users

EVENTS = [
    {"user": "ana", "action": "login"},
    {"user": "bo", "action": "post"},
    {"user": "ana", "action": "comment"},
    {"user": "cy", "action": "view"},
    {"user": "bo", "action": "Post"},
    {"user": "ana", "action": "logout"},
    {"user": "ana", "action": "upload"},
]


def test_counts_only_active_actions():
    assert count_activity(EVENTS) == [("ana", 3), ("bo", 2)]


def test_top_users():
    assert top_active_users(EVENTS, 1) == [("ana", 3)]
    assert top_active_users(EVENTS, 5) == [("ana", 3), ("bo", 2)]
