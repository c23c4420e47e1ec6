"""Float estimates of the monthly payment and APR, for screening and ranking only (offers use the exact quote)."""

from __future__ import annotations

from functools import lru_cache

from assistant.domain.schedule import RateType

TOLERANCE = 0.005  # yuan: float screening must never reject what the exact Decimal rules accept


@lru_cache(maxsize=4096)
def unit_apr(rate: float, term: int, rate_type: RateType, fee_share: float) -> float:
    """APR estimate per yuan borrowed: it depends only on rate, term, quoting and the fee share (cached)."""
    if fee_share == 0 and rate_type is RateType.NOMINAL:
        return rate
    return estimate_apr(1 - fee_share, estimate_payment(1.0, rate, term, rate_type), term)


def estimate_payment(loan: float, rate: float, term: int, rate_type: RateType) -> float:
    """Level monthly payment in floats (screening only; offers use the exact quote)."""
    if rate_type is RateType.FLAT:
        return loan * (1 + rate * term / 12) / term
    i = rate / 12
    if i == 0:
        return loan / term
    growth = (1 + i) ** term
    return loan * i * growth / (growth - 1)


def estimate_apr(received: float, payment: float, term: int) -> float:
    """12 × the monthly IRR of a level annuity (closed-form PV, Newton steps); screening only."""
    if received <= 0:
        return 1.0
    if payment * term <= received:
        return 0.0
    i = 2 * (payment * term / received - 1) / (term + 1)  # a good first guess
    for _ in range(30):
        g = (1 + i) ** -term
        pv = payment * (1 - g) / i
        dpv = payment * (term * g / (1 + i) - (1 - g) / i) / i
        step = (pv - received) / dpv
        i -= step
        if abs(step) < 1e-12 or i <= 0:
            break
    return max(i, 0.0) * 12
