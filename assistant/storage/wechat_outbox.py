"""WeChat replies that could not be delivered, kept until the follower's next message.

A reply misses WeChat's passive window and the customer-service API then fails too (or is not
configured): rather than drop it, it is stored here — encrypted, since a reply may quote personal
data — under the follower's session id (an HMAC of the OpenID, never the OpenID itself), and given
with the answer to their next message, by whichever worker takes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class WeChatUndeliveredRow(Base):
    """One reply (or the unsent rest of one) that did not reach the follower."""

    __tablename__ = "wechat_undelivered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    follower: Mapped[str] = mapped_column(String(64), index=True)
    text_encrypted: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # Set when the text went out with a later reply (claimed by exactly one worker).
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
