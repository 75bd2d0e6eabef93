from solution import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


def test_burst_up_to_capacity():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, capacity=3, clock=clock)
    assert [limiter.allow("alice") for _ in range(4)] == [True, True, True, False]


def test_idle_client_gets_at_most_capacity():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, capacity=2, clock=clock)
    clock.now = 100.0
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]


def test_retry_after_is_not_rounded_down():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, capacity=1, clock=clock)
    assert bucket.try_acquire()
    assert bucket.retry_after() == 0.5, bucket.retry_after()
