"""The ``application_status`` tool: where this chat session's latest loan application stands, for real."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Literal

from pydantic import BaseModel, Field

from assistant.domain.application_state import LABELS
from assistant.errors import Forbidden, InvalidInput
from assistant.origination.service import actions_for
from assistant.origination.status import reference
from assistant.tools.registry import REGISTRY, ToolContext


class ApplicationStatusIn(BaseModel):
    """Whose application: the chat session (the current one when omitted)."""

    session_id: str | None = Field(default=None, max_length=64, description="The chat session id")
    lang: Literal["zh", "en"] = "zh"


class ApplicationStatusOut(BaseModel):
    """The status of the session's latest application (``found`` false when it has none)."""

    found: bool
    application_id: str | None = None
    reference: str | None = None
    status: str | None = None
    status_label: str | None = None
    message: str = Field(description="What the customer reads, in their language")
    next_actions: list[str] = Field(default_factory=list)
    updated_at: dt.datetime | None = None


@REGISTRY.register("application_status")
def application_status(ctx: ToolContext, args: ApplicationStatusIn) -> ApplicationStatusOut:
    """Look up the status of the customer's loan application (我的申请到哪一步了 / where is my application):
    draft, submitted, under review, approved (with conditions), declined (with reasons), withdrawn, contract
    issued or signed — read from the application record, never guessed. Give the chat session id; in a
    chat the current session is used, and a chat may only ask about its own session."""
    session_id = args.session_id or ctx.session_id
    if not session_id:
        raise InvalidInput("请提供会话ID", "give the session id", field="session_id")
    if ctx.session_id and not hmac.compare_digest(session_id, ctx.session_id):
        raise Forbidden("只能查询本会话的申请", "a chat may only look up its own application")
    service = ctx.services.applications
    record = service.latest_for_session(session_id)
    if record is None:
        message = ("您在本次对话中还没有提交贷款申请。需要的话，我可以先为您做预评估或生成方案。" if args.lang == "zh"
                   else "There is no loan application from this conversation yet. I can run a pre-assessment "
                        "or find plans for you first.")
        return ApplicationStatusOut(found=False, message=message)
    zh, en = LABELS[record.status]
    return ApplicationStatusOut(found=True, application_id=record.id, reference=reference(record.id),
                                status=record.status.value, status_label=zh if args.lang == "zh" else en,
                                message=service.customer_status(record, args.lang), next_actions=actions_for(record),
                                updated_at=record.updated_at)
