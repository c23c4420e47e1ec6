"""The document store: files under ``DATA_DIR/documents`` plus one ``documents`` row each.

Files are encrypted at rest with the personal-data cipher (a contract holds the borrower's full ID number,
name, phone and address): the bytes on disk are a Fernet token, decrypted on read. The recorded ``sha256``
and ``size_bytes`` are the plaintext's (what the customer receives, the ETag). A file written before
encryption (plain bytes) still reads, and ``loan-assistant keys rotate`` encrypts it (:meth:`rotate`).

Writes are all-or-nothing: every file of a request is written to a temporary name, fsynced and renamed
into place, then the rows are committed in one transaction; if anything fails the files are removed.
A crash between rename and commit leaves only unindexed files, which :meth:`DocumentStore.sweep`
removes. Reads re-hash the file and refuse one that no longer matches its recorded sha256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.documents.application import mask_id_number
from assistant.documents.kinds import CONTENT_TYPES, DocumentFormat
from assistant.documents.render import Rendered
from assistant.errors import ConsistencyError, NotFound
from assistant.logs import get_logger
from assistant.storage.crypto import Cipher, InvalidToken, looks_encrypted
from assistant.storage.documents import DocumentRow

log = get_logger(__name__)

_ID = re.compile(r"^[0-9a-f]{32}$")
_TMP_PREFIX = ".tmp-"
ORPHAN_AGE_S = 3600  # files younger than this may belong to a write still in progress


class DocumentRecord(BaseModel):
    """What the store knows about one document (no personal data in clear)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    format: str
    lang: str
    title: str
    template_version: str
    sha256: str
    size_bytes: int
    filename: str
    contract_number: str
    preview: bool
    session_id: str | None
    api_key_id: str | None
    borrower_id_masked: str | None
    created_at: dt.datetime

    @property
    def url(self) -> str:
        """Where ``GET`` returns the file."""
        return f"/v1/documents/{self.id}"

    @property
    def content_type(self) -> str:
        """The HTTP content type of the file."""
        return CONTENT_TYPES[DocumentFormat(self.format)]

    @classmethod
    def from_row(cls, row: DocumentRow) -> DocumentRecord:
        """From a table row."""
        return cls.model_validate(row, from_attributes=True)


def api_key_id(key: str) -> str:
    """A short, non-reversible id for an API key (the key itself is never stored)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class DocumentStore:
    """Encrypted files plus rows; all-or-nothing per request."""

    def __init__(self, root: Path, sessions: sessionmaker, cipher: Cipher) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._sessions = sessions
        self._cipher = cipher

    def borrower_hmac(self, id_number: str, key: bytes | None = None) -> str:
        """Keyed hash of an ID number: lets us find a person's documents without storing the number."""
        return hmac.new(key or self._cipher.keys[0], b"documents.borrower:" + id_number.encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def save_all(
        self,
        items: Sequence[Rendered],
        *,
        contract_number: str,
        preview: bool,
        session_id: str | None = None,
        api_key_id: str | None = None,
        borrower_id_number: str | None = None,
    ) -> list[DocumentRecord]:
        """Store every rendered document of one request, or none of them."""
        masked = mask_id_number(borrower_id_number) if borrower_id_number else None
        keyed = self.borrower_hmac(borrower_id_number) if borrower_id_number else None
        now = dt.datetime.now(dt.UTC)
        rows: list[DocumentRow] = []
        written: list[Path] = []
        try:
            for item in items:
                doc_id = uuid.uuid4().hex
                filename = f"{doc_id}.{item.format.value}"
                self._write_atomic(self.root / filename, self._cipher.encrypt_bytes(item.content), written)
                rows.append(DocumentRow(
                    id=doc_id, kind=item.kind.value, format=item.format.value, lang=item.lang, title=item.title,
                    template_version=item.template_version, sha256=hashlib.sha256(item.content).hexdigest(),
                    size_bytes=len(item.content), filename=filename, contract_number=contract_number,
                    preview=preview, session_id=session_id, api_key_id=api_key_id, borrower_id_masked=masked,
                    borrower_id_hmac=keyed, created_at=now,
                ))
            with self._sessions.begin() as db:
                db.add_all(rows)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        records = [DocumentRecord.from_row(row) for row in rows]
        for record in records:
            log.info("document_stored", document_id=record.id, kind=record.kind, format=record.format,
                     template_version=record.template_version, sha256=record.sha256[:12], preview=record.preview)
        return records

    def _write_atomic(self, path: Path, content: bytes, written: list[Path]) -> None:
        tmp = path.with_name(f"{_TMP_PREFIX}{path.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(path)

    def get(self, document_id: str) -> DocumentRecord:
        """The record for ``document_id`` (NotFound for unknown or malformed ids)."""
        if not _ID.match(document_id or ""):
            raise NotFound("文件不存在", "no such document")
        with self._sessions() as db:
            row = db.get(DocumentRow, document_id)
            if row is None:
                raise NotFound("文件不存在", "no such document")
            return DocumentRecord.from_row(row)

    def read(self, record: DocumentRecord) -> bytes:
        """The document's plaintext bytes, verified against the recorded sha256."""
        path = self.root / record.filename
        try:
            stored = path.read_bytes()
        except FileNotFoundError:
            raise NotFound("文件已不存在", "the document file is gone") from None
        content = self._plaintext(record, stored)
        if hashlib.sha256(content).hexdigest() != record.sha256:
            log.error("document_tampered", document_id=record.id)
            raise ConsistencyError("文件内容与出具时的记录不一致，已拒绝提供",
                                   "the document file does not match its recorded sha256")
        return content

    def _plaintext(self, record: DocumentRecord, stored: bytes) -> bytes:
        """Decrypt; a file stored before encryption (its plain bytes hash to the record) is returned as is."""
        if not looks_encrypted(stored) or hashlib.sha256(stored).hexdigest() == record.sha256:
            return stored
        try:
            return self._cipher.decrypt_bytes(stored)
        except InvalidToken:
            log.error("document_undecryptable", document_id=record.id)
            raise ConsistencyError("文件无法解密（密钥不符或内容被改动），已拒绝提供",
                                   "the document cannot be decrypted (wrong key or altered file)") from None

    def rotate(self) -> dict[str, int]:
        """Re-encrypt every stored file under the current key (plain legacy files get encrypted).

        Returns counts: ``encrypted`` (were in clear), ``rotated`` (were under a retired key), ``current``
        (already under the current key), ``unreadable`` (no configured key opens them, or they no longer
        match their record: left untouched), ``missing`` (row without a file).
        """
        counts = dict.fromkeys(("encrypted", "rotated", "current", "unreadable", "missing"), 0)
        with self._sessions() as db:
            records = [DocumentRecord.from_row(row) for row in db.scalars(select(DocumentRow))]
        for record in records:
            path = self.root / record.filename
            try:
                stored = path.read_bytes()
            except FileNotFoundError:
                counts["missing"] += 1
                continue
            if self._cipher.is_current(stored):
                counts["current"] += 1
                continue
            try:
                content = self._plaintext(record, stored)
            except ConsistencyError:
                counts["unreadable"] += 1
                continue
            if hashlib.sha256(content).hexdigest() != record.sha256:
                log.error("document_tampered", document_id=record.id)
                counts["unreadable"] += 1
                continue
            # Same file name, replaced atomically: a reader sees the old or the new bytes, both readable.
            self._write_atomic(path, self._cipher.encrypt_bytes(content), [])
            counts["encrypted" if content is stored else "rotated"] += 1
        log.info("document_store_rotated", **counts)
        return counts

    def for_session(self, session_id: str) -> list[DocumentRecord]:
        """Documents a chat session owns, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(select(DocumentRow).where(DocumentRow.session_id == session_id)
                              .order_by(DocumentRow.created_at)).all()
            return [DocumentRecord.from_row(row) for row in rows]

    def for_borrower(self, id_number: str) -> list[DocumentRecord]:
        """Documents issued to the holder of ``id_number`` (for access and deletion requests)."""
        # Under every configured key: documents issued before a rotation carry the old key's hash.
        number = id_number.strip().upper()
        keyed = [self.borrower_hmac(number, key) for key in self._cipher.keys]
        with self._sessions() as db:
            rows = db.scalars(select(DocumentRow).where(DocumentRow.borrower_id_hmac.in_(keyed))
                              .order_by(DocumentRow.created_at)).all()
            return [DocumentRecord.from_row(row) for row in rows]

    def sweep(self, older_than_s: float = ORPHAN_AGE_S) -> int:
        """Remove temporary files and files with no row, older than ``older_than_s``; returns how many."""
        cutoff = time.time() - older_than_s
        candidates = [p for p in self.root.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
        if not candidates:
            return 0
        with self._sessions() as db:
            known = set(db.scalars(select(DocumentRow.filename)).all())
        removed = 0
        for path in candidates:
            if path.name.startswith(_TMP_PREFIX) or path.name not in known:
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("document_store_swept", removed=removed)
        return removed
