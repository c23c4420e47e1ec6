"""``POST /v1/applications/{application_id}/documents`` takes an applicant's document (multipart: ``kind``
and ``file``); ``GET`` lists an application's documents.

Access: upload with an API key with the ``intake`` scope (a partner: the dealer's desk), or by the
customer's own chat session (``X-Session-ID``: it must exist, and the application must be that session's —
403 otherwise). An unknown application is a 404. Each upload is recorded on the application (an event,
``requested`` when it answers an officer's request for documents). Listing: keys with the ``intake``
or ``underwriting`` scope.
Answers show read fields masked (ID number ``110***********1234``, name ``张*``); the stored file and the
full fields stay encrypted in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from assistant.api.deps import check_api_key, client_address, enforce_rate_limit, get_services
from assistant.documents.store import api_key_id
from assistant.domain.application_state import Actor
from assistant.errors import Forbidden, NotFound, PayloadTooLarge, Unauthorized
from assistant.intake.crosscheck import Mismatch, StatedApplicant
from assistant.intake.service import AttachedDocument, check_application_id, masked_fields

router = APIRouter(tags=["intake"])

SCOPE = "intake"
UPLOAD_PATH = "/v1/applications/{application_id}/documents"


class MismatchOut(BaseModel):
    """A finding for the loan officer: a stable code and a bilingual sentence (masked values only)."""

    code: str = Field(description="DOC_ID_MISMATCH | DOC_NAME_MISMATCH | DOC_EXPIRED | DOC_LOW_CONFIDENCE | …")
    kind: str | None = None
    field: str | None = None
    message: str = Field(description="Chinese first, then English")

    @classmethod
    def of(cls, item: Mismatch) -> MismatchOut:
        """From the domain finding."""
        return cls(code=item.code, kind=item.kind.value if item.kind else None, field=item.field,
                   message=item.message)


class IntakeDocumentOut(BaseModel):
    """One stored document: what passed, what was read (masked), what does not agree."""

    document_id: str
    application_id: str
    kind: str
    content_type: str = Field(description="by the file's content, not its name")
    size_bytes: int
    sha256: str
    checks_passed: list[str]
    read: bool = Field(description="true when OCR read the card's fields")
    fields: dict[str, str] = Field(description="the read fields, masked")
    missing_fields: list[str]
    id_checksum_ok: bool | None = None
    mismatches: list[MismatchOut]
    created_at: dt.datetime

    @classmethod
    def of(cls, doc: AttachedDocument) -> IntakeDocumentOut:
        """From the service's answer (masking the fields)."""
        return cls(document_id=doc.document_id, application_id=doc.application_id, kind=doc.kind.value,
                   content_type=doc.content_type, size_bytes=doc.size_bytes, sha256=doc.sha256,
                   checks_passed=doc.checks_passed, read=doc.read is not None, fields=masked_fields(doc.read),
                   missing_fields=doc.read.missing if doc.read else [],
                   id_checksum_ok=doc.read.id_checksum_ok if doc.read else None,
                   mismatches=[MismatchOut.of(m) for m in doc.mismatches], created_at=doc.created_at)


class IntakeListOut(BaseModel):
    """An application's documents and the findings across them (card against card, validity today)."""

    application_id: str
    documents: list[IntakeDocumentOut]
    mismatches: list[MismatchOut]


def _uploader(request: Request) -> tuple[str | None, str | None]:
    """``(api_key_id, session_id)`` of the caller: a key with the scope, or an existing chat session."""
    if request.headers.get("x-api-key"):
        return api_key_id(check_api_key(request, SCOPE)), None
    session_id = request.headers.get("x-session-id")
    if not session_id:
        raise Unauthorized("需要API密钥（X-API-Key）或会话（X-Session-ID）",
                           "an API key (X-API-Key) or a chat session (X-Session-ID) is required")
    # OCR costs CPU seconds: anonymous uploads count against the client address, as other open routes.
    enforce_rate_limit(request, f"ip:{client_address(request)}", SCOPE)
    if len(session_id) > 64 or not get_services(request).session_store.exists(session_id):
        raise NotFound("会话不存在或已过期", "no such session, or it has expired")
    return None, session_id


@router.post(UPLOAD_PATH, status_code=201, response_model=IntakeDocumentOut)
async def post_application_document(
    application_id: str,
    request: Request,
    kind: str = Form(description="id_card_front | id_card_back | driving_licence | income_proof | "
                                 "vehicle_registration", max_length=32),
    file: UploadFile = File(description="JPEG, PNG or WebP photo (cards); PDF also for income proof and "
                                        "vehicle registration"),
    applicant_name: str | None = Form(default=None, max_length=40, description="as stated on the application"),
    applicant_id_number: str | None = Form(default=None, max_length=18, description="as stated on the application"),
) -> Any:
    """Check, read (offline OCR), store encrypted and cross-check one document (HTTP 201)."""
    check_application_id(application_id)
    key_id, session_id = await run_in_threadpool(_uploader, request)
    services = get_services(request)
    limit = services.settings.intake_max_bytes
    data = await file.read(limit + 1)  # never more than the limit and one byte into memory
    if len(data) > limit:
        raise PayloadTooLarge(f"文件过大（上限{limit / 1048576:.0f} MB）", f"the file is too large (limit "
                              f"{limit / 1048576:.0f} MB)", code="file_too_large")
    record = await run_in_threadpool(services.applications.get, application_id)  # 404 for an unknown id
    if session_id is not None and record.session_id != session_id:
        # A chat session uploads to its own application only (the id alone is not a bearer of access).
        raise Forbidden("只能为本会话的申请上传材料", "a chat session may upload only to its own application")
    # The cross-check compares the card with what the application holds; the form's fields only fill in
    # what it does not (an application made without personal data).
    personal = record.personal
    name = (personal.name if personal else None) or applicant_name
    number = (personal.id_number if personal else None) or applicant_id_number
    stated = StatedApplicant(name=name, id_number=number) if name or number else None
    # OCR takes a second or more of CPU: off the event loop.
    attached = await run_in_threadpool(_attach_and_audit, services, application_id, kind, data,
                                       file.content_type, stated, session_id, key_id)
    return IntakeDocumentOut.of(attached)


def _attach_and_audit(services: Any, application_id: str, kind: str, data: bytes, declared_type: str | None,
                      stated: StatedApplicant | None, session_id: str | None, key_id: str | None) -> AttachedDocument:
    attached = services.intake.attach(application_id, kind, data, declared_type=declared_type, stated=stated,
                                      session_id=session_id, api_key_id=key_id)
    # The audit trail: which file came in for which application, and what the cross-check found (codes only).
    entry: dict[str, Any] = {"document_id": attached.document_id, "application_id": application_id,
                             "kind": attached.kind.value, "content_type": attached.content_type,
                             "sha256": attached.sha256, "mismatches": [m.code for m in attached.mismatches],
                             "channel": "api"}
    if key_id:
        entry["api_key_id"] = key_id
    services.audit.record("document_received", session_id, entry)
    actor = Actor("partner", key_id) if key_id else Actor("customer")
    services.applications.document_received(application_id, kind=attached.kind.value,
                                            document_id=attached.document_id,
                                            mismatches=[m.code for m in attached.mismatches], actor=actor)
    return attached


def _lister(request: Request) -> str:
    """A key with the ``intake`` scope (the dealer's desk) or ``underwriting`` (a loan officer, also from the
    desk's login cookie)."""
    try:
        return check_api_key(request, SCOPE)
    except Forbidden:
        return check_api_key(request, "underwriting")


_lister.access = ("key", SCOPE)  # type: ignore[attr-defined]  # read by api/openapi.py


@router.get(UPLOAD_PATH, response_model=IntakeListOut, dependencies=[Depends(_lister)])
def get_application_documents(application_id: str, request: Request) -> Any:
    """The application's documents (masked fields) and the findings across its cards and against the
    application's personal data, as of today."""
    services = get_services(request)
    intake = services.intake
    check_application_id(application_id)
    personal = services.applications.get(application_id).personal  # 404 for an unknown application
    stated = StatedApplicant(name=personal.name, id_number=personal.id_number) if personal else None
    docs = intake.documents(application_id)
    findings = intake.mismatches(application_id, stated, dt.date.today())
    return IntakeListOut(application_id=application_id, documents=[IntakeDocumentOut.of(d) for d in docs],
                         mismatches=[MismatchOut.of(m) for m in findings])
