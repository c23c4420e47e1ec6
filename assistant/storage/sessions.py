"""Chat sessions and messages. Message text is stored masked; the original only encrypted, as are the
structured parts of a reply (offer cards, the quote, citations, document links)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class ChatSessionRow(Base):
    """One conversation; ``state`` is the engine's SessionState as encrypted JSON.

    ``version`` counts the saved turns' state writes: a save is a compare-and-swap on it, so two workers
    that ran a turn on the same state cannot both write (see :class:`assistant.agent.store.SessionStore`).
    """

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="app")
    state: Mapped[str] = mapped_column(Text)
    handoff: Mapped[int] = mapped_column(Integer, default=0)
    # server_default: databases created before the column existed get it with 0 (storage.db.migrate).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class ChatMessageRow(Base):
    """One message; ``text_masked`` is safe to show to staff, ``text_encrypted`` holds the original.

    ``parts_encrypted``: an assistant reply's structured parts as encrypted JSON (what the chat page draws
    again on reload). Encrypted because offer reasons and quotes are worded from the customer's income,
    budget and debts. Nullable: messages saved before the column existed (added by ``add_missing_columns``)
    and messages with no parts have none.
    """

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text_masked: Mapped[str] = mapped_column(Text)
    text_encrypted: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    parts_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
