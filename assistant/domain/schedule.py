"""Repayment schedules: 等额本息, 等额本金 and dealer flat-rate (费率) plans.

Each row is rounded half-up to the fen; the last row absorbs the rounding so that the principal
repaid equals the loan and the balance ends at exactly 0.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from assistant.domain.money import ZERO, Money, fen


class Method(StrEnum):
    """Repayment method (contract slot ``repayment_method``)."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金


class RateType(StrEnum):
    """How the market quoted the rate (contract slot ``rate_type``)."""

    NOMINAL = "nominal"  # 年利率: interest on the outstanding balance
    FLAT = "flat"  # 费率: interest on the original principal for the whole term


class Row(BaseModel):
    """One month of a schedule."""

    model_config = ConfigDict(frozen=True)

    period: int
    payment: Money
    principal: Money
    interest: Money
    balance: Money


def level_payment(principal: Decimal, monthly_rate: Decimal, term_months: int) -> Decimal:
    """The unrounded 等额本息 payment ``P·r·(1+r)^n / ((1+r)^n − 1)``; ``P/n`` at a zero rate."""
    if monthly_rate == ZERO:
        return principal / term_months
    growth = (1 + monthly_rate) ** term_months
    return principal * monthly_rate * growth / (growth - 1)


def equal_installment(principal: Decimal, annual_rate: Decimal, term_months: int) -> list[Row]:
    """等额本息: the same payment every month; interest on the outstanding balance.

    As bank calculators do, each month's interest is the exact amortisation balance × monthly rate,
    rounded to the fen (100,000 at 4 % over 36 months: 2,952.40 a month, 6,286.35 interest); the
    principal part is payment − interest, and the last row takes whatever principal is left.
    """
    monthly_rate = annual_rate / 12
    exact_payment = level_payment(principal, monthly_rate, term_months)
    payment = fen(exact_payment)
    rows: list[Row] = []
    balance = principal
    exact_balance = principal
    for period in range(1, term_months + 1):
        exact_interest = exact_balance * monthly_rate
        interest = fen(exact_interest)
        exact_balance -= exact_payment - exact_interest
        part = balance if period == term_months else payment - interest
        balance -= part
        rows.append(Row(period=period, payment=part + interest, principal=part, interest=interest, balance=balance))
    return rows


def equal_principal(principal: Decimal, annual_rate: Decimal, term_months: int) -> list[Row]:
    """等额本金: the same principal every month, so payments fall as the balance does.

    Interest is the exact balance (principal × remaining share) × monthly rate, rounded to the fen.
    """
    monthly_rate = annual_rate / 12
    part_each = fen(principal / term_months)
    rows: list[Row] = []
    balance = principal
    for period in range(1, term_months + 1):
        exact_balance = principal * (term_months - period + 1) / term_months
        interest = fen(exact_balance * monthly_rate)
        part = balance if period == term_months else part_each
        balance -= part
        rows.append(Row(period=period, payment=part + interest, principal=part, interest=interest, balance=balance))
    return rows


def flat_rate(principal: Decimal, flat_annual_rate: Decimal, term_months: int) -> list[Row]:
    """Dealer flat-rate plan: total interest = principal × flat rate × years, spread evenly.

    The payment is (principal + total interest) / n; each month carries an equal share of principal
    and of interest. This is how 4S shops quote "年费率3.5%", and why the true APR is nearly double.
    """
    total_interest = fen(principal * flat_annual_rate * term_months / 12)
    payment = fen((principal + total_interest) / term_months)
    interest_each = fen(total_interest / term_months)
    rows: list[Row] = []
    balance = principal
    interest_left = total_interest
    for period in range(1, term_months + 1):
        last = period == term_months
        interest = interest_left if last else interest_each
        part = balance if last else payment - interest
        balance -= part
        interest_left -= interest
        rows.append(Row(period=period, payment=part + interest, principal=part, interest=interest, balance=balance))
    return rows


def build_schedule(
    principal: Decimal, annual_rate: Decimal, term_months: int, method: Method, rate_type: RateType
) -> list[Row]:
    """The schedule for a quote: flat-rate plans ignore ``method`` (they are level by construction)."""
    if rate_type is RateType.FLAT:
        return flat_rate(principal, annual_rate, term_months)
    if method is Method.EQUAL_PRINCIPAL:
        return equal_principal(principal, annual_rate, term_months)
    return equal_installment(principal, annual_rate, term_months)
