"""Applications from chat sessions: what a conversation holds becomes terms, a profile and a consent.

The chat keeps the loan terms it last quoted (``SessionState.application``, the documents' shape), the
facts the customer gave (slots) and whether they agreed to the pre-assessment (``consent``). Personal
identifiers are never gathered in chat (minimisation): a partner adds them when it makes the application,
or the officer when the contract is issued.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from assistant.domain.application_state import OPEN, Actor, Status
from assistant.errors import InvalidInput
from assistant.logs import get_logger
from assistant.origination.models import ApplicantProfile, ConsentIn, LoanTerms, PersonalData, RiskOutcome
from assistant.origination.store import ApplicationRecord, Event

log = get_logger(__name__)
PROFILE_SLOTS = tuple(ApplicantProfile.model_fields)
_TERM_FIELDS = ("principal", "annual_rate", "term_months", "rate_type", "method", "upfront_fees", "product_id",
                "down_payment")


def terms_from_session(application: dict[str, Any] | None, slots: dict[str, Any]) -> LoanTerms:
    """The terms the session was last quoted (InvalidInput when it has none yet)."""
    if not application:
        raise InvalidInput("该会话还没有确定的贷款方案，请先在对话中完成报价或选择方案",
                           "this session has no loan terms yet: get a quote or pick a plan in the chat first",
                           field="session_id")
    data: dict[str, Any] = {k: application[k] for k in _TERM_FIELDS if application.get(k) is not None}
    data.setdefault("principal", application.get("loan_amount"))
    data.setdefault("annual_rate", application.get("quoted_rate"))
    vehicle = application.get("vehicle") or {}
    if vehicle.get("brand") and vehicle.get("series") and vehicle.get("price"):
        data["vehicle"] = {k: v for k, v in vehicle.items() if v is not None}
    price = vehicle.get("price") or slots.get("vehicle_price")
    if price is not None:
        data["vehicle_price"] = price
    try:
        return LoanTerms.model_validate(data)
    except ValidationError as exc:
        from assistant.documents.application import invalid_application

        raise invalid_application(exc, "terms") from exc


def profile_from_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """The applicant's situation from what they said (values the profile cannot take are left out)."""
    profile: dict[str, Any] = {}
    for name in PROFILE_SLOTS:
        if slots.get(name) is None:
            continue
        try:
            ApplicantProfile.model_validate({name: slots[name]})
        except ValidationError:
            continue
        profile[name] = slots[name]
    return ApplicantProfile.model_validate(profile).model_dump(mode="json", exclude_none=True)


def _risk(decision: dict[str, Any] | None, reasons: list[str] | None = None) -> RiskOutcome | None:
    if not decision or decision.get("decision") not in ("approve", "review", "decline"):
        return None
    return RiskOutcome(decision=decision["decision"], grade=str(decision.get("grade") or ""),
                       probability_of_default=float(decision.get("probability_of_default") or 0.0),
                       score=int(decision.get("score") or 0), reasons=list(reasons or decision.get("reasons") or []),
                       model_version=decision.get("model_version"), scored_at=dt.datetime.now(dt.UTC), source="chat")


def _open_for_session(service: Any, session_id: str) -> ApplicationRecord | None:
    latest = service.store.latest_for_session(session_id)
    return latest if latest is not None and latest.status in OPEN else None


def create_from_session(service: Any, session_id: str, *, actor: Actor, channel: str | None = None,
                        personal: PersonalData | None = None, consents: tuple[ConsentIn, ...] = (),
                        api_key_id: str | None = None, device_id: str | None = None
                        ) -> tuple[ApplicationRecord, bool]:
    """A draft from the session's quoted terms, profile and consent; ``(application, created)``.

    The session's open application, when it has one, is returned instead (a double submit makes one)."""
    state = service.services.chat.state(session_id)  # NotFound for an unknown session
    existing = _open_for_session(service, session_id)
    if existing is not None:
        # The partner's form completes the application the chat opened (identifiers, signed consents).
        return service.add_details(existing.id, actor=actor, channel=channel or existing.channel, personal=personal,
                                   consents=consents), False
    terms = terms_from_session(state.application, state.slots)
    given = list(consents)
    if state.consent and not any(c.purpose == "pre_assessment" for c in given):
        # The chat records that the customer said "同意" to the pre-assessment, not when: the application
        # records it now, with the session as evidence.
        given.insert(0, ConsentIn(purpose="pre_assessment", evidence="chat_session"))
    record = service.create(terms, actor=actor, channel=channel or state.channel,
                            profile=profile_from_slots(state.slots), personal=personal, consents=given,
                            session_id=session_id, api_key_id=api_key_id,
                            risk=_risk(state.last_decision), reason="from_chat_session", device_id=device_id)
    return record, True


def open_for_review(service: Any, state: Any, applicant: dict[str, Any], score: dict[str, Any],
                    application: dict[str, Any] | None, channel: str) -> ApplicationRecord:
    """The chat's "review" outcome: the session's application, created or updated, submitted for an officer.

    Idempotent per session (a turn may run twice when two workers race): an open application is updated,
    not duplicated."""
    slots = {**state.slots, "vehicle_price": applicant.get("vehicle_price")}
    terms = terms_from_session(application, slots)
    risk = _risk(score, score.get("reasons"))
    profile = profile_from_slots(state.slots)
    system = Actor("system")
    record = _open_for_session(service, state.session_id)
    if record is None:
        record = service.create(terms, actor=Actor("customer"), channel=channel, profile=profile,
                                consents=[ConsentIn(purpose="pre_assessment", evidence="chat_session")],
                                session_id=state.session_id, risk=risk, reason="chat_review")
    elif record.status in (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW):
        updated = record.model_copy(update={"terms": service.priced(terms), "profile": profile, "risk": risk,
                                            "updated_at": dt.datetime.now(dt.UTC)})
        event = Event("update_from_chat", record.status.value, record.status.value, system, "chat_review",
                      {"decision": risk.decision if risk else None, "principal": str(Decimal(terms.principal))})
        record = service.store.update(updated, record.version, event)
        service._audit(record, event)
    if record.status == Status.DRAFT:
        record = service.submit(record.id, actor=system, reason="chat_review")
    return record
