"""Loan applications and their events (every status change, who made it and why).

Personal data is never in clear: the borrower's name, ID number, phone and address are one encrypted
JSON (``personal_encrypted``, ``Services.cipher``), the ID number is also kept masked (for staff) and as a
keyed HMAC (to find a person's applications on request) — as are the phone number and the device
(the anti-fraud velocity checks join on them); the credit report is encrypted too. Loan terms,
the (non-identifying) applicant profile, consents and the risk outcome are plain JSON, read by the desk.

``version`` counts the row's writes: every update is a compare-and-swap on it
(:class:`assistant.origination.store.ApplicationStore`), so two officers acting on the same version
cannot both win. ``(status, created_at)`` is indexed: the officer desk's queue is a range of it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class ApplicationRow(Base):
    """One loan application (``id``: uuid4 hex)."""

    __tablename__ = "loan_applications"
    # The queue's order is (created_at, id): both indexes end with id, so no page needs a sort.
    __table_args__ = (Index("ix_loan_applications_status_created", "status", "created_at", "id"),
                      Index("ix_loan_applications_created", "created_at", "id"),
                      Index("ix_loan_applications_fraud_created", "fraud_decision", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    channel: Mapped[str] = mapped_column(String(16))  # app | web | wechat | api | ...
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    api_key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    terms: Mapped[str] = mapped_column(Text)  # JSON: the offer chosen (money as decimal strings)
    profile: Mapped[str] = mapped_column(Text, default="{}")  # JSON: income, employment, home, debts...
    personal_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    borrower_id_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    borrower_id_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Keyed HMACs of the phone number and the submitting device (the fraud velocity checks' join keys).
    phone_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    device_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    consents: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of consent records
    risk: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: decision, grade, PD, score, reasons
    risk_decision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    fraud: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the anti-fraud assessment (staff only)
    fraud_decision: Mapped[str | None] = mapped_column(String(8), nullable=True)  # pass | review | decline
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: conditions / reasons / documents
    credit_report_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    contract: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: number, document id, sha256
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: provider, id, time, hash
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ApplicationEventRow(Base):
    """One thing that happened to an application: a transition (``from_status`` → ``to_status``) or a
    record on it (consent, credit report, documents requested), with the actor and the reason."""

    __tablename__ = "application_events"
    __table_args__ = (Index("ix_application_events_app_id", "application_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("loan_applications.id"))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    actor_kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer)  # the application's version this event produced
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
