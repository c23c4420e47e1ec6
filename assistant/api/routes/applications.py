"""Loan applications for partners (``applications`` scope) and credit officers (``underwriting`` scope).

Partners (a dealer's system, the app's back end) create applications — from a chat session id or from
explicit terms and profile — submit, withdraw, record consents, pull the credit report after the consent,
and sign; they see only the applications their key made. Officers (``underwriting``) see every
application, take decisions, issue contracts and read the queue. Every change may carry the ``version``
the caller read: a stale one is a 409, as is an action the status does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.api.deps import check_api_key, get_services, open_access, presented_key, require_scope
from assistant.apikeys import parse_api_keys
from assistant.documents.store import api_key_id
from assistant.domain.application_state import Actor, Status
from assistant.domain.limits import MAX_OFFSET
from assistant.errors import InvalidInput, NotFound
from assistant.origination.models import ApplicantProfile, ConsentIn, LoanTerms, PersonalData
from assistant.origination.store import ApplicationRecord
from assistant.origination.view import ApplicationView, QueuePage, application_view, queue_item

PARTNER_SCOPE = "applications"
STAFF_SCOPE = "underwriting"
router = APIRouter(tags=["applications"])
Note = Field(default=None, max_length=500)
Items = Field(default_factory=list, max_length=20)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a partner key (sees its own applications) or staff (sees all)."""

    key_id: str
    staff: bool

    @property
    def actor(self) -> Actor:
        """The actor a partner's change is recorded under (its key id, never the key)."""
        return Actor("partner", self.key_id)


def caller(request: Request) -> Caller:
    """A key with the ``underwriting`` scope (staff) or the ``applications`` scope (partner); from a browser,
    the officer desk's login cookie (see :func:`assistant.api.deps.presented_key`)."""
    key = presented_key(request)
    keys = parse_api_keys(get_services(request).settings.api_keys)
    scopes = keys.get(key, frozenset()) if key else frozenset()
    staff = key in keys and (scopes is None or STAFF_SCOPE in scopes)
    check_api_key(request, STAFF_SCOPE if staff else PARTNER_SCOPE, key=key or None)
    return Caller(key_id=api_key_id(key), staff=staff)


caller.access = ("key", PARTNER_SCOPE)  # type: ignore[attr-defined]  # read by api/openapi.py
require_staff = require_scope(STAFF_SCOPE)
STAFF = [Depends(require_staff)]


def _visible(request: Request, application_id: str, who: Caller) -> ApplicationRecord:
    record = get_services(request).applications.get(application_id)
    if not who.staff and record.api_key_id != who.key_id:
        raise NotFound("申请不存在", "no such application")  # not "forbidden": do not confirm it exists
    return record


def _view(request: Request, record: ApplicationRecord, who: Caller | None = None, *, events: bool = False,
          lang: str = "zh") -> ApplicationView:
    service = get_services(request).applications
    return application_view(record, staff=who is None or who.staff,
                            events=service.store.events(record.id) if events else None,
                            message=service.customer_status(record, lang))


# ---------------------------------------------------------------------------------------------- partner
class CreateApplication(BaseModel):
    """From a chat session (its quoted terms, profile and consent) or from explicit terms and profile."""

    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, min_length=1, max_length=64)
    terms: LoanTerms | None = None
    profile: ApplicantProfile | None = None
    personal: PersonalData | None = None
    consents: list[ConsentIn] = Field(default_factory=list, max_length=10)
    channel: Literal["api", "app", "web", "wechat"] = "api"
    device_id: str | None = Field(default=None, pattern=r"^[\x21-\x7e]{8,128}$",
                                  description="The submitting device's fingerprint (kept only as a keyed hash)")

    @model_validator(mode="after")
    def _one_source(self) -> CreateApplication:
        if (self.session_id is None) == (self.terms is None):
            raise ValueError("请提供会话 session_id 或贷款条件 terms（二选一） / "
                             "give a session_id or terms, one of them")
        if self.terms is not None and (self.terms.apr is not None or self.terms.monthly_payment is not None
                                       or self.terms.total_interest is not None):
            raise ValueError("APR、月供由系统计算，请勿传入 / apr and monthly_payment are computed: do not send them")
        return self


class Change(BaseModel):
    """A change: the version read (optional) and why."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1, le=1_000_000)
    reason: str | None = Note


class ConsentBody(ConsentIn):
    """A consent to add, with the version read."""

    version: int | None = Field(default=None, ge=1, le=1_000_000)
    channel: Literal["api", "app", "web", "wechat", "branch"] = "api"


class SignBody(BaseModel):
    """The borrower's signature: ``accept`` must be true (the e-sign consent it records)."""

    model_config = ConfigDict(extra="forbid")

    accept: bool = Field(description="The borrower accepts to sign by electronic signature")
    evidence: str | None = Field(default=None, max_length=200)
    version: int | None = Field(default=None, ge=1, le=1_000_000)


@router.post("/v1/applications", response_model=ApplicationView, status_code=201)
def post_application(body: CreateApplication, request: Request, response: Response,
                     who: Caller = Depends(caller)) -> ApplicationView:
    """Create a draft application (201); from a session that already has an open one, that one (200)."""
    service = get_services(request).applications
    actor = who.actor
    if body.session_id is not None:
        record, created = service.create_from_session(body.session_id, actor=actor, channel=body.channel,
                                                      personal=body.personal, consents=body.consents,
                                                      api_key_id=who.key_id, device_id=body.device_id)
        if not created:
            response.status_code = 200
    else:
        assert body.terms is not None  # the validator
        record = service.create(body.terms, actor=actor, channel=body.channel,
                                profile=(body.profile or ApplicantProfile()).model_dump(mode="json", exclude_none=True),
                                personal=body.personal, consents=body.consents, api_key_id=who.key_id,
                                device_id=body.device_id)
    return _view(request, record, who)


@router.get("/v1/applications/{application_id}", response_model=ApplicationView)
def get_application(application_id: str, request: Request, lang: Literal["zh", "en"] = "zh",
                    who: Caller = Depends(caller)) -> ApplicationView:
    """The application, its history and the status as the customer reads it."""
    return _view(request, _visible(request, application_id, who), who, events=True, lang=lang)


@router.post("/v1/applications/{application_id}/submit", response_model=ApplicationView)
def post_submit(application_id: str, body: Change, request: Request, who: Caller = Depends(caller)) -> ApplicationView:
    """Submit a draft for review (scored by the risk model when the applicant consented to an assessment)."""
    _visible(request, application_id, who)
    record = get_services(request).applications.submit(application_id, actor=who.actor, version=body.version,
                                                       reason=body.reason)
    return _view(request, record, who)


@router.post("/v1/applications/{application_id}/withdraw", response_model=ApplicationView)
def post_withdraw(application_id: str, body: Change, request: Request,
                  who: Caller = Depends(caller)) -> ApplicationView:
    """Withdraw the application (any time before signing), on the customer's behalf."""
    _visible(request, application_id, who)
    record = get_services(request).applications.withdraw(application_id, actor=who.actor, version=body.version,
                                                         reason=body.reason)
    return _view(request, record, who)


@router.post("/v1/applications/{application_id}/consents", response_model=ApplicationView)
def post_consent(application_id: str, body: ConsentBody, request: Request,
                 who: Caller = Depends(caller)) -> ApplicationView:
    """Record a consent the applicant gave (e.g. the signed 征信查询授权书, purpose ``credit_report``)."""
    _visible(request, application_id, who)
    consent = ConsentIn(purpose=body.purpose, granted_at=body.granted_at, evidence=body.evidence)
    record = get_services(request).applications.record_consent(application_id, consent, actor=who.actor,
                                                               channel=body.channel, version=body.version)
    return _view(request, record, who)


@router.post("/v1/applications/{application_id}/credit-report", response_model=ApplicationView)
def post_credit_report(application_id: str, body: Change, request: Request,
                       who: Caller = Depends(caller)) -> ApplicationView:
    """Pull the credit report (403 without a recorded ``credit_report`` consent); staff read it in the view."""
    _visible(request, application_id, who)
    record = get_services(request).applications.pull_credit_report(application_id, actor=who.actor,
                                                                   version=body.version)
    return _view(request, record, who)


@router.post("/v1/applications/{application_id}/sign", response_model=ApplicationView)
def post_sign(application_id: str, body: SignBody, request: Request, who: Caller = Depends(caller)) -> ApplicationView:
    """The borrower signs the issued contract through the e-signature provider."""
    _visible(request, application_id, who)
    if not body.accept:
        raise InvalidInput("签署须由借款人确认同意（accept 为 true）",
                           "signing needs the borrower's acceptance (accept: true)", field="accept")
    record = get_services(request).applications.sign(application_id, actor=Actor("customer"), version=body.version,
                                                     evidence=body.evidence or f"api_key:{who.key_id}")
    return _view(request, record, who)


# ---------------------------------------------------------------------------------------------- staff
class DecisionBody(BaseModel):
    """An officer's decision."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approve", "decline", "request_documents"]
    conditions: list[str] = Items
    reasons: list[str] = Items
    documents: list[str] = Items
    note: str | None = Note
    version: int | None = Field(default=None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _short_items(self) -> DecisionBody:
        for name in ("conditions", "reasons", "documents"):
            if any(not item.strip() or len(item) > 200 for item in getattr(self, name)):
                raise ValueError(f"{name} 的每一项须为1-200个字符 / each item of {name} must be 1-200 characters")
        return self


class ContractBody(BaseModel):
    """Issue the contract; the borrower's identifiers may be completed here (collected at signing)."""

    model_config = ConfigDict(extra="forbid")

    personal: PersonalData | None = None
    version: int | None = Field(default=None, ge=1, le=1_000_000)


@router.post("/v1/applications/{application_id}/decision", response_model=ApplicationView)
def post_decision(application_id: str, body: DecisionBody, request: Request,
                  key: str = Depends(require_staff)) -> ApplicationView:
    """Approve (with conditions), decline (with reasons: the customer reads them as the explanation of the
    decision) or request documents. The officer is the caller's key (its id), never a field of the body."""
    record = get_services(request).applications.decide(
        application_id, body.outcome, officer_id=api_key_id(key), version=body.version, conditions=body.conditions,
        reasons=body.reasons, documents=body.documents, note=body.note)
    return _view(request, record)


@router.post("/v1/applications/{application_id}/contract", response_model=ApplicationView)
def post_contract(application_id: str, body: ContractBody, request: Request,
                  key: str = Depends(require_staff)) -> ApplicationView:
    """Issue the loan contract (PDF) of an approved application (the officer: the caller's key id)."""
    record = get_services(request).applications.issue_contract(
        application_id, actor=Actor("officer", api_key_id(key)), personal=body.personal, version=body.version)
    return _view(request, record)


@router.get("/v1/applications", response_model=QueuePage, dependencies=STAFF)
def get_queue(request: Request, status: list[Status] | None = Query(None, max_length=8),
              fraud: Literal["flagged"] | None = None, limit: int = Query(50, ge=1, le=200),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """The officer desk's queue: applications in ``status`` (repeat it for several), oldest first, paged;
    ``fraud=flagged``: only those the anti-fraud checks sent to review or recommended declining."""
    records, total = get_services(request).applications.store.queue(status, limit=limit, offset=offset,
                                                                    fraud_flagged=fraud == "flagged")
    return QueuePage(items=[queue_item(r) for r in records], total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------------------------- customer
class SessionApplication(BaseModel):
    """The chat session's application as its customer may see it: no risk, no fraud, no personal data."""

    application_id: str
    reference: str
    status: str
    status_label_zh: str
    customer_message: str


@router.get("/v1/chat/{session_id}/application", response_model=SessionApplication,
            dependencies=[Depends(open_access("chat"))])
def get_session_application(session_id: str, request: Request, lang: Literal["zh", "en"] = "zh") -> Any:
    """The newest application of this chat session (the session id is the customer's bearer of access);
    404 when the session has none yet — the web chat then says to finish an application first."""
    services = get_services(request)
    if len(session_id) > 64 or not services.session_store.exists(session_id):
        raise NotFound("会话不存在或已过期", "no such session, or it has expired")
    record = services.applications.latest_for_session(session_id)
    if record is None:
        raise NotFound("该会话还没有贷款申请", "this session has no loan application yet", code="no_application")
    view = application_view(record, staff=False, message=services.applications.customer_status(record, lang))
    return SessionApplication(application_id=view.application_id, reference=view.reference, status=view.status,
                              status_label_zh=view.status_label_zh, customer_message=view.customer_message or "")
