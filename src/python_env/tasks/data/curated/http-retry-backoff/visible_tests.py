from solution import RetryError, backoff_delays, retry


def test_delays_start_at_base():
    assert backoff_delays(4, base=0.5) == [0.5, 1.0, 2.0]


def test_succeeds_after_transient_failures():
    outcomes = [ConnectionError("reset"), TimeoutError("slow"), "ok"]
    slept = []

    def call():
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert retry(call, attempts=4, base=1.0, sleep=slept.append) == "ok"
    assert slept == [1.0, 2.0], slept


def test_gives_up_with_retry_error():
    def call():
        raise ConnectionError("down")

    try:
        retry(call, attempts=3, sleep=lambda _s: None)
    except RetryError as exc:
        assert exc.attempts == 3
        assert isinstance(exc.last_error, ConnectionError)
    else:
        raise AssertionError("expected RetryError")
