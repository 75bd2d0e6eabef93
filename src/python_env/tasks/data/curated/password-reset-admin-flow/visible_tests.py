from solution import PasswordResetFlow, ResetError

ACCOUNTS = {
    "ana@example.com": {"admin": False, "active": True},
    "support@example.com": {"admin": True, "active": True},
}


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


def test_reset_after_ten_minutes():
    clock, stored = Clock(), {}
    flow = PasswordResetFlow(ACCOUNTS, stored.__setitem__, clock=clock)
    token = flow.start("ana@example.com")
    clock.now += 10 * 60
    assert flow.complete(token, "correct horse battery") == "ana@example.com"
    assert stored == {"ana@example.com": "correct horse battery"}


def test_unknown_email_gets_no_token():
    flow = PasswordResetFlow(ACCOUNTS, lambda email, pw: None, clock=Clock())
    assert flow.start("nobody@example.com") is None


def test_token_is_single_use():
    flow = PasswordResetFlow(ACCOUNTS, lambda email, pw: None, clock=Clock())
    token = flow.start("ana@example.com")
    flow.complete(token, "correct horse battery")
    try:
        flow.complete(token, "another long password")
    except ResetError:
        return
    raise AssertionError("token was accepted twice")
