"""Rate-limit counters shared by every worker: one row per (bucket, fixed window), incremented atomically.

The buckets are digests (a client address or a session id is personal data, an API key a secret), and
rows older than the previous window are deleted as the limiter goes, so the table stays small.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


class RateLimitCounterRow(Base):
    """Hits counted for ``bucket`` in window number ``window`` (seconds since the epoch // window length)."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_scope_window", "scope", "window"),)

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # Which limiter the row belongs to (key, session, auth…): each limiter deletes only its own old rows.
    scope: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=0)
