"""Request size limits and per-caller rate limits (token buckets), enforced before any work."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`rate` requests per second on average per caller, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, who: str, cost: float = 1.0) -> float:
        """0 if allowed; else the seconds to wait before asking again."""
        now = time.monotonic()
        with self._lock:
            b = self._buckets.get(who)
            if b is None:
                if len(self._buckets) > 100_000:  # forget idle callers rather than grow without bound
                    self._buckets.clear()
                b = self._buckets[who] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
            if b.tokens >= cost:
                b.tokens -= cost
                return 0.0
            return (cost - b.tokens) / self.rate
