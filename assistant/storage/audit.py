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


class AuditAnchorRow(Base):
    """The signed head of the audit chain: one row (``name = "head"``), rewritten with every append.

    ``signature`` is an HMAC (the audit key, which DATA_DIR does not hold in production) over the last
    entry's ``seq`` and ``hash`` and ``legacy_until`` (entries up to that seq were written before the
    chain had a key and carry plain SHA-256 hashes). Without the key nobody can sign a shorter head, so
    cutting entries off the end shows, even when the head log beside the database is cut too.
    """

    __tablename__ = "audit_anchor"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    legacy_until: Mapped[int] = mapped_column(Integer, default=0)
    signature: Mapped[str] = mapped_column(String(64))
