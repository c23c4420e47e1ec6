"""Row builders (no database access): how loans, schedules, states and reconciliation records are encoded."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from assistant.domain.money import to_decimal, to_fen
from assistant.domain.quote import Quote
from assistant.lifecycle.book.models import ExceptionOut, IssueLoan
from assistant.lifecycle.ledger import Behaviour, add_months, bucket_of
from assistant.storage.loans import RepaymentExceptionRow

CHUNK = 500  # ids per IN (...) clause: well under SQLite's variable limit
PPM = Decimal(1_000_000)


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


def exception_row(out: ExceptionOut, payload: dict[str, Any]) -> RepaymentExceptionRow:
    """The ``repayment_exceptions`` row of a reconciliation record, with the event as reported."""
    return RepaymentExceptionRow(event_id=out.event_id, loan_id=out.loan_id, kind=out.kind, action=out.action,
                                 detail=out.detail, payload=json.dumps(payload, ensure_ascii=False, default=str))
