"""What one chat turn produces (the contract's ``/v1/chat`` shape) and the session state."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.kb.citation import Citation

__all__ = ["Channel", "ChatTurn", "Citation", "DocumentRef", "SessionState", "ToolCallRecord"]

Channel = Literal["app", "wechat", "web", "cli", "copilot", "rasa", "api"]


class ToolCallRecord(BaseModel):
    """A tool the engine called this turn."""

    name: str
    arguments: dict[str, Any]
    result: Any = None
    error: str | None = None


class DocumentRef(BaseModel):
    """A document issued this turn."""

    document_id: str
    kind: str
    url: str


class ChatTurn(BaseModel):
    """The reply to one customer message."""

    session_id: str
    reply: str
    intent: str
    slots: dict[str, Any] = Field(default_factory=dict, description="The session's state so far")
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    documents: list[DocumentRef] = Field(default_factory=list)
    handoff: bool = False
    offers: list[dict[str, Any]] = Field(default_factory=list, description="Offer cards, when matching ran")
    quote: dict[str, Any] | None = Field(default=None, description="Quote summary + schedule, when priced")
    engine: str = "offline"
    lang: str = "zh"


class SessionState(BaseModel):
    """Everything the engine remembers about a conversation (persisted between turns)."""

    session_id: str
    channel: str = "app"
    lang: str = "zh"
    slots: dict[str, Any] = Field(default_factory=dict)
    flow: str | None = None
    pending_slot: str | None = None
    suspended_flow: str | None = None
    awaiting_consent: bool = False
    consent: bool = False
    handoff: bool = False
    handoff_reason: str | None = None
    last_intent: str | None = None
    last_offers: list[dict[str, Any]] = Field(default_factory=list)
    application: dict[str, Any] | None = None
    last_decision: dict[str, Any] | None = None
    last_document_kinds: list[str] = Field(default_factory=list)  # what "要PDF版" re-issues
    vehicle_id: str | None = None  # the catalogue car being valued, once the customer has named it
    complaints: list[str] = Field(default_factory=list)
    turns: int = 0
    # The dialogue state the tracker resolves references and edits against.
    selected_offer: int | None = None  # 1-based rank in last_offers of the offer the customer picked
    excluded: dict[str, list[str]] = Field(default_factory=dict)  # slot -> values ruled out (不要插混)
    debts: dict[str, int] = Field(default_factory=dict)  # existing monthly repayments by kind
    last_quote: dict[str, Any] | None = None  # the last quote shown (for "第3期还多少")
    last_slots: list[str] = Field(default_factory=list)  # slots in the order last set (what an edit means)
    last_topic: str | None = None  # the document the last knowledge answer came from ("要带啥材料" follows it)
