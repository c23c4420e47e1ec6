"""Pure rules of the book: local dates, who may name any loan, when a repayment event is rejected, a loan's
status label."""

from __future__ import annotations

import datetime as dt
import hashlib

from assistant.domain.money import fen
from assistant.lifecycle.book.models import RepaymentIn
from assistant.lifecycle.ledger import DEFAULT_DPD, Behaviour

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no DST in China: a fixed offset is exact
# Channels used by staff behind an API key or a terminal (never a customer's chat): they may name any loan.
STAFF_CHANNELS = frozenset({"copilot", "cli", "staff", "dashboard"})


def china_today() -> dt.date:
    """Today's date in China (due dates, DPD and contact hours are local)."""
    return dt.datetime.now(CHINA_TZ).date()


def session_hash(session_id: str) -> str:
    """A one-way stand-in for a chat session id (the id itself is the customer's credential)."""
    return hashlib.sha256(f"loan-assistant/loan-link/{session_id}".encode()).hexdigest()[:48]


def loan_status_label(b: Behaviour) -> str:
    """``settled`` once every instalment is paid, ``defaulted`` at 90+ days past due, else ``active``."""
    if b.outstanding_principal == 0 and b.arrears == 0:
        return "settled"
    return "defaulted" if b.dpd >= DEFAULT_DPD else "active"


def event_problem(event: RepaymentIn, disbursed: dt.date | None, today: dt.date) -> tuple[str, str] | None:
    """Why a repayment event is rejected, as (kind, detail); None when it can be applied."""
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
