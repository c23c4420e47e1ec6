"""What callers see of an application: personal data masked, the credit report to staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from assistant.domain.application_state import LABELS
from assistant.origination.models import ConsentRecord, Decision, FraudCheck, LoanTerms, RiskOutcome
from assistant.origination.providers import CreditReport, SignedDocument
from assistant.origination.service import actions_for
from assistant.origination.status import reference
from assistant.origination.store import ApplicationRecord, Event


class EventView(BaseModel):
    """One entry of the history."""

    action: str
    from_status: str | None
    to_status: str
    actor: str = Field(description="customer | officer | system | partner")
    actor_id: str | None = None
    reason: str | None = None
    version: int
    at: dt.datetime | None = None


class ApplicationView(BaseModel):
    """An application as the API returns it."""

    application_id: str
    reference: str = Field(description="The short reference the customer quotes")
    status: str
    status_label_zh: str
    status_label_en: str
    version: int = Field(description="Send it back with a change: a stale version is a 409")
    channel: str
    from_chat_session: bool
    terms: LoanTerms
    profile: dict[str, Any]
    personal: dict[str, str | None] | None = Field(default=None, description="Masked")
    consents: list[ConsentRecord]
    risk: RiskOutcome | None = None
    decision: Decision | None = None
    credit_report: CreditReport | None = Field(default=None, description="Staff only")
    fraud: FraudCheck | None = Field(default=None, description="Staff only: the anti-fraud assessment")
    contract: dict[str, Any] | None = None
    signature: SignedDocument | None = None
    next_actions: list[str]
    customer_message: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[EventView] | None = None


class QueueItem(BaseModel):
    """One line of the officer desk's queue."""

    application_id: str
    reference: str
    status: str
    channel: str
    principal: str
    term_months: int
    monthly_payment: str | None
    apr: str | None
    vehicle: str | None
    risk_decision: str | None
    risk_grade: str | None
    risk_score: int | None = None
    risk_reasons: list[str] = Field(default_factory=list)
    fraud_decision: str | None = None
    fraud_score: float | None = None
    fraud_signals: list[dict[str, str]] = Field(default_factory=list, description="code, severity, zh")
    created_at: dt.datetime
    updated_at: dt.datetime


class QueuePage(BaseModel):
    """A page of the queue."""

    items: list[QueueItem]
    total: int
    limit: int
    offset: int


def application_view(record: ApplicationRecord, *, staff: bool, events: list[Event] | None = None,
                     message: str | None = None) -> ApplicationView:
    """The view of ``record`` (``staff``: with the credit report)."""
    zh, en = LABELS[record.status]
    return ApplicationView(
        application_id=record.id, reference=reference(record.id), status=record.status.value, status_label_zh=zh,
        status_label_en=en, version=record.version, channel=record.channel,
        from_chat_session=record.session_id is not None, terms=record.terms, profile=record.profile,
        personal=record.personal.masked() if record.personal else None, consents=record.consents, risk=record.risk,
        decision=record.decision, credit_report=record.credit_report if staff else None,
        fraud=record.fraud if staff else None, contract=record.contract,
        signature=record.signature, next_actions=actions_for(record), customer_message=message,
        created_at=record.created_at, updated_at=record.updated_at,
        events=None if events is None else [
            EventView(action=e.action, from_status=e.from_status, to_status=e.to_status, actor=e.actor.kind,
                      actor_id=e.actor.id, reason=e.reason, version=e.version, at=e.at) for e in events],
    )


def queue_item(record: ApplicationRecord) -> QueueItem:
    """The queue line of ``record`` (for staff: it carries the fraud signals)."""
    t = record.terms
    fraud = record.fraud.assessment if record.fraud else None
    vehicle = f"{t.vehicle.brand} {t.vehicle.series}" if t.vehicle else None
    return QueueItem(application_id=record.id, reference=reference(record.id), status=record.status.value,
                     channel=record.channel, principal=str(t.principal), term_months=t.term_months,
                     monthly_payment=str(t.monthly_payment) if t.monthly_payment is not None else None,
                     apr=str(t.apr) if t.apr is not None else None, vehicle=vehicle,
                     risk_decision=record.risk.decision if record.risk else None,
                     risk_grade=record.risk.grade if record.risk else None,
                     risk_score=record.risk.score if record.risk else None,
                     risk_reasons=list(record.risk.reasons) if record.risk else [],
                     fraud_decision=fraud.decision.value if fraud else None,
                     fraud_score=fraud.score if fraud else None,
                     fraud_signals=[{"code": s.code, "severity": s.severity.value, "zh": s.zh}
                                    for s in fraud.signals] if fraud else [],
                     created_at=record.created_at, updated_at=record.updated_at)
