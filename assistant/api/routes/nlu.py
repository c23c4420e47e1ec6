"""``POST /v1/nlu/parse``: the offline understanding of one message (intent, confidence, slots, lang)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.api.deps import get_services
from assistant.errors import InvalidInput
from assistant.services import Services

router = APIRouter(tags=["nlu"])

SlotName = Literal[
    "budget", "vehicle_price", "down_payment", "down_payment_ratio", "loan_amount", "term_months",
    "monthly_income", "quoted_rate", "rate_type", "body_type", "energy_type", "vehicle_condition", "brand",
    "city", "age", "vehicle_age_years", "mileage_km", "overdue_days", "repayment_method", "document_kind",
]


class ParseBody(BaseModel):
    """A customer message; ``expected_slot`` is the slot the assistant has just asked for (optional)."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(description="客户消息 / the customer's message")
    expected_slot: SlotName | None = Field(default=None, description="刚刚询问的槽位 / the slot just asked for")


class ParseResponse(BaseModel):
    """Intent, calibrated confidence, the contract's slots and the language of the message."""

    intent: str
    confidence: float
    slots: dict[str, Any]
    lang: Literal["zh", "en"]


@router.post("/v1/nlu/parse", response_model=ParseResponse)
def post_parse(body: ParseBody, services: Services = Depends(get_services)) -> ParseResponse:
    """Classify the intent and extract the slots of one message, offline (no LLM)."""
    if not body.text.strip():
        raise InvalidInput("消息为空", "the message is empty", field="text")
    result = services.nlu.parse(body.text, body.expected_slot)
    return ParseResponse(**result.model_dump())
