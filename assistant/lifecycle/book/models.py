"""The loan book's request and response models: loans to issue, repayment events, reports and a loan's status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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
from assistant.domain.money import Money, Rate, to_fen
from assistant.domain.quote import QuoteRequest
from assistant.domain.schedule import Method, RateType


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
