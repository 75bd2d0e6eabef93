from solution import SessionCodec

KEY = "k" * 40


def test_round_trip():
    codec = SessionCodec(KEY)
    session = {"user": "ops-admin", "roles": ["viewer", "admin"], "csrf": "a1b2"}
    assert codec.loads(codec.dumps(session)) == session


def test_invalid_cookies_give_empty_session():
    codec = SessionCodec(KEY)
    assert codec.loads("") == {}
    assert codec.loads(None) == {}
    assert codec.loads("not-a-cookie") == {}


def test_cookie_from_other_key_rejected():
    cookie = SessionCodec("x" * 40).dumps({"user": "mallory"})
    assert SessionCodec(KEY).loads(cookie) == {}
