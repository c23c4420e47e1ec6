"""Bulk reads and writes shared by the book, the monitor and the simulator."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from assistant.lifecycle.book.models import RepaymentIn
from assistant.lifecycle.book.rows import chunks, state_row
from assistant.lifecycle.book.rules import loan_status_label
from assistant.lifecycle.ledger import Behaviour
from assistant.storage.loans import LoanRow, LoanStateRow, RepaymentEventRow


def fetch_rows(conn: Any, query: Any, raw: bool) -> Sequence[Sequence[Any]]:
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


def parse_dates(values: Iterable[str | dt.date]) -> dict[Any, dt.date]:
    """Raw date values (ISO strings from SQLite, dates from PostgreSQL) → ``date``, each distinct one parsed once."""
    return {v: v if isinstance(v, dt.date) else dt.date.fromisoformat(v[:10]) for v in set(values)}


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


def seen_events(s: Session, batch: Sequence[RepaymentIn]) -> dict[str, tuple[str, dt.date, int]]:
    """Event id → (loan, paid on, amount in fen) for the batch's event ids already in the book."""
    ids = list({e.event_id for e in batch})
    seen: dict[str, tuple[str, dt.date, int]] = {}
    for part in chunks(ids):
        for ev_id, loan_id, paid_on, amount in s.execute(
                select(RepaymentEventRow.event_id, RepaymentEventRow.loan_id, RepaymentEventRow.paid_on,
                       RepaymentEventRow.amount_fen).where(RepaymentEventRow.event_id.in_(part))):
            seen[ev_id] = (loan_id, paid_on, amount)
    return seen


def loan_dates(s: Session, batch: Sequence[RepaymentIn]) -> tuple[dict[str, dt.date], dict[str, dt.date]]:
    """For the batch's loans in the book: the disbursement date and the latest repayment date."""
    loan_ids = list({e.loan_id for e in batch})
    loans: dict[str, dt.date] = {}
    latest: dict[str, dt.date] = {}
    for part in chunks(loan_ids):
        loans.update(s.execute(select(LoanRow.id, LoanRow.disbursed_on).where(LoanRow.id.in_(part))).all())
        latest.update(s.execute(
            select(RepaymentEventRow.loan_id, func.max(RepaymentEventRow.paid_on))
            .where(RepaymentEventRow.loan_id.in_(part)).group_by(RepaymentEventRow.loan_id)).all())
    return loans, latest
