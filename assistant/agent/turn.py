"""What the dialogue manager produces for one turn, before the chat service stores and returns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.agent.types import Citation, DocumentRef, ToolCallRecord


@dataclass
class TurnDraft:
    """What a turn produced."""

    reply: str = ""
    intent: str = "out_of_scope"
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    quote: dict[str, Any] | None = None
    handoff: bool = False
    confidence: float = 1.0
    # Wording that must reach the customer verbatim (consent, refusals): the LLM engine won't rephrase it.
    fixed: bool = False
    # Knowledge answers and chit-chat read better rephrased; offers, quotes and questions are templates
    # whose numbers must stay exactly as computed, so they need no second model call.
    phrase: bool = False
    engine: str = "offline"
    commands: list[dict[str, Any]] = field(default_factory=list)
