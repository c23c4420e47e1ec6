"""``POST /v1/quote``: schedule, totals and the true APR."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import tool_context
from assistant.domain.limits import AmountYuan, AnnualRate, Int, LoanYuan
from assistant.domain.schedule import Method, RateType
from assistant.tools.quote import QuoteIn, QuoteOut, quote_loan
from assistant.tools.registry import ToolContext

router = APIRouter(tags=["quote"])


class QuoteBody(BaseModel):
    """The contract's quote request. Numbers only: strings where numbers belong are refused."""

    model_config = ConfigDict(extra="forbid")

    principal: LoanYuan = Field(description="贷款本金（元）")
    annual_rate: AnnualRate = Field(description="年利率/年费率，小数（0.045）")
    term_months: Int = Field(ge=1, le=60, description="期数（月）")
    method: Method = Method.EQUAL_INSTALLMENT
    rate_type: RateType = RateType.NOMINAL
    upfront_fees: AmountYuan = Field(default=Decimal("0"), description="前期费用（元）")


@router.post("/v1/quote", response_model=QuoteOut)
def post_quote(body: QuoteBody, ctx: ToolContext = Depends(tool_context)) -> QuoteOut:
    """Price a loan (等额本息 / 等额本金 / dealer flat rate) with the APR by the IRR method."""
    return quote_loan(ctx, QuoteIn(**body.model_dump()))
