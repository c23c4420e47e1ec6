"""The status as the customer reads it: one reply template, ``prompts/replies/<lang>/application_status.j2``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from assistant.domain.application_state import LABELS

CHINA = ZoneInfo("Asia/Shanghai")


def reference(application_id: str) -> str:
    """The short reference a customer quotes (the first 8 characters of the id, upper case)."""
    return application_id[:8].upper()


def customer_status(prompts: Any, record: Any, lang: str = "zh") -> str:
    """Where ``record`` stands, what happens next and what the customer may do, in ``lang`` (zh | en)."""
    decision = record.decision
    contract = record.contract or {}
    signature = record.signature
    zh, en = LABELS[record.status]
    return str(prompts.reply(
        "application_status", lang, number=reference(record.id), status=record.status.value,
        label=zh if lang == "zh" else en,
        conditions=list(decision.conditions) if decision else [],
        reasons=list(decision.reasons) if decision else [],
        documents=list(decision.documents) if decision and decision.outcome == "request_documents" else [],
        contract_number=contract.get("contract_number", ""),
        signed_at=signature.signed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if signature else "",
    ))
