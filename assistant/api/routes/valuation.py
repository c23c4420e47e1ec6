"""``POST /v1/valuation``: a used car's value range and the loan it can secure (车抵贷 / 二手车贷款)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.api.deps import tool_context
from assistant.tools.registry import ToolContext
from assistant.tools.valuation import ValueVehicleIn, ValueVehicleOut, value_vehicle

router = APIRouter(tags=["valuation"])


@router.post("/v1/valuation", response_model=ValueVehicleOut)
def post_valuation(body: ValueVehicleIn, ctx: ToolContext = Depends(tool_context)) -> ValueVehicleOut:
    """Estimated value with an 80 % range, the model's held-out error, the appraisal requirement, and
    (for 车抵贷 by default) the maximum loan = value × LTV cap with its monthly payment and APR."""
    return value_vehicle(ctx, body)
