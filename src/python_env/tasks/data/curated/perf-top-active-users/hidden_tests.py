from solution import count_activity, top_active_users


def ev(user, action="post"):
    return {"user": user, "action": action}


def test_ties_keep_first_appearance_order():
    events = [ev("d"), ev("b"), ev("a"), ev("c"), ev("a"), ev("b"), ev("c"), ev("e")]
    return [top_active_users(events, 3), top_active_users(events, 10)]


def test_case_insensitive_actions():
    events = [ev("x", "LOGIN"), ev("x", "Upload"), ev("y", "uPlOaD"), ev("y", "view"), ev("z", "Log in")]
    return count_activity(events)


def test_zero_and_negative_k():
    events = [ev("a"), ev("b")]
    return [top_active_users(events, 0), top_active_users(events, -1), top_active_users([], 3)]


def test_no_active_events():
    events = [ev("a", "view"), ev("b", "logout")]
    return [count_activity(events), top_active_users(events, 2), count_activity([])]


def test_first_appearance_counts_only_active_events():
    events = [ev("late", "view"), ev("early"), ev("late"), ev("late"), ev("early")]
    return [count_activity(events), top_active_users(events, 2)]


def test_result_types_and_ranking():
    events = [ev(f"u{i % 7}") for i in range(40)] + [ev("u3", "comment")] * 3
    return [top_active_users(events, 4), type(top_active_users(events, 1)[0]).__name__]
