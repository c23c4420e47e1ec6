"""Issued documents: one row per file under ``DATA_DIR/documents``.

No column holds personal data in clear: the borrower's ID number is kept masked (for staff) and as a
keyed HMAC (to find a person's documents on request), never as the number itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentRow(Base):
    """A stored document file and what it was made from."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    title: Mapped[str] = mapped_column(String(80))
    template_version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(64))
    contract_number: Mapped[str] = mapped_column(String(40), index=True)
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    api_key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    borrower_id_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    borrower_id_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
