"""Documents handed in by applicants (ID cards, licences, income proofs): one row per accepted file.

The file itself and everything read from it are personal data: the file is stored as a Fernet token
(``Services.cipher``) in ``file_encrypted``, the OCR result as an encrypted JSON text in ``ocr_encrypted``.
Both are text tokens named ``*_encrypted``, so ``loan-assistant keys rotate`` re-encrypts them with the rest.
In clear are only what the intake decided on: kind, type, size, sha256 of the plaintext, dimensions.
``application_id`` is a plain indexed string (the application record lives in another table; no foreign
key, so documents can arrive before the record is saved).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from assistant.errors import NotFound
from assistant.storage.crypto import Cipher
from assistant.storage.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class IntakeFileRow(Base):
    """One uploaded document."""

    __tablename__ = "intake_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    file_encrypted: Mapped[str] = mapped_column(Text)
    ocr_status: Mapped[str] = mapped_column(String(16), default="not_read")  # read | not_read
    ocr_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    api_key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IntakeFileRecord(BaseModel):
    """What the store gives back about one file (the OCR result decrypted, the file not)."""

    model_config = ConfigDict(frozen=True)

    id: str
    application_id: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    pages: int | None
    ocr_status: str
    ocr: dict[str, Any] | None
    session_id: str | None
    api_key_id: str | None
    created_at: dt.datetime


class IntakeFileStore:
    """Encrypted rows of ``intake_files``."""

    def __init__(self, sessions: sessionmaker, cipher: Cipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    def _record(self, row: IntakeFileRow) -> IntakeFileRecord:
        ocr = None
        if row.ocr_encrypted is not None:
            plain = self._cipher.decrypt(row.ocr_encrypted)
            ocr = json.loads(plain) if plain is not None else None
        return IntakeFileRecord(id=row.id, application_id=row.application_id, kind=row.kind,
                                content_type=row.content_type, size_bytes=row.size_bytes, sha256=row.sha256,
                                width=row.width, height=row.height, pages=row.pages, ocr_status=row.ocr_status,
                                ocr=ocr, session_id=row.session_id, api_key_id=row.api_key_id,
                                created_at=row.created_at)

    def add(self, *, application_id: str, kind: str, content_type: str, data: bytes, sha256: str,
            width: int | None = None, height: int | None = None, pages: int | None = None,
            ocr: dict[str, Any] | None = None, session_id: str | None = None,
            api_key_id: str | None = None) -> IntakeFileRecord:
        """Store one accepted file (encrypted) with its OCR result (encrypted); the new record."""
        row = IntakeFileRow(id=uuid.uuid4().hex, application_id=application_id, kind=kind, content_type=content_type,
                            size_bytes=len(data), sha256=sha256, width=width, height=height, pages=pages,
                            file_encrypted=base64.urlsafe_b64encode(self._cipher.encrypt_bytes(data)).decode("ascii"),
                            ocr_status="read" if ocr is not None else "not_read",
                            ocr_encrypted=self._cipher.encrypt(json.dumps(ocr, ensure_ascii=False)) if ocr is not None
                            else None, session_id=session_id, api_key_id=api_key_id, created_at=_now())
        with self._sessions() as db, db.begin():
            db.add(row)
        return self._record(row)

    def list(self, application_id: str) -> list[IntakeFileRecord]:
        """The application's files, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(select(IntakeFileRow).where(IntakeFileRow.application_id == application_id)
                              .order_by(IntakeFileRow.created_at, IntakeFileRow.id)).all()
            return [self._record(row) for row in rows]

    def get(self, file_id: str) -> IntakeFileRecord:
        """One file's record; NotFound when there is none."""
        with self._sessions() as db:
            row = db.get(IntakeFileRow, file_id)
            if row is None:
                raise NotFound("文件不存在", "no such document")
            return self._record(row)

    def content(self, file_id: str) -> bytes:
        """The file as uploaded (decrypted)."""
        with self._sessions() as db:
            row = db.get(IntakeFileRow, file_id)
            if row is None:
                raise NotFound("文件不存在", "no such document")
            # The text token is the standard Fernet one; decrypt_bytes takes its raw form.
            return self._cipher.decrypt_bytes(base64.urlsafe_b64decode(row.file_encrypted))
