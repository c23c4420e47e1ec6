"""WeChat messages already taken, shared by every worker: WeChat re-sends a message it got no answer to
within 5 seconds (same MsgId), and the copy may reach another worker or host than the first.

The primary key is the dedupe: the first worker to insert a message's key processes it; the others read
what it answered. Keys are HMAC digests (an event's key holds the follower's OpenID), the passive reply is
stored encrypted (it may quote personal data), and rows go once WeChat has stopped retrying.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class WeChatSeenRow(Base):
    """One inbound message (or event), and what was answered to it."""

    __tablename__ = "wechat_seen"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    mode: Mapped[str] = mapped_column(String(8), default="pending")  # pending | passive | async | silent
    reply_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
