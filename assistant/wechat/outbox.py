"""Replies WeChat could not be given, held for the follower's next message (see storage/wechat_outbox.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from assistant.logs import get_logger
from assistant.storage.wechat_outbox import WeChatUndeliveredRow

log = get_logger(__name__)

# A stored reply that this key can no longer read (e.g. after a key rotation retired its key): the
# customer is still told that an answer went missing.
UNREADABLE = "（该条回复已无法读取，请您再问一次。）"


class UndeliveredReplies:
    """Record undelivered replies; hand each back exactly once, oldest first, to whichever worker asks."""

    def __init__(self, sessions: sessionmaker, cipher: Any) -> None:
        self._sessions = sessions
        self._cipher = cipher

    def record(self, follower: str, text: str, reason: str) -> None:
        """Keep ``text`` for ``follower`` (their session id) until their next message."""
        if not text.strip():
            return
        with self._sessions() as db:
            db.add(WeChatUndeliveredRow(follower=follower, text_encrypted=self._cipher.encrypt(text),
                                        reason=reason[:120]))
            db.commit()
        log.warning("wechat_reply_kept_for_next_message", reason=reason[:120], chars=len(text))

    def claim(self, follower: str) -> list[str]:
        """The follower's undelivered texts, oldest first, marked delivered (no other worker gets them)."""
        claimed: list[str] = []
        with self._sessions() as db:
            rows = db.execute(select(WeChatUndeliveredRow.id, WeChatUndeliveredRow.text_encrypted)
                              .where(WeChatUndeliveredRow.follower == follower,
                                     WeChatUndeliveredRow.delivered_at.is_(None))
                              .order_by(WeChatUndeliveredRow.id)).all()
            for row_id, token in rows:
                # A conditional update per row: if two workers race, the row goes to the one that set it.
                result = db.execute(update(WeChatUndeliveredRow)
                                    .where(WeChatUndeliveredRow.id == row_id,
                                           WeChatUndeliveredRow.delivered_at.is_(None))
                                    .values(delivered_at=datetime.now(UTC)))
                if result.rowcount == 1:
                    claimed.append(self._cipher.decrypt(token) or UNREADABLE)
            db.commit()
        return claimed

    def pending(self, follower: str | None = None) -> int:
        """How many undelivered replies wait (for one follower, or all): for operations and tests."""
        query = select(func.count()).select_from(WeChatUndeliveredRow).where(
            WeChatUndeliveredRow.delivered_at.is_(None))
        if follower is not None:
            query = query.where(WeChatUndeliveredRow.follower == follower)
        with self._sessions() as db:
            return int(db.execute(query).scalar() or 0)
