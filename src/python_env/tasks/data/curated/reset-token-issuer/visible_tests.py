from solution import TOKEN_ALPHABET, TOKEN_LENGTH, ResetTokenIssuer


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_token_shape():
    token = ResetTokenIssuer().issue(7)
    assert len(token) == TOKEN_LENGTH
    assert set(token) <= set(TOKEN_ALPHABET)


def test_redeem_is_single_use():
    issuer = ResetTokenIssuer(clock=FakeClock())
    token = issuer.issue(42)
    assert issuer.redeem(token) == 42
    assert issuer.redeem(token) is None


def test_expired_token_rejected():
    clock = FakeClock()
    issuer = ResetTokenIssuer(clock=clock)
    token = issuer.issue(42)
    clock.now += 16 * 60
    assert issuer.redeem(token) is None
