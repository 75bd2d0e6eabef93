"""Per-client token-bucket rate limiter of the public API gateway.

Each client has a bucket holding at most `capacity` tokens. Tokens are added continuously at
`rate` tokens per second; a request costs tokens and is allowed only if enough are available.
The clock is injected (a function returning seconds as a float) so the limiter is testable.
"""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    def __init__(self, rate: float, capacity: int, clock: Clock) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        tokens = self._tokens + elapsed * self.rate
        self._tokens = tokens
        self._last_refill = now

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    @property
    def last_seen(self) -> float:
        return self._updated

    def try_acquire(self, cost: int = 1) -> bool:
        """Take `cost` tokens if available; never blocks."""
        if cost > self.capacity:
            raise ValueError("cost exceeds bucket capacity")
        self._refill()
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def retry_after(self, cost: int = 1) -> float:
        """Seconds until `cost` tokens will be available (0.0 if they are available now)."""
        self._refill()
        missing = cost - self._tokens
        if missing <= 0:
            return 0.0
        return missing // self.rate


class RateLimiter:
    """One bucket per client key, created on first use."""

    def __init__(self, rate: float, capacity: int, clock: Clock) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.capacity, self._clock)
            self._buckets[key] = bucket
        return bucket

    def allow(self, key: str, cost: int = 1) -> bool:
        return self._bucket(key).try_acquire(cost)

    def retry_after(self, key: str, cost: int = 1) -> float:
        return self._bucket(key).retry_after(cost)

    def prune(self, idle_seconds: float) -> int:
        """Forget buckets not refilled for `idle_seconds`; returns how many were removed."""
        cutoff = self._clock() - idle_seconds
        stale = [key for key, bucket in self._buckets.items() if bucket.last_seen < cutoff]
        for key in stale:
            del self._buckets[key]
        return len(stale)
