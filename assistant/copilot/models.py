"""Request and response shapes of ``POST /v1/copilot`` (the contract's fields plus a few extras)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.agent.types import Citation

_ROLE_ALIASES = {"customer": "customer", "user": "customer", "client": "customer", "客户": "customer",
                 "assistant": "assistant", "agent": "assistant", "bot": "assistant", "staff": "assistant",
                 "坐席": "assistant", "客服": "assistant"}


class TranscriptTurn(BaseModel):
    """One line of the conversation; ``role`` customer or assistant (user/agent/bot are accepted)."""

    role: Literal["customer", "assistant"]
    text: str = Field(max_length=4000)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: object) -> object:
        return _ROLE_ALIASES.get(str(value).strip().lower(), value) if isinstance(value, str) else value


class CopilotRequest(BaseModel):
    """``{"session_id"}`` or ``{"transcript": [...]}``; ``draft``: the agent's reply to check before sending."""

    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, max_length=64)
    transcript: list[TranscriptTurn] | None = Field(default=None, max_length=400)
    draft: str | None = Field(default=None, max_length=4000, description="坐席拟发送的回复（合规检查）")
    suggest: bool = Field(default=True, description="Produce a suggested reply (runs the chat engine)")

    @model_validator(mode="after")
    def _one_source(self) -> CopilotRequest:
        if not self.session_id and not self.transcript:
            raise ValueError("session_id or a non-empty transcript is required")
        return self


class ComplianceAlert(BaseModel):
    """Something the agent must not do, or must handle with care."""

    code: str
    severity: Literal["high", "medium", "low"]
    source: Literal["draft", "customer", "assistant", "suggested_reply"]
    zh: str
    en: str
    evidence: str | None = Field(default=None, description="The passage that triggered it (personal data masked)")


class NextAction(BaseModel):
    """A next best action for the agent."""

    code: str
    zh: str
    en: str


class Fact(BaseModel):
    """One thing known about the customer, worded for the agent: 首付比例 · 40%."""

    name: str = Field(description="The slot name, as in ``slots``")
    label: str = Field(description="中文名称，如 首付比例")
    value: str = Field(description="显示值，如 40%、15万元、纯电")
    label_en: str
    value_en: str


class CopilotResponse(BaseModel):
    """The contract's copilot answer."""

    summary: str
    slots: dict[str, Any]
    facts: list[Fact] = Field(default_factory=list,
                              description="``slots`` as a person reads them, in the contract's slot order")
    suggested_reply: str
    next_actions: list[NextAction]
    compliance_alerts: list[ComplianceAlert]
    citations: list[Citation]
    intent: str | None = Field(default=None, description="The customer's main intent so far")
    situation: dict[str, bool] = Field(default_factory=dict, description="hardship / complaint / handoff / injection")
    suggested_reply_source: Literal["engine", "template"] = "template"
