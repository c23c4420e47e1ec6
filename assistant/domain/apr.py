"""APR by the IRR method (PBoC 2021 disclosure rule).

The monthly rate ``i`` makes the present value of all payments equal the money actually received
(principal minus up-front fees); APR = 12 × i, the nominal convention used in Chinese disclosures.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

APR_CONVENTION_ZH = "年化利率按IRR（内部收益率）法计算：月内部收益率×12，以实际到手金额（本金扣除前期费用）为基数。"
APR_CONVENTION_EN = (
    "APR by the IRR method: monthly internal rate of return × 12, on the money actually received "
    "(principal minus up-front fees)."
)
_APR_QUANT = Decimal("0.000001")


def monthly_irr(received: float, payments: Sequence[float]) -> float:
    """Solve ``received = Σ payments[t] / (1+i)^(t+1)`` for ``i`` (Newton's method, bisection fallback).

    Floats are right here: a rate, not money, and this is the hot path of every quote.
    """
    if received <= 0:
        raise ValueError("received amount must be positive")
    total = sum(payments)
    if abs(total - received) < 1e-9:
        return 0.0  # no interest and no fees: the IRR is exactly zero
    rate = (total / received - 1) / max(len(payments), 1)  # a good first guess for level payments
    for _ in range(50):
        value, slope, discount = -received, 0.0, 1.0
        step = 1.0 / (1.0 + rate)
        for t, pay in enumerate(payments, start=1):
            discount *= step
            value += pay * discount
            slope -= t * pay * discount * step
        if slope == 0:
            break
        new_rate = rate - value / slope
        if abs(new_rate - rate) < 1e-13:
            return new_rate
        rate = new_rate if new_rate > -0.99 else (rate - 0.99) / 2
    return _bisect(received, payments)


def _npv(rate: float, received: float, payments: Sequence[float]) -> float:
    return sum(pay / (1 + rate) ** t for t, pay in enumerate(payments, start=1)) - received


def _bisect(received: float, payments: Sequence[float]) -> float:
    low, high = -0.99, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        if _npv(mid, received, payments) > 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def apr_irr(received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """The annualised rate (fraction, 6 decimals) = 12 × monthly IRR."""
    rate = monthly_irr(float(received), [float(p) for p in payments]) * 12
    return Decimal(repr(rate)).quantize(_APR_QUANT, rounding=ROUND_HALF_UP)
