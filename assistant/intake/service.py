"""Attach an applicant's document to an application: check, read (OCR), store encrypted, cross-check.

``services.intake`` is the one entry point the channels use:

- :meth:`IntakeService.attach` — one upload → the stored document, the fields read and the findings;
- :meth:`IntakeService.documents` — the application's documents (fields unmasked: for internal use);
- :meth:`IntakeService.mismatches` — the findings over all of an application's cards against what the
  applicant stated, on a given date.

What leaves through HTTP is masked with :func:`masked_fields`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from PIL import Image, ImageOps
from pydantic import BaseModel, Field
from sqlalchemy.orm import sessionmaker

from assistant.documents.application import mask_id_number
from assistant.errors import InvalidInput
from assistant.intake.checks import CheckedFile, IntakeLimits, check_upload
from assistant.intake.crosscheck import Mismatch, StatedApplicant, cross_check
from assistant.intake.fields import ReadFields, parse_fields
from assistant.intake.kinds import PDF_TYPE, READ_KINDS, DocumentKind, parse_kind
from assistant.intake.ocr import OcrEngine, shared_engine
from assistant.logs import get_logger
from assistant.privacy import mask_name
from assistant.storage.crypto import Cipher
from assistant.storage.intake_files import IntakeFileRecord, IntakeFileStore

log = get_logger(__name__)

APPLICATION_ID = re.compile(r"^[0-9a-f]{32}$")


class AttachedDocument(BaseModel):
    """One stored document of an application, with what was read from it (unmasked) and the findings."""

    document_id: str
    application_id: str
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: str
    checks_passed: list[str]
    read: ReadFields | None = None
    mismatches: list[Mismatch] = Field(default_factory=list)
    created_at: dt.datetime


def check_application_id(value: str) -> str:
    """An application id is a uuid4 hex string (32 lowercase hex digits); InvalidInput otherwise."""
    if not APPLICATION_ID.match(value):
        raise InvalidInput("申请编号 application_id 应为32位十六进制字符串", "application_id must be 32 lowercase hex "
                           "digits (a uuid4 hex)", field="application_id")
    return value


def masked_fields(read: ReadFields | None) -> dict[str, str]:
    """The read fields as a screen or an API answer may show them: name 张*, ID 110***********1234,
    birth date to the year, address to the city."""
    if read is None:
        return {}
    out: dict[str, str] = {}
    for field, value in read.fields.items():
        if field == "name":
            out[field] = mask_name(value)
        elif field in {"id_number", "licence_number"}:
            out[field] = mask_id_number(value)
        elif field == "birth_date":
            out[field] = value[:4] + "-**-**"
        elif field == "address":
            out[field] = value[:6] + "*" * max(len(value) - 6, 0)
        else:
            out[field] = value
    return out


def _checks(checked: CheckedFile) -> list[str]:
    names = ["size", "type_by_content"]
    names += ["pdf_structure", "pdf_no_active_content"] if checked.content_type == PDF_TYPE else ["image_pixels",
                                                                                                   "image_decodes"]
    return names


class IntakeService:
    """Checks, OCR, encrypted storage and cross-checks of applicants' documents."""

    def __init__(self, sessions: sessionmaker, cipher: Cipher, settings: Any, engine: OcrEngine | None = None) -> None:
        self.store = IntakeFileStore(sessions, cipher)
        self.limits = IntakeLimits.from_settings(settings)
        self.min_confidence = float(settings.ocr_min_confidence)
        self.engine = engine or shared_engine()

    def read(self, kind: DocumentKind, data: bytes) -> ReadFields | None:
        """The fields of a card image (None for kinds OCR does not read); the image must have passed the checks."""
        if kind not in READ_KINDS:
            return None
        with Image.open(io.BytesIO(data)) as img:
            upright = ImageOps.exif_transpose(img)  # phone photos are often stored sideways with an EXIF flag
            return parse_fields(kind, self.engine.read(upright))

    def attach(self, application_id: str, kind: DocumentKind | str, data: bytes, *,
               declared_type: str | None = None, stated: StatedApplicant | None = None, on: dt.date | None = None,
               session_id: str | None = None, api_key_id: str | None = None) -> AttachedDocument:
        """Check, read, store (encrypted) one document; its record, fields and the application's findings.

        ``declared_type`` is only logged when it disagrees with the bytes: the bytes decide.
        """
        check_application_id(application_id)
        kind = parse_kind(kind) if isinstance(kind, str) else kind
        checked = check_upload(data, kind, self.limits)
        if declared_type and declared_type.split(";")[0].strip().lower() != checked.content_type:
            log.info("intake_declared_type_differs", declared=declared_type[:40], actual=checked.content_type)
        read = self.read(kind, data)
        record = self.store.add(application_id=application_id, kind=kind.value, content_type=checked.content_type,
                                data=data, sha256=checked.sha256, width=checked.width, height=checked.height,
                                pages=checked.pages, ocr=read.model_dump(mode="json") if read else None,
                                session_id=session_id, api_key_id=api_key_id)
        log.info("intake_document_stored", kind=kind.value, size=checked.size, read=read is not None)
        findings = self.mismatches(application_id, stated, on or dt.date.today())
        return self._attached(record, checks=_checks(checked), mismatches=findings)

    def _attached(self, record: IntakeFileRecord, *, checks: list[str], mismatches: list[Mismatch]
                  ) -> AttachedDocument:
        read = ReadFields.model_validate(record.ocr) if record.ocr else None
        return AttachedDocument(document_id=record.id, application_id=record.application_id,
                                kind=DocumentKind(record.kind), content_type=record.content_type,
                                size_bytes=record.size_bytes, sha256=record.sha256, checks_passed=checks, read=read,
                                mismatches=mismatches, created_at=record.created_at)

    def documents(self, application_id: str) -> list[AttachedDocument]:
        """The application's documents, oldest first (each with its own findings of quality and validity)."""
        check_application_id(application_id)
        out = []
        today = dt.date.today()
        for record in self.store.list(application_id):
            attached = self._attached(record, checks=[], mismatches=[])
            if attached.read is not None:
                attached.mismatches = cross_check([attached.read], None, today, min_confidence=self.min_confidence)
            out.append(attached)
        return out

    def read_fields(self, application_id: str) -> list[ReadFields]:
        """What OCR read from each of the application's cards (latest card of a kind last)."""
        return [doc.read for doc in self.documents(application_id) if doc.read is not None]

    def mismatches(self, application_id: str, stated: StatedApplicant | None, on: dt.date) -> list[Mismatch]:
        """Findings over the application's cards (the latest of each kind) against ``stated``, on ``on``."""
        latest: dict[DocumentKind, ReadFields] = {}
        for read in self.read_fields(application_id):
            latest[read.kind] = read
        return cross_check(list(latest.values()), stated, on, min_confidence=self.min_confidence)
