import random

from solution import TOKEN_ALPHABET, TOKEN_LENGTH, ResetTokenIssuer


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_tokens_not_reproducible_from_global_prng_seed():
    random.seed(20240501)
    first = ResetTokenIssuer().issue(1)
    random.seed(20240501)
    second = ResetTokenIssuer().issue(1)
    return first == second


def test_token_not_predictable_from_prng_state():
    random.seed(99)
    state = random.getstate()
    token = ResetTokenIssuer().issue(5)
    random.setstate(state)
    predicted = "".join(random.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    return token == predicted


def test_token_shape_and_uniqueness():
    issuer = ResetTokenIssuer()
    tokens = [issuer.issue(i) for i in range(50)]
    return [len(set(tokens)), all(len(t) == TOKEN_LENGTH for t in tokens),
            all(set(t) <= set(TOKEN_ALPHABET) for t in tokens)]


def test_expiry_boundary():
    clock = FakeClock()
    issuer = ResetTokenIssuer(clock=clock)
    on_time, late = issuer.issue(1), issuer.issue(2)
    clock.now += 15 * 60
    first = issuer.redeem(on_time)
    clock.now += 1
    return [first, issuer.redeem(late)]


def test_revoke_and_purge():
    clock = FakeClock()
    issuer = ResetTokenIssuer(clock=clock)
    issuer.issue(1)
    issuer.issue(1)
    keep = issuer.issue(2)
    revoked = issuer.revoke_user(1)
    clock.now += 10 * 60
    issuer.issue(3)
    clock.now += 6 * 60
    purged = issuer.purge_expired()
    return [revoked, purged, issuer.pending_count(), issuer.redeem(keep)]
