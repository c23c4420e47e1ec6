"""A small in-process sliding-window rate limiter (per API key, or per client address for anonymous use).

One process keeps its own windows: behind several workers the effective limit is the per-worker limit
times the number of workers — fine for a dealer API at this scale, and it needs no extra server.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window_s`` seconds for each key (exact sliding window)."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request for ``key``; None when allowed, else the seconds until one is allowed again."""
        if self.limit <= 0:  # 0 or less switches the limit off
            return None
        now = self._clock()
        with self._lock:
            window = self._hits.get(key)
            if window is None:
                if len(self._hits) >= self._max_keys:
                    self._evict(now)
                window = self._hits[key] = deque()
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.limit:
                return max(window[0] + self.window_s - now, 0.0)
            window.append(now)
            return None

    def _evict(self, now: float) -> None:
        # Drop keys whose windows are empty or stale; bounded memory under many anonymous clients.
        for key in [k for k, w in self._hits.items() if not w or w[-1] <= now - self.window_s]:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:
            oldest = min(self._hits, key=lambda k: self._hits[k][-1])
            del self._hits[oldest]


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
