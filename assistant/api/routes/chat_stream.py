"""``POST /v1/chat/stream``: the chat turn as Server-Sent Events (delta text, then the whole turn)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import chat_access, get_services
from assistant.api.errors import STATUS, error_body
from assistant.errors import AssistantError
from assistant.logs import get_logger

log = get_logger(__name__)
router = APIRouter(tags=["chat"])

# The engine reports errors as events carrying the error code; map them back to the HTTP statuses.
_STATUS_BY_CODE = {cls.code: status for cls, status in STATUS.items()}


class ChatStreamBody(BaseModel):
    """The contract's chat request (the same fields as ``POST /v1/chat``)."""

    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, max_length=64, description="会话ID；不传则新建会话")
    message: str = Field(description="客户的消息")
    channel: Literal["app", "wechat", "web"] = "web"


def sse(event: str, data: Any) -> bytes:
    """One Server-Sent Event; ``data`` as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode()


def _as_dict(event: dict[str, Any]) -> dict[str, Any]:
    turn = event.get("turn")
    if hasattr(turn, "model_dump"):
        return {**event, "turn": turn.model_dump(mode="json")}
    return event


def _events(first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """Relay the engine's events; a failure after the stream began becomes an ``error`` event."""
    try:
        if first is not None:
            yield sse(str(first.get("type", "delta")), _as_dict(first))
        for event in rest:
            yield sse(str(event.get("type", "delta")), _as_dict(event))
    except AssistantError as exc:
        yield sse("error", error_body(exc.code, exc.message))
    except Exception as exc:  # the response has started: report in-band, never a torn stream
        log.error("chat_stream_failed", error=type(exc).__name__)
        yield sse("error", error_body("internal_error", "服务内部错误，请稍后再试 / internal error, please try again"))
    yield sse("done", {})


@router.post("/v1/chat/stream", dependencies=[Depends(chat_access)])
def chat_stream(body: ChatStreamBody, request: Request) -> StreamingResponse:
    """Stream one chat turn: ``event: delta`` (``{"type","text"}``) as the reply is written (``event:
    reset`` = discard the text so far: the engine replaced it), then ``event: turn``
    (``{"type":"turn","turn":{…the /v1/chat response…}}``) and ``event: done``.

    Errors found before anything is streamed (empty or oversized message, unknown session) are the
    usual JSON 4xx; later ones arrive as an ``event: error`` with the contract's error body.
    """
    chat = get_services(request).chat
    events = iter(chat.stream(body.message, session_id=body.session_id, channel=body.channel))
    # Pull the first event here, so bad input is a plain 4xx rather than a 200 that then fails.
    first = next(events, None)
    if first is not None and first.get("type") == "error":
        error = first.get("error") or {}
        code = str(error.get("code", "internal_error"))
        return JSONResponse({"error": {"code": code, "message": str(error.get("message", ""))}},
                            status_code=_STATUS_BY_CODE.get(code, 500))
    return StreamingResponse(
        _events(first, events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
