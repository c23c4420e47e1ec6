"""``POST /v1/documents`` issues a document; ``GET /v1/documents/{id}`` returns the file.

Access: an API key with the ``documents`` scope (``X-API-Key``), or the chat session that owns the document
(``X-Session-ID`` header or ``?session_id=``). A request by session (``{"session_id"}``) uses the loan that
session agreed on (``services.session_application``).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote as url_quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import check_api_key, get_services, tool_context
from assistant.audit.recorder import record_documents
from assistant.documents.application import Application
from assistant.documents.kinds import check_language, parse_format, parse_kind
from assistant.documents.store import api_key_id
from assistant.errors import InvalidInput, NotFound, Unauthorized
from assistant.tools.documents import GenerateDocumentsIn, issue_documents
from assistant.tools.registry import ToolContext

router = APIRouter(tags=["documents"])

_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    # Stored HTML is the customer's contract: no scripts, no outside requests, only its own inline CSS.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
}


class DocumentRequest(BaseModel):
    """The contract's request: one kind, for an application or for a chat session's agreed loan."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="loan_contract | risk_disclosure | repayment_schedule | privacy_consent")
    application: Application | None = None
    session_id: str | None = Field(default=None, max_length=64)
    format: str = Field(default="pdf", description="pdf | html | md")
    lang: str = Field(default="zh", description="zh (all kinds) | en (risk_disclosure)")


class DocumentResponse(BaseModel):
    """Where the issued document is."""

    document_id: str
    kind: str
    url: str
    sha256: str
    format: str
    template_version: str
    contract_number: str
    preview: bool


def _session_header(request: Request, query: str | None) -> str | None:
    return request.headers.get("x-session-id") or query or None


@router.post("/v1/documents", status_code=201, response_model=DocumentResponse)
def post_document(body: DocumentRequest, request: Request, ctx: ToolContext = Depends(tool_context)) -> Any:
    """Issue one document (HTTP 201) and return its id, url and sha256."""
    kind = parse_kind(body.kind)
    fmt = parse_format(body.format)
    check_language(kind, body.lang)
    if body.application is None and not body.session_id:
        raise InvalidInput("请提供申请信息 application 或会话 session_id", "give an application or a session_id",
                           field="application")
    if body.application is not None and body.session_id:
        raise InvalidInput("application 与 session_id 只能提供其一", "give an application or a session_id, not both",
                           field="session_id")
    key_id: str | None = None
    owner = body.session_id or request.headers.get("x-session-id") or None
    if request.headers.get("x-api-key"):
        key_id = api_key_id(check_api_key(request, "documents"))
    elif owner:
        # A chat session issues documents for itself: it must exist (NotFound otherwise).
        ctx.services.documents.session_application(owner)
    else:
        raise Unauthorized("需要API密钥（X-API-Key）或会话（X-Session-ID）",
                           "an API key (X-API-Key) or a chat session (X-Session-ID) is required")
    ctx.session_id = owner
    out = issue_documents(ctx, GenerateDocumentsIn(kinds=[kind], format=fmt, lang=body.lang,
                                                   application=body.application), api_key_id=key_id)
    record_documents(ctx.services, out.documents, session_id=owner, channel="api", contract_number=out.contract_number,
                     preview=out.preview, api_key_id=key_id)
    doc = out.documents[0]
    return DocumentResponse(document_id=doc.document_id, kind=doc.kind, url=doc.url, sha256=doc.sha256,
                            format=doc.format, template_version=doc.template_version,
                            contract_number=out.contract_number, preview=out.preview)


@router.get("/v1/documents/{document_id}")
def get_document(document_id: str, request: Request, session_id: str | None = Query(default=None, max_length=64)
                 ) -> Response:
    """The file, with its content type; for an API key or the owning chat session only."""
    documents = get_services(request).documents
    if request.headers.get("x-api-key"):
        check_api_key(request, "documents")
        record, content = documents.open(document_id)
    else:
        owner = _session_header(request, session_id)
        if not owner:
            raise Unauthorized("需要API密钥（X-API-Key）或会话（X-Session-ID）",
                               "an API key (X-API-Key) or the owning chat session (X-Session-ID) is required")
        record = documents.store.get(document_id)
        if not record.session_id or not hmac.compare_digest(record.session_id, owner):
            raise NotFound("文件不存在", "no such document")  # not "forbidden": do not confirm it exists
        content = documents.store.read(record)
    filename = f"{record.title}-{record.contract_number}.{record.format}"
    headers = {**_SAFE_HEADERS, "ETag": f'"{record.sha256}"',
               "Content-Disposition": f"inline; filename*=UTF-8''{url_quote(filename)}"}
    return Response(content=content, media_type=record.content_type, headers=headers)
