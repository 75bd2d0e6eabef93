from solution import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


def test_steady_refill():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, capacity=2, clock=clock)
    results = []
    for t in [0, 0, 0, 0.5, 1.0, 1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0]:
        clock.now = t
        results.append(bucket.try_acquire())
    return results


def test_tokens_capped_after_idle():
    clock = FakeClock(10.0)
    bucket = TokenBucket(rate=0.5, capacity=5, clock=clock)
    bucket.try_acquire(4)
    clock.now = 1000.0
    before = bucket.tokens
    bucket.try_acquire(2)
    return [before, bucket.tokens]


def test_retry_after_values():
    clock = FakeClock()
    bucket = TokenBucket(rate=4.0, capacity=4, clock=clock)
    bucket.try_acquire(4)
    first = bucket.retry_after(1)
    clock.now = 0.125
    second = bucket.retry_after(1)
    third = bucket.retry_after(3)
    return [first, second, third]


def test_retry_after_zero_when_available():
    clock = FakeClock()
    limiter = RateLimiter(rate=0.5, capacity=3, clock=clock)
    return [limiter.retry_after("k"), limiter.retry_after("k", cost=3)]


def test_clients_are_isolated():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, capacity=2, clock=clock)
    return [limiter.allow(key) for key in ["a", "a", "a", "b", "b", "c", "b"]]


def test_prune_keeps_active_clients():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, capacity=5, clock=clock)
    limiter.allow("active")
    limiter.allow("idle")
    clock.now = 50.0
    limiter.allow("active")
    clock.now = 100.0
    removed = limiter.prune(idle_seconds=60.0)
    clock.now = 200.0
    return [removed, limiter.prune(idle_seconds=60.0)]


def test_prune_nothing_idle():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, capacity=5, clock=clock)
    for key in ["x", "y", "z"]:
        limiter.allow(key)
    clock.now = 10.0
    first = limiter.prune(idle_seconds=60.0)
    clock.now = 100.0
    return [first, limiter.prune(idle_seconds=60.0)]


def test_rejected_request_costs_nothing():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, capacity=3, clock=clock)
    return [bucket.try_acquire(2), bucket.try_acquire(2), bucket.tokens]


def test_invalid_arguments():
    clock = FakeClock()
    outcomes = []
    for make in (lambda: TokenBucket(0, 1, clock), lambda: TokenBucket(1.0, 0, clock),
                 lambda: TokenBucket(1.0, 2, clock).try_acquire(3)):
        try:
            make()
            outcomes.append("ok")
        except ValueError:
            outcomes.append("ValueError")
    return outcomes
