from solution import RetryError, backoff_delays, retry


class Flaky:
    """Raises the queued exceptions in order, then returns the final value."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        item = self.outcomes.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def test_delays_doubling():
    return backoff_delays(5, base=0.25, cap=60.0)


def test_delays_capped():
    return backoff_delays(8, base=1.0, cap=10.0)


def test_single_attempt_has_no_delay():
    return [backoff_delays(1), backoff_delays(2, base=3.0)]


def test_first_try_success_does_not_sleep():
    slept = []
    flaky = Flaky(42)
    return [retry(flaky, sleep=slept.append), flaky.calls, slept]


def test_sleeps_between_transient_failures():
    slept = []
    flaky = Flaky(TimeoutError(), TimeoutError(), ConnectionError(), "done")
    return [retry(flaky, attempts=5, base=2.0, cap=5.0, sleep=slept.append), flaky.calls, slept]


def test_real_error_is_not_retried():
    slept = []
    flaky = Flaky(ConnectionError(), ValueError("bad amount"), "never")
    try:
        retry(flaky, attempts=4, sleep=slept.append)
    except RetryError:
        outcome = "RetryError"
    except ValueError as exc:
        outcome = f"ValueError: {exc}"
    return [outcome, flaky.calls, len(slept)]


def test_exhausted_attempts():
    slept = []
    flaky = Flaky(*[ConnectionError(f"try {i}") for i in range(3)])
    try:
        retry(flaky, attempts=3, base=0.5, sleep=slept.append)
    except RetryError as exc:
        return [exc.attempts, str(exc.last_error), type(exc.__cause__).__name__, flaky.calls, len(slept)]
    return "no error"


def test_keyboard_interrupt_propagates():
    flaky = Flaky(KeyboardInterrupt(), "late")
    try:
        retry(flaky, attempts=2, sleep=lambda _s: None)
    except KeyboardInterrupt:
        return ["KeyboardInterrupt", flaky.calls]
    except RetryError:
        return ["RetryError", flaky.calls]
    return ["returned", flaky.calls]


def test_invalid_attempts():
    try:
        backoff_delays(0)
    except ValueError:
        return "ValueError"
    return "no error"
