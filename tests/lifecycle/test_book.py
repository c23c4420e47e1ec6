"""The loan book: issuing from quotes, CSV import, and reconciliation of repayment events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from assistant.domain.quote import quote
from assistant.errors import Forbidden, InvalidInput, NotFound
from assistant.lifecycle.book import IssueLoan, LoanBook, VehicleInfo
from assistant.storage.loans import LoanStateRow, RepaymentEventRow, RepaymentExceptionRow, ScheduleRowDB
from tests.lifecycle.conftest import AS_OF, issue, pay_schedule

# The book's idempotency and aggregates are the database's work: on SQLite and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


def _paid_total(book: LoanBook, loan_id: str) -> Decimal:
    return book.status(loan_id).paid_total


def test_issue_loan_books_the_money_core_schedule(book: LoanBook) -> None:
    issue(book)
    q = quote(100000, "0.045", 24)
    st = book.status("L1")
    assert st.monthly_payment == q.monthly_payment and st.apr == q.apr and st.apr_percent == "4.50%"
    with book.sessions() as s:
        q_rows = select(ScheduleRowDB).where(ScheduleRowDB.loan_id == "L1").order_by(ScheduleRowDB.period)
        rows = list(s.scalars(q_rows))
    assert len(rows) == 24 and sum(r.principal_fen for r in rows) == 10_000_000 and rows[-1].balance_fen == 0
    assert [r.due_on for r in rows[:3]] == [dt.date(2026, 2, 15), dt.date(2026, 3, 15), dt.date(2026, 4, 15)]
    # nothing paid by AS_OF: ten instalments overdue since 15 Feb
    assert st.dpd == (AS_OF - dt.date(2026, 2, 15)).days and st.bucket == "M3+" and st.periods_paid == 0


def test_issue_rejects_duplicate_ids_and_impossible_terms(book: LoanBook) -> None:
    issue(book)
    with pytest.raises(InvalidInput, match="已存在"):
        issue(book)
    with pytest.raises(ValidationError, match="term_months"):
        issue(book, "L2", term=72)  # beyond the 60-month legal cap


def test_status_tracks_payments_and_grace(book: LoanBook) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 10))  # Feb … Oct on time; November (due 15 Nov) unpaid
    st = book.status("L1")
    assert st.periods_paid == 9 and st.dpd == 5 and st.bucket == "M1" and not st.in_grace
    assert st.arrears == st.monthly_payment
    assert book.status("L1", dt.date(2026, 11, 17)).in_grace
    assert st.next_due_on == dt.date(2026, 12, 15) and st.next_due_amount == 2 * st.monthly_payment


def test_unknown_loan_rejected_with_a_record(book: LoanBook) -> None:
    issue(book)
    report = book.record_repayments([{"event_id": "X1", "loan_id": "NOPE", "paid_on": "2026-03-01", "amount": 500}])
    assert (report.applied, report.rejected) == (0, 1)
    assert report.records[0].kind == "unknown_loan" and report.records[0].action == "rejected"
    with book.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RepaymentEventRow)) == 0
        kept = s.scalars(select(RepaymentExceptionRow)).one()
    assert kept.kind == "unknown_loan" and "NOPE" in kept.payload


def test_duplicate_events_are_never_counted_twice(book: LoanBook) -> None:
    issue(book)
    event = {"event_id": "PAY-1", "loan_id": "L1", "paid_on": "2026-02-15", "amount": "4364.85"}
    first = book.record_repayments([event])
    before = _paid_total(book, "L1")
    again = book.record_repayments([event, dict(event)])  # re-delivered twice
    assert first.applied == 1 and again.applied == 0 and again.duplicates == 2
    assert {r.kind for r in again.records} == {"duplicate"} and {r.action for r in again.records} == {"ignored"}
    assert _paid_total(book, "L1") == before == Decimal("4364.85")
    # the same id reused for a different payment is rejected, not applied
    clash = book.record_repayments([{**event, "amount": "100.00"}])
    assert clash.rejected == 1 and clash.records[0].kind == "conflicting_duplicate"
    assert _paid_total(book, "L1") == before


def test_duplicate_inside_one_batch_counts_once(book: LoanBook) -> None:
    issue(book)
    event = {"event_id": "B-1", "loan_id": "L1", "paid_on": "2026-02-15", "amount": "1000"}
    report = book.record_repayments([event, event, {**event, "amount": "2000"}])
    assert (report.applied, report.duplicates, report.rejected) == (1, 1, 1)
    assert _paid_total(book, "L1") == Decimal("1000.00")


def test_out_of_order_events_are_reconciled_to_the_same_state(book: LoanBook) -> None:
    issue(book)
    issue(book, "L2", "C2")
    with book.sessions() as s:
        led = book.load_ledgers(s, ["L1"])["L1"]
    due = [i.due_on for i in led.instalments[:4]]
    amount = Decimal(led.instalments[0].amount) / 100
    in_order = [{"event_id": f"A{k}", "loan_id": "L2", "paid_on": d, "amount": amount} for k, d in enumerate(due)]
    for event in in_order:
        book.record_repayments([event])
    # L1 receives the same payments, newest first (a batch file replayed backwards)
    reversed_events = [{**e, "event_id": f"R{k}", "loan_id": "L1"} for k, e in enumerate(in_order)][::-1]
    reports = [book.record_repayments([e]) for e in reversed_events]
    assert sum(r.reconciled for r in reports) == 3  # every event after the first arrived out of order
    record = reports[-1].records[0]
    assert record.kind == "out_of_order" and record.action == "reconciled" and "DPD" in record.detail
    a, b = book.status("L1"), book.status("L2")
    assert (a.dpd, a.arrears, a.periods_paid, a.outstanding_principal) == (b.dpd, b.arrears, b.periods_paid,
                                                                           b.outstanding_principal)
    with book.sessions() as s:
        states = {r.loan_id: (r.dpd, r.arrears_fen) for r in s.scalars(select(LoanStateRow))}
    assert states["L1"] == states["L2"]


@pytest.mark.parametrize(("event", "kind"), [
    ({"amount": "0"}, "invalid_amount"),
    ({"amount": "-5"}, "invalid_amount"),
    ({"amount": "10.005"}, "invalid_amount"),
    ({"paid_on": "2025-12-31"}, "before_disbursement"),
    ({"paid_on": "2027-05-01"}, "future_date"),
])
def test_impossible_events_rejected(book: LoanBook, event: dict, kind: str) -> None:
    issue(book)
    base = {"event_id": "Z", "loan_id": "L1", "paid_on": "2026-02-15", "amount": "100"}
    report = book.record_repayments([{**base, **event}])
    assert report.rejected == 1 and report.records[0].kind == kind and report.applied == 0
    assert _paid_total(book, "L1") == 0


def test_overpayment_is_recorded_as_a_credit(book: LoanBook) -> None:
    issue(book, principal="20000", term=12)
    report = book.record_repayments([{"event_id": "BIG", "loan_id": "L1", "paid_on": "2026-03-01", "amount": "25000"}])
    assert report.applied == 1 and report.records[0].kind == "overpayment"
    st = book.status("L1")
    assert st.status == "settled" and st.outstanding_principal == 0


def test_import_loans_csv(book: LoanBook, tmp_path: Path) -> None:
    q = quote(80000, "0.05", 36)
    csv_text = (
        "loan_id,customer_id,product_id,principal,annual_rate,term_months,disbursed_on,vehicle_price,monthly_payment\n"
        f"IMP-1,C9,bank_auto_loan,80000,0.05,36,2026-01-10,120000,{q.monthly_payment}\n"
        "IMP-2,C9,bank_auto_loan,80000,0.05,36,2026-01-10,120000,9999.99\n"  # payment disagrees with the terms
        "IMP-3,C9,bank_auto_loan,80000,0.05,90,2026-01-10,120000,\n"  # 90 months: not a legal car loan
        "IMP-4,C9,bank_auto_loan,abc,0.05,36,2026-01-10,120000,\n"
    )
    path = tmp_path / "loans.csv"
    path.write_text("\ufeff" + csv_text, encoding="utf-8")  # Excel's BOM is fine
    report = book.import_loans_csv(path)
    assert (report.rows, report.imported, report.rejected) == (4, 1, 3)
    assert [p.split(":")[0] for p in report.problems] == ["第3行 / line 3", "第4行 / line 4", "第5行 / line 5"]
    again = book.import_loans_csv(path)
    assert again.imported == 0 and again.skipped == 1
    assert book.status("IMP-1").monthly_payment == q.monthly_payment


def test_import_repayments_csv_reconciles_every_row(book: LoanBook, tmp_path: Path) -> None:
    issue(book)
    path = tmp_path / "pay.csv"
    path.write_text(
        "event_id,loan_id,paid_on,amount\n"
        "P1,L1,2026-02-15,4364.85\n"
        "P1,L1,2026-02-15,4364.85\n"
        "P2,GHOST,2026-02-15,4364.85\n"
        "P3,L1,not-a-date,4364.85\n", encoding="utf-8")
    report = book.import_repayments_csv(path)
    assert (report.received, report.applied, report.duplicates, report.rejected) == (4, 1, 1, 2)
    assert {r.kind for r in report.records} == {"unreadable", "duplicate", "unknown_loan"}
    assert {r.kind for r in book.exceptions()} >= {"unreadable", "duplicate", "unknown_loan"}


def test_issue_from_a_quote_that_was_altered_is_refused(book: LoanBook) -> None:
    q = quote(50000, "0.04", 12)
    req = IssueLoan(customer_id="C1", product_id="bank_auto_loan", principal=Decimal(60000),
                    annual_rate=Decimal("0.04"), term_months=12, vehicle=VehicleInfo(vehicle_price=Decimal(90000)),
                    disbursed_on=dt.date(2026, 1, 5))
    with pytest.raises(InvalidInput, match="报价"):
        book.issue_from_quote(q, req)


def test_who_may_see_a_loan(book: LoanBook) -> None:
    issue(book, "L1", "C1")
    issue(book, "L2", "C2")
    assert book.resolve_loan("L2", session_id=None, channel="copilot") == "L2"
    with pytest.raises(Forbidden):
        book.resolve_loan("L1", session_id="s-anon", channel="app")
    book.link_session("s-1", "C1")
    assert book.resolve_loan(None, session_id="s-1", channel="app") == "L1"
    with pytest.raises(NotFound):  # someone else's loan: not even confirmed to exist
        book.resolve_loan("L2", session_id="s-1", channel="wechat")
    with pytest.raises(Forbidden):  # "api" is not a staff channel: open endpoints must not see loans
        book.resolve_loan("L1", session_id=None, channel="api")
