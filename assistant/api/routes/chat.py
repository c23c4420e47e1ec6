"""``POST /v1/chat``: one customer message, one reply (the contract's shape)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assistant.agent.types import ChatTurn
from assistant.api.deps import chat_access, get_services
from assistant.services import Services

router = APIRouter(tags=["chat"])


class ChatBody(BaseModel):
    """A customer message. ``message`` is checked by the chat service (type, empty, length)."""

    session_id: str | None = Field(default=None, max_length=64)
    message: Any = Field(description="The customer's text")
    channel: Literal["app", "wechat", "web"] = "app"


@router.post("/v1/chat", response_model=ChatTurn, dependencies=[Depends(chat_access)])
def post_chat(body: ChatBody, services: Services = Depends(get_services)) -> ChatTurn:
    """Answer one message; the session's slots so far, tool calls, citations and documents come back."""
    return services.chat.handle(body.message, body.session_id, body.channel)


@router.get("/v1/chat/{session_id}")
def get_session(session_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    """The customer's own conversation (the session id is their key): transcript and slots. A reply that
    came with offer cards, a quote, citations, documents or a hand-off carries them under ``parts`` (the
    fields of the ``POST /v1/chat`` response), so a reloaded page draws them again."""
    state = services.chat.state(session_id)
    return {"session_id": session_id, "slots": state.slots, "handoff": state.handoff,
            "transcript": services.chat.transcript(session_id, parts=True)}
