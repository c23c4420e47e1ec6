"""``POST /v1/copilot``: the agent desk's assistant (API key with the ``copilot`` scope); ``GET /v1/handoffs``:
the chats handed to a person, for the desk's queue (``copilot`` or ``underwriting``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from assistant.api.deps import check_api_key, get_services, require_scope
from assistant.copilot import CopilotRequest, CopilotResponse, assist
from assistant.errors import Forbidden
from assistant.origination.status import reference

router = APIRouter(tags=["copilot"])


@router.post("/v1/copilot", response_model=CopilotResponse, dependencies=[Depends(require_scope("copilot"))])
def post_copilot(body: CopilotRequest, request: Request) -> CopilotResponse:
    """For a session (``session_id``) or a pasted ``transcript``: a summary of the customer and their
    situation, the extracted profile (``slots``), a ``suggested_reply`` the agent can edit, ``next_actions``,
    ``compliance_alerts`` (the agent's ``draft`` is checked for approval promises and prices without APR;
    hardship, complaints and injection attempts are flagged) and ``citations``."""
    return assist(get_services(request), body)


class HandoffItem(BaseModel):
    """A chat handed to a person: which session (open it in the copilot), why, since when, its application."""

    session_id: str
    channel: str
    reason: str | None = None
    updated_at: dt.datetime
    application_reference: str | None = None
    application_status: str | None = None


def _desk_staff(request: Request) -> str:
    """A call-centre agent (``copilot``) or a loan officer (``underwriting``), also from the desk's cookie."""
    try:
        return check_api_key(request, "copilot")
    except Forbidden:
        return check_api_key(request, "underwriting")


_desk_staff.access = ("key", "copilot")  # type: ignore[attr-defined]  # read by api/openapi.py


@router.get("/v1/handoffs", response_model=list[HandoffItem], dependencies=[Depends(_desk_staff)])
def get_handoffs(request: Request, limit: int = Query(50, ge=1, le=200)) -> Any:
    """Chats handed to a person (转人工), most recently active first, for the desk to pick up."""
    services = get_services(request)
    items = []
    for state, updated in services.session_store.handed_off(limit):
        record = services.applications.latest_for_session(state.session_id)
        items.append(HandoffItem(session_id=state.session_id, channel=state.channel, reason=state.handoff_reason,
                                 updated_at=updated if updated.tzinfo else updated.replace(tzinfo=dt.UTC),
                                 application_reference=reference(record.id) if record else None,
                                 application_status=record.status.value if record else None))
    return items
