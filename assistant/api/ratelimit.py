"""Rate limiters behind one interface: ``hit(key)`` counts a request, ``peek(key)`` asks without counting.

Both answer None when the request is allowed, else the seconds until one more would be.

- :class:`DatabaseLimiter` (``RATE_LIMIT_STORE=database``, the default): counters in a table on
  ``DATABASE_URL``, so every worker process (and every host on one PostgreSQL) shares one limit. A
  sliding-window counter: this window's hits plus the previous window's, weighted by how much of it
  still overlaps the last ``window_s`` seconds; each hit is one atomic upsert, so concurrent workers
  can never let more through than the limit.
- :class:`SlidingWindowLimiter` (``RATE_LIMIT_STORE=memory``): an exact sliding log in this process —
  for tests and a single process. Behind N workers the effective limit is N times the setting.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from assistant.storage.ratelimit import RateLimitCounterRow


class RateLimiter(Protocol):
    """What the HTTP layer needs from a limiter."""

    limit: int

    def hit(self, key: str) -> float | None:
        """Count one request for ``key``; None when allowed, else the seconds until one is allowed again."""

    def peek(self, key: str) -> float | None:
        """Would ``hit(key)`` be refused now? The wait if so, else None; counts nothing."""


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window_s`` seconds for each key (exact sliding window, in memory)."""

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
        return self._check(key, count=True)

    def peek(self, key: str) -> float | None:
        """The wait if a hit for ``key`` would be refused now, else None (nothing counted)."""
        return self._check(key, count=False)

    def _check(self, key: str, count: bool) -> float | None:
        if self.limit <= 0:  # 0 or less switches the limit off
            return None
        now = self._clock()
        with self._lock:
            window = self._hits.get(key)
            if window is None:
                if not count:
                    return None
                if len(self._hits) >= self._max_keys:
                    self._evict(now)
                window = self._hits[key] = deque()
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.limit:
                return max(window[0] + self.window_s - now, 0.0)
            if count:
                window.append(now)
            return None

    def _evict(self, now: float) -> None:
        # Drop keys whose windows are empty or stale; bounded memory under many anonymous clients.
        for key in [k for k, w in self._hits.items() if not w or w[-1] <= now - self.window_s]:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:
            oldest = min(self._hits, key=lambda k: self._hits[k][-1])
            del self._hits[oldest]


class DatabaseLimiter:
    """About ``limit`` hits per sliding ``window_s`` seconds for each key, counted in the database.

    ``scope`` names the limiter (``key``, ``session``, ``auth``…): limiters with different limits share
    the table without sharing counters. ``clock`` must be wall time (``time.time``): the windows are
    compared across processes, which share no monotonic clock.
    """

    def __init__(self, engine: Engine, limit: int, window_s: float = 60.0, *, scope: str = "default",
                 clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window_s = window_s
        self.scope = scope[:16]
        self._engine = engine
        self._clock = clock
        self._cleaned_window: int | None = None
        self._table = RateLimitCounterRow.__table__

    def hit(self, key: str) -> float | None:
        """Count one request for ``key``; None when allowed, else the seconds until one is allowed again."""
        return self._check(key, count=True)

    def peek(self, key: str) -> float | None:
        """The wait if a hit for ``key`` would be refused now, else None (nothing counted)."""
        return self._check(key, count=False)

    def _bucket(self, key: str) -> str:
        # The table never holds an address, a session id or a key, only a digest of scope and key.
        return hashlib.sha256(f"{self.scope}\x00{key}".encode()).hexdigest()[:40]

    def _check(self, key: str, count: bool) -> float | None:
        if self.limit <= 0:
            return None
        now = self._clock() / self.window_s
        window = math.floor(now)
        frac = now - window  # how far into the current window we are, 0 ≤ frac < 1
        bucket = self._bucket(key)
        self._cleanup(window)
        with self._engine.connect() as conn:
            # The previous window is closed: read it on its own, so the write below is the transaction's
            # first statement (SQLite then waits for the write lock instead of failing on a stale snapshot).
            previous = self._count(conn, bucket, window - 1)
        # Hits this window may still hold: the limit less the part of the previous window still inside
        # the last ``window_s`` seconds.
        room = self.limit - previous * (1.0 - frac)
        with self._engine.begin() as conn:
            if count and room >= 1 and self._increment(conn, bucket, window, room):
                return None
            current = self._count(conn, bucket, window)
        if not count and current + 1 <= room:
            return None
        return _wait(self.limit, previous, current, frac) * self.window_s

    def _count(self, conn: Connection, bucket: str, window: int) -> int:
        t = self._table
        value = conn.execute(select(t.c.count).where(t.c.bucket == bucket, t.c.window == window)).scalar()
        return int(value or 0)

    def _increment(self, conn: Connection, bucket: str, window: int, room: float) -> bool:
        """Add one hit if it fits in ``room``, atomically; True if it was counted."""
        t = self._table
        dialect = conn.dialect.name
        if dialect in {"sqlite", "postgresql"}:
            if dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert
            else:
                from sqlalchemy.dialects.postgresql import insert
            # One statement: a new row starts at 1; an existing row is incremented only while it fits.
            stmt = insert(t).values(bucket=bucket, window=window, scope=self.scope, count=1)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.bucket, t.c.window], set_={"count": t.c.count + 1},
                where=t.c.count + 1 <= room,
            ).returning(t.c.count)
            return conn.execute(stmt).first() is not None
        # Other databases: insert the window's first hit, or else a conditional increment (both atomic).
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(bucket=bucket, window=window, scope=self.scope, count=1))
            return True
        except IntegrityError:
            pass
        result = conn.execute(update(t).where(t.c.bucket == bucket, t.c.window == window, t.c.count + 1 <= room)
                              .values(count=t.c.count + 1))
        return result.rowcount == 1

    def _cleanup(self, window: int) -> None:
        # Once per window per process: rows before the previous window no longer count for anything.
        if self._cleaned_window == window:
            return
        self._cleaned_window = window
        t = self._table
        with self._engine.begin() as conn:
            conn.execute(delete(t).where(t.c.scope == self.scope, t.c.window < window - 1))


def _wait(limit: int, previous: int, current: int, frac: float) -> float:
    """Windows (fractions of ``window_s``) until ``previous·(1−f) + current + 1 ≤ limit`` holds again."""
    room = limit - 1 - current
    if room >= 0 and previous > 0:
        # Later in this window, once enough of the previous window has slid out of the last minute.
        needed = 1.0 - room / previous
        if needed < 1.0:
            return max(needed - frac, 0.0)
    # In the next window, where this window's hits are the weighted previous ones.
    needed_next = max(0.0, 1.0 - (limit - 1) / current) if current > 0 else 0.0
    return (1.0 - frac) + needed_next


def build_limiter(store: str, limit: int, scope: str, engine: Callable[[], Engine],
                  window_s: float = 60.0) -> RateLimiter:
    """The limiter ``RATE_LIMIT_STORE`` asks for (``engine`` is called only for the database store)."""
    if store == "database":
        return DatabaseLimiter(engine(), limit, window_s, scope=scope)
    return SlidingWindowLimiter(limit, window_s)


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
