"""``POST /v1/match``: cars + finance plans the customer can get; ``POST /v1/match/explain``: why not X."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.api.deps import tool_context
from assistant.domain.matching import WhyNot
from assistant.tools.match import ExplainIn, MatchIn, MatchOut, explain_exclusion, match_offers
from assistant.tools.registry import ToolContext

router = APIRouter(tags=["match"])


@router.post("/v1/match", response_model=MatchOut)
def post_match(body: MatchIn, ctx: ToolContext = Depends(tool_context)) -> MatchOut:
    """Ranked, diverse offers (vehicle, product, price, down payment, loan, term, monthly payment, APR,
    total interest, reasons) that pass the regulatory, product and affordability rules, plus the
    defaults ``assumed``. When nothing fits: ``explanation`` and the nearest ``alternatives``."""
    return match_offers(ctx, body)


@router.post("/v1/match/explain", response_model=WhyNot)
def post_match_explain(body: ExplainIn, ctx: ToolContext = Depends(tool_context)) -> WhyNot:
    """Which rule excluded a car or a product for this profile (or its best plan if it is available)."""
    return explain_exclusion(ctx, body)
