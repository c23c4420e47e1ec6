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

Package map: ``models`` (requests, reports, status), ``rules`` (pure: dates, access, event problems),
``rows`` (row builders, no database), ``queries`` (bulk reads and writes), ``store`` (:class:`LoanBook`),
``csv_import`` (loans and repayments from CSV). Money is stored as integer fen
(:func:`assistant.domain.money.to_fen` / :func:`~assistant.domain.money.from_fen`).
"""

from assistant.domain.money import from_fen, to_fen
from assistant.lifecycle.book.csv_import import csv_rows, import_loans, import_repayments, issue_from_csv, short_error
from assistant.lifecycle.book.models import (
    ExceptionOut,
    ImportReport,
    IssueLoan,
    LoanStatus,
    ReconcileReport,
    RepaymentIn,
    ScheduleLine,
    VehicleInfo,
)
from assistant.lifecycle.book.queries import fetch_rows, loan_dates, loan_meta, parse_dates, seen_events, write_states
from assistant.lifecycle.book.rows import (
    CHUNK,
    PPM,
    chunks,
    exception_row,
    loan_values,
    ppm_to_rate,
    rate_to_ppm,
    schedule_fen,
    schedule_rows,
    state_row,
)
from assistant.lifecycle.book.rules import (
    CHINA_TZ,
    STAFF_CHANNELS,
    china_today,
    event_problem,
    loan_status_label,
    session_hash,
)
from assistant.lifecycle.book.store import LoanBook

__all__ = [
    "CHINA_TZ",
    "CHUNK",
    "PPM",
    "STAFF_CHANNELS",
    "ExceptionOut",
    "ImportReport",
    "IssueLoan",
    "LoanBook",
    "LoanStatus",
    "ReconcileReport",
    "RepaymentIn",
    "ScheduleLine",
    "VehicleInfo",
    "china_today",
    "chunks",
    "csv_rows",
    "event_problem",
    "exception_row",
    "fetch_rows",
    "from_fen",
    "import_loans",
    "import_repayments",
    "issue_from_csv",
    "loan_dates",
    "loan_meta",
    "loan_status_label",
    "loan_values",
    "parse_dates",
    "ppm_to_rate",
    "rate_to_ppm",
    "schedule_fen",
    "schedule_rows",
    "seen_events",
    "session_hash",
    "short_error",
    "state_row",
    "to_fen",
    "write_states",
]
