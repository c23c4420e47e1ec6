"""The audit trail table: one row per recorded event, each carrying the hash of the one before."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


class AuditEntryRow(Base):
    """One hash-chained audit entry (personal data masked, session id hashed before it gets here).

    ``seq`` is assigned by the writer (1, 2, 3 …) rather than by the database so that a gap left by a
    deleted row is visible; ``prev_hash`` is unique so two writers can never fork the chain.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(64), index=True)
    session_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
