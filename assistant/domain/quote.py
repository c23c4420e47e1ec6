"""A loan quote: schedule, totals and the true APR, from one computation.

Everything shown to a customer — the chat reply, the contract, the repayment schedule — is rendered
from a :class:`Quote`; nothing recomputes the numbers elsewhere.
"""

from __future__ import annotations

from collections.abc import Container
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from assistant.domain.apr import APR_CONVENTION_EN, APR_CONVENTION_ZH, apr_irr
from assistant.domain.money import ZERO, Money, Rate, fen, percent_str, to_decimal
from assistant.domain.schedule import Method, RateType, Row, build_schedule
from assistant.errors import ConsistencyError, InvalidInput

MAX_TERM_MONTHS = 60
# ≥ 36 % a year is outside what courts protect (and what any legitimate auto lender charges).
MAX_ANNUAL_RATE = Decimal("0.36")
MAX_PRINCIPAL = Decimal("100000000")


class QuoteRequest(BaseModel):
    """What a quote is computed from."""

    model_config = ConfigDict(frozen=True)

    principal: Decimal
    annual_rate: Decimal
    term_months: int
    method: Method = Method.EQUAL_INSTALLMENT
    rate_type: RateType = RateType.NOMINAL
    upfront_fees: Decimal = ZERO


class Quote(BaseModel):
    """A priced loan: the first month's payment, totals, APR and the full schedule."""

    model_config = ConfigDict(frozen=True)

    principal: Money
    annual_rate: Rate
    term_months: int
    method: Method
    rate_type: RateType
    upfront_fees: Money
    monthly_payment: Money
    total_interest: Money
    total_paid: Money
    total_cost_of_credit: Money
    apr: Rate
    apr_convention_zh: str = APR_CONVENTION_ZH
    apr_convention_en: str = APR_CONVENTION_EN
    schedule: list[Row]

    @property
    def net_received(self) -> Decimal:
        """Money actually received: principal minus up-front fees."""
        return self.principal - self.upfront_fees


def quote_figures(q: Quote, keep: Container[str] | None = None) -> dict[str, Any]:
    """The figures a priced answer states, each under its one name, straight from the quote.

    Every shape that shows a price (the quote tool, a matched offer, a collateral offer, the issued
    documents) takes its figures from here, so the APR text and the totals never drift apart. ``keep``
    (e.g. a model's ``model_fields``) names the figures that shape carries; None keeps them all.
    """
    figures: dict[str, Any] = {
        "monthly_payment": q.monthly_payment,
        "total_interest": q.total_interest,
        "total_paid": q.total_paid,
        "total_cost_of_credit": q.total_cost_of_credit,
        "upfront_fees": q.upfront_fees,
        "apr": q.apr,
        "apr_percent": percent_str(q.apr),
        "apr_convention": f"{q.apr_convention_zh} / {q.apr_convention_en}",
    }
    return figures if keep is None else {name: value for name, value in figures.items() if name in keep}


def validate_request(req: QuoteRequest) -> None:
    """Reject what cannot be a loan, naming the field (Chinese first)."""
    if req.principal <= 0:
        raise InvalidInput("贷款本金必须大于0", "principal must be greater than 0", field="principal")
    if req.principal > MAX_PRINCIPAL:
        raise InvalidInput("贷款本金超出可受理范围", "principal is beyond the supported range", field="principal")
    if req.principal != fen(req.principal):
        raise InvalidInput("金额最小单位为分", "amounts are in yuan with at most 2 decimals", field="principal")
    if not 1 <= req.term_months <= MAX_TERM_MONTHS:
        raise InvalidInput(
            f"贷款期限须在1至{MAX_TERM_MONTHS}个月之间（汽车贷款期限不得超过5年）",
            f"term_months must be between 1 and {MAX_TERM_MONTHS} (auto loans are capped at 5 years)",
            field="term_months",
        )
    if req.annual_rate < 0:
        raise InvalidInput("利率不能为负数", "annual_rate must not be negative", field="annual_rate")
    if req.annual_rate >= MAX_ANNUAL_RATE:
        raise InvalidInput(
            "年利率须低于36%（请以小数填写，如4.5%填0.045）",
            "annual_rate must be below 0.36 (a fraction: 4.5% is 0.045)",
            field="annual_rate",
        )
    if req.upfront_fees < 0:
        raise InvalidInput("前期费用不能为负数", "upfront_fees must not be negative", field="upfront_fees")
    if req.upfront_fees >= req.principal:
        raise InvalidInput(
            "前期费用不能大于或等于贷款本金", "upfront_fees must be less than the principal", field="upfront_fees"
        )


def build_quote(req: QuoteRequest) -> Quote:
    """Price a loan: schedule (rounded to the fen), totals, and APR by the IRR method."""
    validate_request(req)
    fees = fen(req.upfront_fees)
    schedule = build_schedule(req.principal, req.annual_rate, req.term_months, req.method, req.rate_type)
    total_interest = sum((row.interest for row in schedule), ZERO)
    total_paid = sum((row.payment for row in schedule), ZERO)
    apr = apr_irr(req.principal - fees, [row.payment for row in schedule])
    quote = Quote(
        principal=req.principal,
        annual_rate=req.annual_rate,
        term_months=req.term_months,
        method=req.method,
        rate_type=req.rate_type,
        upfront_fees=fees,
        monthly_payment=schedule[0].payment,
        total_interest=total_interest,
        total_paid=total_paid,
        total_cost_of_credit=total_interest + fees,
        apr=apr,
        schedule=schedule,
    )
    check_consistency(quote)
    return quote


def quote(
    principal: Decimal | int | float | str,
    annual_rate: Decimal | int | float | str,
    term_months: int,
    *,
    method: Method | str = Method.EQUAL_INSTALLMENT,
    rate_type: RateType | str = RateType.NOMINAL,
    upfront_fees: Decimal | int | float | str = 0,
) -> Quote:
    """Convenience wrapper: ``quote(100000, "0.04", 36).monthly_payment == Decimal("2952.40")``."""
    return build_quote(
        QuoteRequest(
            principal=to_decimal(principal),
            annual_rate=to_decimal(annual_rate),
            term_months=term_months,
            method=Method(method),
            rate_type=RateType(rate_type),
            upfront_fees=to_decimal(upfront_fees),
        )
    )


def check_consistency(q: Quote) -> None:
    """Re-derive the totals from the schedule; any mismatch means the quote must not be issued."""
    problems: list[str] = []
    if len(q.schedule) != q.term_months:
        problems.append("rows")
    if sum((r.principal for r in q.schedule), ZERO) != q.principal:
        problems.append("principal")
    if sum((r.interest for r in q.schedule), ZERO) != q.total_interest:
        problems.append("interest")
    if sum((r.payment for r in q.schedule), ZERO) != q.total_paid:
        problems.append("total_paid")
    if q.total_paid != q.principal + q.total_interest:
        problems.append("total_paid = principal + interest")
    if q.total_cost_of_credit != q.total_interest + q.upfront_fees:
        problems.append("cost of credit")
    if q.schedule and q.schedule[-1].balance != ZERO:
        problems.append("final balance")
    if q.schedule and q.monthly_payment != q.schedule[0].payment:
        problems.append("monthly_payment")
    for row in q.schedule:
        if row.payment != row.principal + row.interest or row.balance < 0:
            problems.append(f"row {row.period}")
            break
    if problems:
        raise ConsistencyError(
            "还款计划与汇总金额不一致，已拒绝出具：" + "、".join(problems),
            "schedule and totals disagree, refusing to issue: " + ", ".join(problems),
        )
