"""Retry helper for flaky outbound calls (payment provider, shipping API).

`retry` calls a function until it succeeds, sleeping between attempts with exponential
backoff. The sleep function is injectable so that callers and tests control time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


class RetryError(Exception):
    """Every attempt failed with a transient error; the last one is in `last_error`."""

    def __init__(self, attempts: int, last_error: BaseException | None) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last_error!r}")
        self.attempts = attempts
        self.last_error = last_error


def backoff_delays(attempts: int, base: float = 0.5, cap: float = 30.0) -> list[float]:
    """Seconds to wait before each retry: base, 2*base, 4*base, ..., never more than cap.

    There is one delay fewer than attempts (no wait before the first attempt).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    return [min(cap, base * 2**n) for n in range(attempts - 1)]


def retry(
    func: Callable[[], T],
    attempts: int = 4,
    base: float = 0.5,
    cap: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call func() until it returns.

    Only transient errors (TRANSIENT_ERRORS) are retried. Any other exception is a real
    failure and propagates immediately, without further attempts. When every attempt fails,
    RetryError is raised, chained to the last transient error.
    """
    delays = backoff_delays(attempts, base, cap)
    last_error: BaseException | None = None
    for attempt in range(attempts):
        try:
            return func()
        except TRANSIENT_ERRORS as exc:
            last_error = exc
        if attempt < attempts - 1:
            sleep(delays[attempt])
    raise RetryError(attempts, last_error) from last_error
