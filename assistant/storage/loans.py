"""The loan book after the sale: loans, schedules, repayment events, monitoring and collection records.

Money is stored as integer fen (``*_fen`` columns): exact, and SUMs in SQL stay exact and fast. Rates
are stored as integer parts per million (``*_ppm``: 0.045 → 45000), exact to the six decimals the
money core uses. :mod:`assistant.lifecycle.book` converts both to ``Decimal`` yuan at its boundary.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LoanRow(Base):
    """One loan, issued from an accepted quote, imported from CSV, or generated (``simulated`` = 1)."""

    __tablename__ = "loans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))  # issued | imported | simulated
    simulated: Mapped[int] = mapped_column(Integer, default=0, index=True)
    product_id: Mapped[str] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(2), nullable=True)
    vehicle_brand: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vehicle_series: Mapped[str | None] = mapped_column(String(60), nullable=True)
    vehicle_condition: Mapped[str] = mapped_column(String(8), default="new")
    energy_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    body_type: Mapped[str | None] = mapped_column(String(12), nullable=True)
    vehicle_age_years: Mapped[float] = mapped_column(Float, default=0.0)  # at disbursement
    mileage_km: Mapped[int | None] = mapped_column(Integer, nullable=True)  # at disbursement
    vehicle_price_fen: Mapped[int] = mapped_column(BigInteger)
    collateral_value_fen: Mapped[int] = mapped_column(BigInteger)  # at disbursement
    collateral_value_now_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    collateral_valued_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    insurance_expires_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(32), nullable=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    upfront_fees_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    monthly_payment_fen: Mapped[int] = mapped_column(BigInteger)
    total_interest_fen: Mapped[int] = mapped_column(BigInteger)
    annual_rate_ppm: Mapped[int] = mapped_column(Integer)
    apr_ppm: Mapped[int] = mapped_column(Integer)
    rate_type: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(20))
    term_months: Mapped[int] = mapped_column(Integer)
    disbursed_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | settled | defaulted
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ScheduleRowDB(Base):
    """One instalment of a loan's contractual schedule (from the money core's Quote)."""

    __tablename__ = "loan_schedule"

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    payment_fen: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    balance_fen: Mapped[int] = mapped_column(BigInteger)


class RepaymentEventRow(Base):
    """A repayment received. ``event_id`` is the payer's idempotency key: one event counts once."""

    __tablename__ = "repayment_events"
    __table_args__ = (Index("ix_repayment_loan_date", "loan_id", "paid_on"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16), default="auto_debit")
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | csv | simulated
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RepaymentExceptionRow(Base):
    """The record of every event that was not simply applied: rejected, ignored or reconciled."""

    __tablename__ = "repayment_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    loan_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # unknown_loan | duplicate | conflicting_duplicate | ...
    action: Mapped[str] = mapped_column(String(12))  # rejected | ignored | reconciled
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class LoanStateRow(Base):
    """Each loan's position as of the last recomputation (what the dashboard aggregates in SQL)."""

    __tablename__ = "loan_state"
    __table_args__ = (Index("ix_loan_state_level_bucket", "level", "bucket"),)

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    simulated: Mapped[int] = mapped_column(Integer, default=0)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(4), default="M0")
    arrears_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    outstanding_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    periods_due: Mapped[int] = mapped_column(Integer, default=0)
    periods_paid: Mapped[int] = mapped_column(Integer, default=0)
    missed_6m: Mapped[int] = mapped_column(Integer, default=0)
    partial_6m: Mapped[int] = mapped_column(Integer, default=0)
    max_dpd_12m: Mapped[int] = mapped_column(Integer, default=0)
    next_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    next_due_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_paid_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MonitorRunRow(Base):
    """One monitoring pass over the book."""

    __tablename__ = "monitor_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    loans: Mapped[int] = mapped_column(Integer, default=0)
    level1: Mapped[int] = mapped_column(Integer, default=0)
    level2: Mapped[int] = mapped_column(Integer, default=0)
    level3: Mapped[int] = mapped_column(Integer, default=0)
    model_version: Mapped[str] = mapped_column(String(40), default="")


class LoanWarningRow(Base):
    """A warning raised by a monitoring pass: level 1 关注 / 2 预警 / 3 高危, with bilingual reasons (JSON)."""

    __tablename__ = "loan_warnings"
    __table_args__ = (Index("ix_loan_warnings_run_level", "run_id", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"))
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(24), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class BucketHistoryRow(Base):
    """A loan's delinquency bucket at a month end (for roll rates)."""

    __tablename__ = "bucket_history"

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)  # "2026-10"
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(4))
    outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class RollRateRow(Base):
    """Loans moving from one bucket at a month end to another at the next (aggregated by a pass)."""

    __tablename__ = "roll_rates"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    from_bucket: Mapped[str] = mapped_column(String(4), primary_key=True)
    to_bucket: Mapped[str] = mapped_column(String(4), primary_key=True)
    loans: Mapped[int] = mapped_column(Integer)
    outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class StressFlagRow(Base):
    """An external stress signal on a region or an industry (e.g. plant closures, a sector downturn)."""

    __tablename__ = "stress_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))  # region | industry
    key: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[int] = mapped_column(Integer, default=1)  # 1 elevated, 2 severe
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reason_zh: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="manual")


class CollectionContactRow(Base):
    """A collection contact made (or attempted): the record the conduct rules are checked against."""

    __tablename__ = "collection_contacts"
    __table_args__ = (Index("ix_collection_contacts_loan_at", "loan_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"))
    channel: Mapped[str] = mapped_column(String(16))  # sms | app_push | wechat | call | letter
    party: Mapped[str] = mapped_column(String(16), default="borrower")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    template: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)  # reached | no_answer | promise ...
    promised_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    promised_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class SimulationTruthRow(Base):
    """Ground truth of a simulated loan (never read by monitoring): did it go bad after ``as_of``?"""

    __tablename__ = "simulation_truth"

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(16))  # on_time | late | cured | default
    bad_by_as_of: Mapped[int] = mapped_column(Integer)  # already 90+ days past due at as_of
    goes_bad: Mapped[int] = mapped_column(Integer)  # 90+ days past due within the horizon after as_of
    bad_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    horizon_days: Mapped[int] = mapped_column(Integer)


class LoanSessionLinkRow(Base):
    """A chat session that has proved who the customer is (app login): it may see that customer's loans.

    The session id is a bearer credential, so only its hash is kept here.
    """

    __tablename__ = "loan_session_links"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class BookMetaRow(Base):
    """Key/value facts about the book (e.g. the date a simulated book was generated for)."""

    __tablename__ = "loan_book_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
