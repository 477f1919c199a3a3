"""Per-user rate limiting: a sliding window of request times, no I/O.

Why a sliding window rather than a token bucket: the limit users read ("6 photos a
minute") is exactly what it enforces, and the retry hint is exact (when the oldest request
in the window leaves it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

from core.errors import RateLimitedError


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}

    def check(self, key: Hashable) -> None:
        """Count one request for ``key``; raise RateLimitedError when over the limit."""
        retry_after = self._take(key)
        if retry_after is not None:
            raise RateLimitedError(
                f"at most {self.limit} requests per {self.window_s:g} s", retry_after
            )

    def allow(self, key: Hashable) -> bool:
        """Count one request for ``key`` if the limit allows it; False (nothing counted)
        otherwise. For what is simply skipped when too frequent, such as notices."""
        return self._take(key) is None

    def refund(self, key: Hashable) -> None:
        """Take back the latest request of ``key``: it came to nothing the user should pay
        for (the reply could not be delivered)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def _take(self, key: Hashable) -> float | None:
        """Record a hit and return None, or return the seconds until one is allowed."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return self.window_s - (now - hits[0])
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle users so memory stays bounded
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window_s]
        for key in idle:
            del self._hits[key]
