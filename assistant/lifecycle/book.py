"""The loan book: loans issued from accepted quotes (or imported from CSV), their schedules, and the
reconciliation of repayment events.

Reconciliation rules (issue 9, "bad input"):

- an event for a loan the book does not hold is **rejected**, with a record;
- an event whose ``event_id`` was seen before is **never counted twice**: identical → ``duplicate``
  (ignored, recorded); same id but different loan/date/amount → ``conflicting_duplicate`` (rejected);
- an event dated before an event already on the loan (out of order) is **reconciled**: it is placed on
  its own payment date and the whole allocation is recomputed, with a record of the DPD before/after;
- non-positive or sub-fen amounts, dates before disbursement or in the future are rejected;
- money beyond everything the schedule asks for is accepted and recorded as ``overpayment`` (a credit
  to refund), never silently absorbed.

Every schedule comes from the money core (:func:`assistant.domain.quote.build_quote`): the book never
takes a schedule on trust from a file or a caller.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import String, delete, func, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.domain.limits import (
    MAX_LOAN_YUAN,
    MAX_MILEAGE_KM,
    AmountYuan,
    AnnualRate,
    FiniteDecimal,
    Int,
    LoanYuan,
    PriceYuan,
)
from assistant.domain.money import Money, Rate, fen, from_fen, percent_str, to_decimal, to_fen
from assistant.domain.quote import Quote, QuoteRequest, build_quote, check_consistency
from assistant.domain.schedule import Method, RateType
from assistant.errors import Forbidden, InvalidInput, NotFound
from assistant.lifecycle.ledger import (
    DEFAULT_DPD,
    GRACE_DAYS,
    Behaviour,
    Ledger,
    PaymentTuple,
    ScheduleTuple,
    add_months,
    bucket_of,
)
from assistant.storage.loans import (
    LoanRow,
    LoanSessionLinkRow,
    LoanStateRow,
    LoanWarningRow,
    RepaymentEventRow,
    RepaymentExceptionRow,
    ScheduleRowDB,
)

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no DST in China: a fixed offset is exact
CHUNK = 500  # ids per IN (...) clause: well under SQLite's variable limit
PPM = Decimal(1_000_000)
# Channels used by staff behind an API key or a terminal (never a customer's chat): they may name any loan.
STAFF_CHANNELS = frozenset({"copilot", "cli", "staff", "dashboard"})


def china_today() -> dt.date:
    """Today's date in China (due dates, DPD and contact hours are local)."""
    return dt.datetime.now(CHINA_TZ).date()


def rate_to_ppm(rate: Decimal) -> int:
    """A rate fraction → parts per million (6 decimals, exact)."""
    return int((to_decimal(rate) * PPM).to_integral_value())


def ppm_to_rate(ppm: int) -> Decimal:
    """Parts per million → rate fraction."""
    return (Decimal(ppm) / PPM).normalize()


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def session_hash(session_id: str) -> str:
    """A one-way stand-in for a chat session id (the id itself is the customer's credential)."""
    return hashlib.sha256(f"loan-assistant/loan-link/{session_id}".encode()).hexdigest()[:48]


def _fetch(conn: Any, query: Any, raw: bool) -> Sequence[Sequence[Any]]:
    """Rows of ``query``; a whole-table read (no bound parameters) goes straight to the DB-API cursor,
    skipping SQLAlchemy's per-row objects — half the time of a 10,000-loan monitoring pass otherwise."""
    if not raw:
        return conn.execute(query).all()
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(query.compile(dialect=conn.dialect)))
        return cursor.fetchall()
    finally:
        cursor.close()


def _dates(values: Iterable[str | dt.date]) -> dict[Any, dt.date]:
    """Raw date values (ISO strings from SQLite, dates from PostgreSQL) → ``date``, each distinct one parsed once."""
    return {v: v if isinstance(v, dt.date) else dt.date.fromisoformat(v[:10]) for v in set(values)}


# --- request / response models ---------------------------------------------------------------------
class VehicleInfo(BaseModel):
    """The financed car (the collateral)."""

    brand: str | None = None
    series: str | None = None
    condition: Literal["new", "used"] = "new"
    energy_type: str | None = Field(default=None, description="ice | bev | phev | hev | nev")
    body_type: str | None = None
    vehicle_age_years: float = Field(default=0.0, ge=0, le=30, allow_inf_nan=False)
    mileage_km: Int | None = Field(default=None, ge=0, le=MAX_MILEAGE_KM)
    vehicle_price: PriceYuan = Field(description="车价（元）")
    collateral_value: PriceYuan | None = Field(default=None, description="评估价（元）; default the price")
    insurance_expires_on: dt.date | None = None


class IssueLoan(BaseModel):
    """An accepted offer to book: the quoted terms plus who borrowed and against which car."""

    customer_id: str = Field(min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=40)
    principal: LoanYuan
    annual_rate: AnnualRate
    term_months: Int = Field(ge=1, le=60)
    method: Method = Method.EQUAL_INSTALLMENT
    rate_type: RateType = RateType.NOMINAL
    upfront_fees: AmountYuan = Decimal("0")
    vehicle: VehicleInfo
    grade: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=32)
    industry: str | None = Field(default=None, max_length=32)
    disbursed_on: dt.date | None = None
    loan_id: str | None = Field(default=None, min_length=1, max_length=40)

    def quote_request(self) -> QuoteRequest:
        """The money-core request these terms describe."""
        return QuoteRequest(principal=self.principal, annual_rate=self.annual_rate, term_months=self.term_months,
                            method=self.method, rate_type=self.rate_type, upfront_fees=self.upfront_fees)


class RepaymentIn(BaseModel):
    """One repayment event as a payment channel reports it."""

    event_id: str = Field(min_length=1, max_length=64, description="idempotency key of the payment")
    loan_id: str = Field(min_length=1, max_length=40)
    paid_on: dt.date
    # Non-positive amounts are accepted here and rejected event by event in the report; only values no
    # payment channel can send (NaN, 10^30) are a 422 for the batch.
    amount: FiniteDecimal = Field(ge=-MAX_LOAN_YUAN, le=MAX_LOAN_YUAN, description="元")
    channel: str = Field(default="auto_debit", max_length=16)

    @field_validator("event_id", "loan_id")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def fingerprint(self) -> tuple[str, dt.date, int]:
        """What makes two reports of one event the same event."""
        return (self.loan_id, self.paid_on, to_fen(self.amount))


class ExceptionOut(BaseModel):
    """A record of an event that was rejected, ignored or reconciled."""

    event_id: str | None
    loan_id: str | None
    kind: str
    action: str
    detail: str


class ReconcileReport(BaseModel):
    """What happened to a batch of repayment events."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    reconciled: int = 0
    applied_amount: Money = Decimal("0")
    loans_touched: list[str] = Field(default_factory=list)
    records: list[ExceptionOut] = Field(default_factory=list)


class ImportReport(BaseModel):
    """What happened to a CSV of loans."""

    rows: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    problems: list[str] = Field(default_factory=list)


class ScheduleLine(BaseModel):
    """One instalment as shown to the customer."""

    period: int
    due_on: dt.date
    payment: Money
    principal: Money
    interest: Money
    balance: Money


class LoanStatus(BaseModel):
    """A loan's position: what is owed, when, and how it stands."""

    loan_id: str
    product_id: str
    simulated: bool
    status: str
    principal: Money
    annual_rate: Rate
    rate_type: str
    apr: Rate
    apr_percent: str
    term_months: int
    monthly_payment: Money
    disbursed_on: dt.date
    as_of: dt.date
    periods_paid: int
    periods_due: int
    outstanding_principal: Money
    paid_total: Money
    dpd: int
    bucket: str
    in_grace: bool
    arrears: Money
    next_due_on: dt.date | None
    next_due_amount: Money | None
    last_paid_on: dt.date | None
    warning_level: int
    upcoming: list[ScheduleLine]


# --- the book --------------------------------------------------------------------------------------
class LoanBook:
    """Loans, schedules and repayments in the shared database."""

    def __init__(self, sessions: sessionmaker, *, audit: Any = None,
                 today: Callable[[], dt.date] = china_today) -> None:
        self.sessions = sessions
        self.audit = audit
        self.today = today

    # --- issuing -----------------------------------------------------------------------------------
    def issue_loan(self, req: IssueLoan, *, source: str = "issued") -> LoanStatus:
        """Book a loan from accepted terms: the schedule and APR come from the money core."""
        return self.issue_from_quote(build_quote(req.quote_request()), req, source=source)

    def issue_from_quote(self, q: Quote, req: IssueLoan, *, source: str = "issued") -> LoanStatus:
        """Book a loan from a Quote already shown to (and accepted by) the customer.

        The quote is re-checked (totals vs schedule) and must match the request's terms, so a quote
        edited on the way cannot become a contract.
        """
        check_consistency(q)
        if (q.principal, q.term_months) != (req.principal, req.term_months) or q.annual_rate != req.annual_rate:
            raise InvalidInput("报价与贷款条件不一致", "the quote does not match the loan terms", field="quote")
        disbursed = req.disbursed_on or self.today()
        loan_id = req.loan_id or f"L{disbursed:%Y%m%d}{uuid.uuid4().hex[:8].upper()}"
        with self.sessions() as s:
            if s.get(LoanRow, loan_id) is not None:
                raise InvalidInput(f"贷款编号 {loan_id} 已存在", f"loan id {loan_id} already exists", field="loan_id")
            s.connection().execute(LoanRow.__table__.insert(), [loan_values(loan_id, req, q, disbursed, source)])
            s.connection().execute(ScheduleRowDB.__table__.insert(), schedule_rows(loan_id, q, disbursed))
            s.commit()
        if self.audit is not None:
            self.audit.record("loan_issued", None, {"loan_id": loan_id, "product_id": req.product_id,
                                                    "principal": q.principal, "apr": q.apr, "source": source})
        self.refresh_states([loan_id])
        return self.status(loan_id)

    # --- CSV import --------------------------------------------------------------------------------
    def import_loans_csv(self, source: Path | str) -> ImportReport:
        """Import loans from CSV (one row per loan; schedules regenerated by the money core).

        Columns: loan_id, customer_id, product_id, principal, annual_rate, term_months, disbursed_on,
        vehicle_price, and optionally method, rate_type, upfront_fees, grade, region, industry,
        vehicle_brand, vehicle_series, vehicle_condition, energy_type, body_type, vehicle_age_years,
        mileage_km, collateral_value, insurance_expires_on, monthly_payment (checked against the quote).
        A row that cannot be a loan is rejected with its line number; a loan id already in the book with
        the same terms is skipped, with different terms rejected.
        """
        report = ImportReport()
        for line, row in _csv_rows(source):
            report.rows += 1
            try:
                req = _issue_from_csv(row)
                q = build_quote(req.quote_request())
            except (ValidationError, InvalidInput, InvalidOperation, ValueError) as exc:
                report.rejected += 1
                report.problems.append(f"第{line}行 / line {line}: {_short_error(exc)}")
                continue
            stated = row.get("monthly_payment", "").strip()
            if stated and abs(to_fen(stated) - to_fen(q.monthly_payment)) > 1:
                report.rejected += 1
                report.problems.append(
                    f"第{line}行 / line {line}: 月供 {stated} 与按条款计算的 {q.monthly_payment} 不符 / monthly "
                    f"payment {stated} disagrees with {q.monthly_payment} computed from the terms")
                continue
            with self.sessions() as s:
                existing = s.get(LoanRow, req.loan_id)
            if existing is not None:
                same = (existing.principal_fen, existing.term_months, existing.annual_rate_ppm) == (
                    to_fen(req.principal), req.term_months, rate_to_ppm(req.annual_rate))
                if same:
                    report.skipped += 1
                else:
                    report.rejected += 1
                    report.problems.append(f"第{line}行 / line {line}: 贷款 {req.loan_id} 已存在且条款不同 / loan "
                                           f"{req.loan_id} exists with different terms")
                continue
            self.issue_from_quote(q, req, source="imported")
            report.imported += 1
        return report

    def import_repayments_csv(self, source: Path | str) -> ReconcileReport:
        """Repayment events from CSV (event_id, loan_id, paid_on, amount[, channel]), reconciled as a batch.

        A row whose fields cannot be read at all is rejected with a record, like any other bad event.
        """
        events: list[RepaymentIn] = []
        unreadable: list[ExceptionOut] = []
        for line, row in _csv_rows(source):
            try:
                events.append(RepaymentIn(event_id=row.get("event_id", ""), loan_id=row.get("loan_id", ""),
                                          paid_on=row.get("paid_on", ""), amount=row.get("amount", ""),
                                          channel=row.get("channel") or "auto_debit"))
            except ValidationError as exc:
                detail = f"第{line}行无法读取 / line {line} unreadable: {_short_error(exc)}"
                unreadable.append(ExceptionOut(event_id=row.get("event_id") or None,
                                               loan_id=row.get("loan_id") or None, kind="unreadable",
                                               action="rejected", detail=detail))
        report = self.record_repayments(events, source="csv")
        if unreadable:
            with self.sessions() as s:
                s.add_all(_exception_row(rec, {"line": rec.detail}) for rec in unreadable)
                s.commit()
            report.received += len(unreadable)
            report.rejected += len(unreadable)
            report.records = unreadable + report.records
        return report

    # --- repayments --------------------------------------------------------------------------------
    def record_repayments(self, events: Iterable[RepaymentIn | dict[str, Any]], *, source: str = "api",
                          refresh: bool = True) -> ReconcileReport:
        """Reconcile and apply a batch of repayment events (see the module docstring for the rules)."""
        batch = [e if isinstance(e, RepaymentIn) else RepaymentIn.model_validate(e) for e in events]
        try:
            return self._record(batch, source, refresh)
        except IntegrityError:
            # Another writer stored one of these event ids between our check and our insert: run the
            # batch again, and that event is now a recorded duplicate instead of a second count.
            return self._record(batch, source, refresh)

    def _record(self, batch: list[RepaymentIn], source: str, refresh: bool) -> ReconcileReport:
        report = ReconcileReport(received=len(batch))
        today = self.today()
        records: list[tuple[ExceptionOut, dict[str, Any]]] = []

        def note(event: RepaymentIn | None, kind: str, action: str, detail: str, loan_id: str | None = None) -> None:
            out = ExceptionOut(event_id=event.event_id if event else None,
                               loan_id=loan_id or (event.loan_id if event else None),
                               kind=kind, action=action, detail=detail)
            records.append((out, event.model_dump(mode="json") if event else {}))
            if action == "rejected":
                report.rejected += 1
            elif kind == "duplicate":
                report.duplicates += 1
            else:
                report.reconciled += 1

        with self.sessions() as s:
            ids = list({e.event_id for e in batch})
            seen: dict[str, tuple[str, dt.date, int]] = {}
            for part in chunks(ids):
                for ev_id, loan_id, paid_on, amount in s.execute(
                        select(RepaymentEventRow.event_id, RepaymentEventRow.loan_id, RepaymentEventRow.paid_on,
                               RepaymentEventRow.amount_fen).where(RepaymentEventRow.event_id.in_(part))):
                    seen[ev_id] = (loan_id, paid_on, amount)
            loan_ids = list({e.loan_id for e in batch})
            loans: dict[str, dt.date] = {}
            latest: dict[str, dt.date] = {}
            for part in chunks(loan_ids):
                loans.update(s.execute(select(LoanRow.id, LoanRow.disbursed_on).where(LoanRow.id.in_(part))).all())
                latest.update(s.execute(
                    select(RepaymentEventRow.loan_id, func.max(RepaymentEventRow.paid_on))
                    .where(RepaymentEventRow.loan_id.in_(part)).group_by(RepaymentEventRow.loan_id)).all())
            accepted: list[dict[str, Any]] = []
            out_of_order: dict[str, list[RepaymentIn]] = defaultdict(list)
            for event in batch:
                previous = seen.get(event.event_id)
                if previous is not None:
                    if previous == event.fingerprint():
                        note(event, "duplicate", "ignored", "同一还款事件已入账，不重复计算 / event already applied; "
                                                           "not counted again")
                    else:
                        note(event, "conflicting_duplicate", "rejected",
                             f"事件编号已用于另一笔还款（{previous[0]} {previous[1]} {from_fen(previous[2])}元） / "
                             f"event id already used for a different repayment")
                    continue
                problem = _event_problem(event, loans.get(event.loan_id), today)
                if problem is not None:
                    note(event, problem[0], "rejected", problem[1])
                    continue
                seen[event.event_id] = event.fingerprint()
                last = latest.get(event.loan_id)
                if last is not None and event.paid_on < last:
                    out_of_order[event.loan_id].append(event)
                latest[event.loan_id] = max(last or event.paid_on, event.paid_on)
                accepted.append({"event_id": event.event_id, "loan_id": event.loan_id, "paid_on": event.paid_on,
                                 "amount_fen": to_fen(event.amount), "channel": event.channel, "source": source,
                                 "received_at": dt.datetime.now(dt.UTC)})
            touched = sorted({a["loan_id"] for a in accepted})
            # two bulk loads (before / after) rather than a query per loan: a CSV may touch thousands
            prior = self.load_ledgers(s, touched) if touched else {}
            if accepted:
                s.connection().execute(RepaymentEventRow.__table__.insert(), accepted)
            after = self.load_ledgers(s, touched) if touched else {}
            for loan_id, late_events in out_of_order.items():
                was, now = prior[loan_id].dpd(today), after[loan_id].dpd(today)
                for event in late_events:
                    note(event, "out_of_order", "reconciled",
                         f"还款日期 {event.paid_on} 早于已入账事件，已按实际日期重新分摊"
                         f"（当前逾期天数 {was}→{now}） / dated before events already applied; placed on its own "
                         f"date and the allocation recomputed (DPD now {was}→{now})")
            for loan_id in touched:
                led = after[loan_id]
                extra = led.paid_by(dt.date.max) - led.total_due
                earlier = prior[loan_id].paid_by(dt.date.max) - led.total_due
                if extra > 0 and extra > earlier:
                    note(None, "overpayment", "reconciled",
                         f"已收款超出全部应还 {from_fen(extra)} 元，作为溢缴款待退还 / {from_fen(extra)} yuan received "
                         f"beyond everything due; held as a credit to refund", loan_id=loan_id)
            s.add_all(_exception_row(out, payload) for out, payload in records)
            s.commit()
        report.applied = len(accepted)
        report.applied_amount = from_fen(sum(a["amount_fen"] for a in accepted))
        report.loans_touched = touched
        report.records = [out for out, _ in records]
        if refresh and touched:
            self.refresh_states(touched)
        return report

    def _ledger(self, s: Session, loan_id: str) -> Ledger:
        return self.load_ledgers(s, [loan_id])[loan_id]

    # --- reading -----------------------------------------------------------------------------------
    def load_ledgers(self, s: Session, loan_ids: Sequence[str] | None = None) -> dict[str, Ledger]:
        """Ledgers for ``loan_ids`` (all loans when None), with two bulk queries rather than one per loan."""
        schedules: dict[str, list[ScheduleTuple]] = defaultdict(list)
        payments: dict[str, list[PaymentTuple]] = defaultdict(list)
        # Dates are fetched raw and parsed once per distinct value: on a 10,000-loan book the ORM's
        # per-row date processing would cost more than the whole monitoring pass.
        sched_cols = (ScheduleRowDB.loan_id, ScheduleRowDB.period, type_coerce(ScheduleRowDB.due_on, String),
                      ScheduleRowDB.payment_fen, ScheduleRowDB.principal_fen, ScheduleRowDB.interest_fen,
                      ScheduleRowDB.balance_fen)
        pay_cols = (RepaymentEventRow.loan_id, type_coerce(RepaymentEventRow.paid_on, String),
                    RepaymentEventRow.amount_fen, RepaymentEventRow.event_id)
        parts: Iterable[Sequence[str] | None] = [None] if loan_ids is None else chunks(list(loan_ids))
        conn = s.connection()
        for part in parts:
            q_sched, q_pay = select(*sched_cols), select(*pay_cols)
            if part is not None:
                q_sched = q_sched.where(ScheduleRowDB.loan_id.in_(part))
                q_pay = q_pay.where(RepaymentEventRow.loan_id.in_(part))
            rows = _fetch(conn, q_sched, part is None)
            day = _dates(r[2] for r in rows)
            for lid, period, due, pay, prin, intr, bal in rows:
                schedules[lid].append((period, day[due], pay, prin, intr, bal))
            rows = _fetch(conn, q_pay, part is None)
            day = _dates(r[1] for r in rows)
            for lid, paid_on, amount, ev in rows:
                payments[lid].append((day[paid_on], amount, ev))
        return {lid: Ledger.from_rows(rows, payments.get(lid, [])) for lid, rows in schedules.items()}

    def get_loan(self, loan_id: str) -> LoanRow:
        """The loan row, or NotFound."""
        with self.sessions() as s:
            row = s.get(LoanRow, loan_id)
        if row is None:
            raise NotFound(f"没有编号为 {loan_id} 的贷款", f"no loan with id {loan_id}")
        return row

    def loan_ids_for_customer(self, customer_id: str) -> list[str]:
        """The customer's loans, newest first."""
        with self.sessions() as s:
            return list(s.scalars(select(LoanRow.id).where(LoanRow.customer_id == customer_id)
                                  .order_by(LoanRow.disbursed_on.desc())))

    def status(self, loan_id: str, as_of: dt.date | None = None) -> LoanStatus:
        """Where a loan stands on ``as_of`` (default today), from its schedule and every repayment."""
        day = as_of or self.today()
        row = self.get_loan(loan_id)
        with self.sessions() as s:
            led = self._ledger(s, loan_id)
            state = s.get(LoanStateRow, loan_id)
        b = led.behaviour(day, row.disbursed_on)
        upcoming = [
            ScheduleLine(period=i.period, due_on=i.due_on, payment=from_fen(i.amount), principal=from_fen(i.principal),
                         interest=from_fen(i.interest), balance=from_fen(i.balance))
            for i in led.instalments[b.periods_paid:b.periods_paid + 3]
        ]
        apr = ppm_to_rate(row.apr_ppm)
        return LoanStatus(
            loan_id=row.id, product_id=row.product_id, simulated=bool(row.simulated),
            status=loan_status_label(b),
            principal=from_fen(row.principal_fen), annual_rate=ppm_to_rate(row.annual_rate_ppm),
            rate_type=row.rate_type, apr=apr, apr_percent=percent_str(apr), term_months=row.term_months,
            monthly_payment=from_fen(row.monthly_payment_fen), disbursed_on=row.disbursed_on, as_of=day,
            periods_paid=b.periods_paid, periods_due=b.periods_due,
            outstanding_principal=from_fen(b.outstanding_principal), paid_total=from_fen(b.paid_total),
            dpd=b.dpd, bucket=b.bucket, in_grace=0 < b.dpd <= GRACE_DAYS, arrears=from_fen(b.arrears),
            next_due_on=b.next_due_on,
            next_due_amount=from_fen(b.next_due_amount) if b.next_due_amount is not None else None,
            last_paid_on=b.last_paid_on, warning_level=state.level if state is not None else 0, upcoming=upcoming,
        )

    def latest_warning(self, loan_id: str) -> list[dict[str, Any]]:
        """The reasons of the loan's warning in the latest monitoring pass that flagged it ([] if none)."""
        with self.sessions() as s:
            row = s.scalars(select(LoanWarningRow).where(LoanWarningRow.loan_id == loan_id)
                            .order_by(LoanWarningRow.id.desc()).limit(1)).first()
            state = s.get(LoanStateRow, loan_id)
        if row is None or state is None or state.run_id != row.run_id:
            return []  # never flagged, or the latest pass no longer flags it
        return list(json.loads(row.reasons))

    def exceptions(self, limit: int = 100, loan_id: str | None = None) -> list[ExceptionOut]:
        """The latest reconciliation records."""
        with self.sessions() as s:
            q = select(RepaymentExceptionRow).order_by(RepaymentExceptionRow.id.desc()).limit(limit)
            if loan_id:
                q = q.where(RepaymentExceptionRow.loan_id == loan_id)
            return [ExceptionOut(event_id=r.event_id, loan_id=r.loan_id, kind=r.kind, action=r.action, detail=r.detail)
                    for r in s.scalars(q)]

    # --- loan state (what the dashboard aggregates) ------------------------------------------------
    def refresh_states(self, loan_ids: Sequence[str] | None = None,
                       as_of: dt.date | None = None) -> dict[str, Behaviour]:
        """Recompute ``loan_state`` (and settled/defaulted status) for these loans (all when None).

        Warning level and score are kept from the last monitoring pass; ``monitor`` overwrites them.
        """
        day = as_of or self.today()
        with self.sessions() as s:
            meta = loan_meta(s, loan_ids)
            ledgers = self.load_ledgers(s, loan_ids)
            behaviours = {lid: led.behaviour(day, meta[lid][0]) for lid, led in ledgers.items()}
            kept: dict[str, tuple[int, float | None, int | None]] = {}
            for part in chunks(list(behaviours)):
                for lid, level, score, run_id in s.execute(
                        select(LoanStateRow.loan_id, LoanStateRow.level, LoanStateRow.score, LoanStateRow.run_id)
                        .where(LoanStateRow.loan_id.in_(part))):
                    kept[lid] = (level, score, run_id)
            write_states(s, behaviours, {lid: m[1] for lid, m in meta.items()}, kept)
            s.commit()
        return behaviours

    # --- who may see which loan --------------------------------------------------------------------
    def link_session(self, session_id: str, customer_id: str) -> None:
        """Record that a chat session belongs to a logged-in customer (called by the app after login)."""
        with self.sessions() as s:
            s.merge(LoanSessionLinkRow(session_hash=session_hash(session_id), customer_id=customer_id))
            s.commit()

    def customer_for_session(self, session_id: str | None) -> str | None:
        """The customer a session was linked to, if any."""
        if not session_id:
            return None
        with self.sessions() as s:
            row = s.get(LoanSessionLinkRow, session_hash(session_id))
        return row.customer_id if row is not None else None

    def resolve_loan(self, loan_id: str | None, *, session_id: str | None, channel: str) -> str:
        """The loan a caller may see: staff channels name any loan; a customer only their own.

        A customer's chat must have been linked to them (app login) — a loan number alone proves
        nothing about who is asking, and a stranger must not learn someone else's arrears.
        """
        if channel in STAFF_CHANNELS:
            if not loan_id:
                raise InvalidInput("请提供贷款编号", "loan_id is required", field="loan_id")
            self.get_loan(loan_id)
            return loan_id
        customer = self.customer_for_session(session_id)
        if customer is None:
            raise Forbidden("为保护您的信息，请先在App登录后再查询贷款，或拨打400-800-0000由客服核实身份",
                            "for your privacy, log in to the app first (or call 400-800-0000 to verify who you are)")
        owned = self.loan_ids_for_customer(customer)
        if loan_id:
            if loan_id not in owned:
                raise NotFound("未找到该贷款", "loan not found")
            return loan_id
        if not owned:
            raise NotFound("您名下暂无贷款", "you have no loans with us")
        return owned[0]


# --- row builders (shared with the simulator) -----------------------------------------------------
def loan_values(loan_id: str, req: IssueLoan, q: Quote, disbursed: dt.date, source: str,
                simulated: bool = False) -> dict[str, Any]:
    """The ``loans`` row (as a dict, for bulk inserts) for a booked quote."""
    v = req.vehicle
    price = to_fen(v.vehicle_price)
    value = to_fen(v.collateral_value) if v.collateral_value is not None else price
    return {
        "id": loan_id, "customer_id": req.customer_id, "source": source, "simulated": int(simulated),
        "product_id": req.product_id, "grade": req.grade, "vehicle_brand": v.brand, "vehicle_series": v.series,
        "vehicle_condition": v.condition, "energy_type": v.energy_type, "body_type": v.body_type,
        "vehicle_age_years": v.vehicle_age_years, "mileage_km": v.mileage_km, "vehicle_price_fen": price,
        "collateral_value_fen": value, "collateral_value_now_fen": value, "collateral_valued_on": disbursed,
        "insurance_expires_on": v.insurance_expires_on or add_months(disbursed, 12),
        "region": req.region, "industry": req.industry, "principal_fen": to_fen(q.principal),
        "upfront_fees_fen": to_fen(q.upfront_fees), "monthly_payment_fen": to_fen(q.monthly_payment),
        "total_interest_fen": to_fen(q.total_interest), "annual_rate_ppm": rate_to_ppm(q.annual_rate),
        "apr_ppm": rate_to_ppm(q.apr), "rate_type": q.rate_type.value, "method": q.method.value,
        "term_months": q.term_months, "disbursed_on": disbursed, "status": "active",
        "created_at": dt.datetime.now(dt.UTC),
    }


def schedule_fen(q: Quote) -> list[tuple[int, int, int, int, int]]:
    """The quote's rows as (period, payment, principal, interest, balance) in fen."""
    return [(r.period, to_fen(r.payment), to_fen(r.principal), to_fen(r.interest), to_fen(r.balance))
            for r in q.schedule]


def schedule_rows(loan_id: str, q: Quote | list[tuple[int, int, int, int, int]],
                  disbursed: dt.date) -> list[dict[str, Any]]:
    """The ``loan_schedule`` rows: the quote's rows, due monthly on the disbursement day (clamped)."""
    rows = schedule_fen(q) if isinstance(q, Quote) else q
    return [
        {"loan_id": loan_id, "period": period, "due_on": add_months(disbursed, period), "payment_fen": pay,
         "principal_fen": prin, "interest_fen": intr, "balance_fen": bal}
        for period, pay, prin, intr, bal in rows
    ]


def loan_meta(s: Session, loan_ids: Sequence[str] | None) -> dict[str, tuple[dt.date, int]]:
    """Loan id → (disbursed on, simulated) for these loans (all when None)."""
    cols = select(LoanRow.id, LoanRow.disbursed_on, LoanRow.simulated)
    if loan_ids is None:
        return {lid: (day, sim) for lid, day, sim in s.connection().execute(cols)}
    out: dict[str, tuple[dt.date, int]] = {}
    for part in chunks(list(loan_ids)):
        out.update({lid: (day, sim) for lid, day, sim in s.connection().execute(cols.where(LoanRow.id.in_(part)))})
    return out


def write_states(s: Session, behaviours: dict[str, Behaviour], simulated: dict[str, int],
                 levels: dict[str, tuple[int, float | None, int | None]]) -> None:
    """Replace the ``loan_state`` rows of these loans and set each loan's status (caller commits)."""
    now = dt.datetime.now(dt.UTC)
    ids = list(behaviours)
    for part in chunks(ids):
        s.connection().execute(delete(LoanStateRow).where(LoanStateRow.loan_id.in_(part)))
    statuses = {lid: loan_status_label(b) for lid, b in behaviours.items()}
    rows = [state_row(lid, b, statuses[lid], simulated.get(lid, 0), levels.get(lid, (0, None, None)), now)
            for lid, b in behaviours.items()]
    for part in chunks(rows, 2000):
        s.connection().execute(LoanStateRow.__table__.insert(), list(part))
    by_status: dict[str, list[str]] = defaultdict(list)
    for lid, label in statuses.items():
        by_status[label].append(lid)
    for label, members in by_status.items():
        for part in chunks(members):
            s.connection().execute(update(LoanRow).where(LoanRow.id.in_(part)).values(status=label))


def state_row(loan_id: str, b: Behaviour, status: str, simulated: int,
              level: tuple[int, float | None, int | None], now: dt.datetime) -> dict[str, Any]:
    """A ``loan_state`` row from behaviour features and the warning (level, score, run)."""
    return {
        "loan_id": loan_id, "as_of": b.as_of, "status": status, "simulated": simulated, "dpd": b.dpd,
        "bucket": bucket_of(b.dpd), "arrears_fen": b.arrears, "outstanding_principal_fen": b.outstanding_principal,
        "paid_total_fen": b.paid_total, "periods_due": b.periods_due, "periods_paid": b.periods_paid,
        "missed_6m": b.missed_6m, "partial_6m": b.partial_6m, "max_dpd_12m": b.max_dpd_12m,
        "next_due_on": b.next_due_on, "next_due_fen": b.next_due_amount, "last_paid_on": b.last_paid_on,
        "level": level[0], "score": level[1], "run_id": level[2], "updated_at": now,
    }


def loan_status_label(b: Behaviour) -> str:
    """``settled`` once every instalment is paid, ``defaulted`` at 90+ days past due, else ``active``."""
    if b.outstanding_principal == 0 and b.arrears == 0:
        return "settled"
    return "defaulted" if b.dpd >= DEFAULT_DPD else "active"


def _event_problem(event: RepaymentIn, disbursed: dt.date | None, today: dt.date) -> tuple[str, str] | None:
    if disbursed is None:
        return ("unknown_loan", f"账本中没有贷款 {event.loan_id}，该笔还款未入账 / no loan {event.loan_id} in the "
                                "book; the repayment was not applied")
    if event.amount <= 0:
        return ("invalid_amount", "还款金额必须大于0 / amount must be greater than 0")
    if fen(event.amount) != event.amount:
        return ("invalid_amount", "金额最小单位为分 / amounts are in yuan with at most 2 decimals")
    if event.paid_on < disbursed:
        return ("before_disbursement", f"还款日期 {event.paid_on} 早于放款日 {disbursed} / paid before the loan was "
                                       "disbursed")
    if event.paid_on > today + dt.timedelta(days=1):
        return ("future_date", f"还款日期 {event.paid_on} 在未来 / payment dated in the future")
    return None


def _exception_row(out: ExceptionOut, payload: dict[str, Any]) -> RepaymentExceptionRow:
    return RepaymentExceptionRow(event_id=out.event_id, loan_id=out.loan_id, kind=out.kind, action=out.action,
                                 detail=out.detail, payload=json.dumps(payload, ensure_ascii=False, default=str))


def _csv_rows(source: Path | str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; ``source`` is a path or CSV text. A UTF-8 BOM (Excel) is accepted."""
    if isinstance(source, Path) or "\n" not in source:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"找不到文件 {path}", f"no such file: {path}", field="path")
        text = path.read_text(encoding="utf-8-sig")
    else:
        text = str(source).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidInput("CSV 文件为空或缺少表头", "the CSV is empty or has no header row", field="path")
    for index, row in enumerate(reader, start=2):
        yield index, {(k or "").strip(): (v or "").strip() for k, v in row.items()}


def _opt(row: dict[str, str], key: str) -> str | None:
    value = row.get(key, "").strip()
    return value or None


def _issue_from_csv(row: dict[str, str]) -> IssueLoan:
    if not _opt(row, "loan_id"):
        raise ValueError("缺少 loan_id / missing loan_id")
    vehicle = {
        "brand": _opt(row, "vehicle_brand"), "series": _opt(row, "vehicle_series"),
        "condition": _opt(row, "vehicle_condition") or "new", "energy_type": _opt(row, "energy_type"),
        "body_type": _opt(row, "body_type"), "vehicle_age_years": _opt(row, "vehicle_age_years") or 0,
        "mileage_km": _opt(row, "mileage_km"), "vehicle_price": row.get("vehicle_price", ""),
        "collateral_value": _opt(row, "collateral_value"), "insurance_expires_on": _opt(row, "insurance_expires_on"),
    }
    return IssueLoan.model_validate({
        "loan_id": row["loan_id"], "customer_id": row.get("customer_id", ""), "product_id": row.get("product_id", ""),
        "principal": row.get("principal", ""), "annual_rate": row.get("annual_rate", ""),
        "term_months": row.get("term_months", ""), "method": _opt(row, "method") or "equal_installment",
        "rate_type": _opt(row, "rate_type") or "nominal", "upfront_fees": _opt(row, "upfront_fees") or "0",
        "vehicle": vehicle, "grade": _opt(row, "grade"), "region": _opt(row, "region"),
        "industry": _opt(row, "industry"), "disbursed_on": row.get("disbursed_on", ""),
    })


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return f"字段 {field} 无效 / invalid field {field}: {first.get('msg', '')}"
    if isinstance(exc, InvalidInput):
        return exc.message
    return str(exc) or type(exc).__name__
