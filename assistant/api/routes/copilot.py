"""``POST /v1/copilot``: the agent desk's assistant (API key with the ``copilot`` scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from assistant.api.deps import get_services, require_scope
from assistant.copilot import CopilotRequest, CopilotResponse, assist

router = APIRouter(tags=["copilot"])


@router.post("/v1/copilot", response_model=CopilotResponse, dependencies=[Depends(require_scope("copilot"))])
def post_copilot(body: CopilotRequest, request: Request) -> CopilotResponse:
    """For a session (``session_id``) or a pasted ``transcript``: a summary of the customer and their
    situation, the extracted profile (``slots``), a ``suggested_reply`` the agent can edit, ``next_actions``,
    ``compliance_alerts`` (the agent's ``draft`` is checked for approval promises and prices without APR;
    hardship, complaints and injection attempts are flagged) and ``citations``."""
    return assist(get_services(request), body)
