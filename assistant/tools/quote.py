"""The loan-quote tool: schedule, totals and the true APR."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from assistant.domain.limits import AmountYuan, FiniteDecimal, LoanYuan, TermMonths
from assistant.domain.money import Money, Rate
from assistant.domain.quote import Quote, QuoteRequest, build_quote, quote_figures
from assistant.domain.schedule import Method, RateType, Row
from assistant.tools.registry import REGISTRY, ToolContext


class QuoteIn(BaseModel):
    """Loan terms to price."""

    principal: LoanYuan = Field(description="Loan amount in yuan (贷款本金，元)")
    annual_rate: FiniteDecimal = Field(description="Annual rate as a fraction: 4.5% -> 0.045 (年利率或年费率)")
    term_months: TermMonths = Field(description="Term in months, 1-60 (期数)")
    method: Method = Field(default=Method.EQUAL_INSTALLMENT, description="equal_installment | equal_principal")
    rate_type: RateType = Field(
        default=RateType.NOMINAL, description="nominal (利率) | flat (费率: on the original principal)"
    )
    upfront_fees: AmountYuan = Field(default=Decimal("0"), description="Up-front fees in yuan (手续费/GPS/服务费)")


class QuoteOut(BaseModel):
    """A priced loan with its APR."""

    monthly_payment: Money
    total_interest: Money
    total_paid: Money
    total_cost_of_credit: Money
    upfront_fees: Money
    apr: Rate
    apr_percent: str
    apr_convention: str
    schedule: list[Row]


def quote_to_out(q: Quote) -> QuoteOut:
    """Project a domain Quote onto the tool/API shape."""
    return QuoteOut(**quote_figures(q), schedule=q.schedule)


@REGISTRY.register("quote_loan")
def quote_loan(ctx: ToolContext, args: QuoteIn) -> QuoteOut:
    """Price a car loan: monthly payment, total interest, full repayment schedule and the true APR
    (年化利率, IRR method, on the money actually received after up-front fees). Use it whenever the
    customer asks for a monthly payment (月供), total interest, or what a dealer's flat "费率" really costs.
    Rates are fractions (3.5% -> 0.035); rate_type "flat" for 费率/月费率 quotes."""
    q = build_quote(QuoteRequest(**args.model_dump()))
    return quote_to_out(q)
