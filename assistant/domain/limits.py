"""Plausibility bounds for every number a caller can send (HTTP bodies, query strings, tool arguments).

These are sanity limits, not lending rules: a value outside them cannot describe a real car loan in China
(a 10^30 yuan car, a 600-month term, ``term_months: true``), so it is refused with a 4xx before any
arithmetic runs (Decimal overflow, SQL integer overflow). The product and regulatory rules (term 6–60 for
scoring, LTV caps, rate ceilings) stay where they are and give their own, more specific answers inside
these bounds.

Declared once here; the pydantic input models use the annotated types below.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

# Money, yuan. The dearest cars sold in China are a few million yuan; 10 million leaves room for any of
# them (and a fleet purchase of a few) while keeping every product of two amounts far from overflow.
MAX_PRICE_YUAN = 10_000_000
MAX_LOAN_YUAN = MAX_PRICE_YUAN
# A month's net income or spending.
MAX_MONTHLY_YUAN = 10_000_000
# Savings, assets, debts elsewhere: a household's wealth, not a car.
MAX_WEALTH_YUAN = 1_000_000_000
# Terms: the longest instalment contract a lender writes on a car (leases included) is ten years.
MIN_TERM_MONTHS = 1
MAX_TERM_MONTHS = 120
# A term a customer may *ask* about (matching, valuation): beyond the legal caps but still a number of
# months, so the answer is the rule that excludes it (the 60-month cap), not a 422. 50 years is no loan.
MAX_ASKED_TERM_MONTHS = 600
# Rates as fractions: the judicial ceiling for private lending is below 36 % a year.
MAX_ANNUAL_RATE = Decimal("0.36")
# Cars: age and odometer.
MAX_VEHICLE_AGE_YEARS = 50
MAX_MILEAGE_KM = 2_000_000
# People: age in years.
MAX_PERSON_AGE = 120
# Paging: no list is longer than this, so a larger offset is a mistake (and would overflow SQL integers).
MAX_OFFSET = 1_000_000


def refuse_bool(value: Any) -> Any:
    """JSON ``true`` is not the number 1: refuse booleans where an integer belongs (pydantic's lax mode
    would take ``term_months: true`` as a one-month loan)."""
    if isinstance(value, bool):
        raise ValueError("必须是数字，不能是布尔值 / must be a number, not a boolean")
    return value


# An integer that is not a bool; bounds go in ``Field``.
Int = Annotated[int, BeforeValidator(refuse_bool)]
# A finite Decimal (NaN and Infinity refused); bounds go in ``Field``.
FiniteDecimal = Annotated[Decimal, Field(allow_inf_nan=False)]

# The common shapes, with their bounds: a price and a loan are > 0, other amounts ≥ 0.
PriceYuan = Annotated[FiniteDecimal, Field(gt=0, le=MAX_PRICE_YUAN)]
AmountYuan = Annotated[FiniteDecimal, Field(ge=0, le=MAX_PRICE_YUAN)]
LoanYuan = Annotated[FiniteDecimal, Field(gt=0, le=MAX_LOAN_YUAN)]
MonthlyYuan = Annotated[FiniteDecimal, Field(ge=0, le=MAX_MONTHLY_YUAN)]
WealthYuan = Annotated[FiniteDecimal, Field(ge=0, le=MAX_WEALTH_YUAN)]
TermMonths = Annotated[Int, Field(ge=MIN_TERM_MONTHS, le=MAX_TERM_MONTHS)]
AskedTermMonths = Annotated[Int, Field(ge=MIN_TERM_MONTHS, le=MAX_ASKED_TERM_MONTHS)]
AnnualRate = Annotated[FiniteDecimal, Field(ge=0, lt=MAX_ANNUAL_RATE)]
