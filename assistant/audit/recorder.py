"""The one place every channel records credit decisions and issued documents in the audit trail.

The chat service (web, app, WeChat, terminal), the partner HTTP routes (``POST /v1/score``,
``POST /v1/documents``) and the rasa action server all call these functions, so an entry has the same
shape whichever way the decision or the document came: ``decision`` with the served model's outcome,
``document_issued`` once per file. ``channel`` says where it came from; ``api_key_id`` (a hash, never the
key) which partner asked. The audit log masks personal data and hashes session ids before storing.

Copilot replays (the agent desk's assistant answering a customer's turns in a scratch session) are not
customer sessions: :func:`record_copilot_replay` writes one ``copilot_replay`` entry per replayed turn
that ran a tool, issued a document or handed off, attached to no session and marked ``actor: staff``,
instead of the customer-session entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

COPILOT_CHANNEL = "copilot"
# What a decision entry keeps of a scoring result (outputs only: no applicant inputs, no free text).
DECISION_FIELDS = ("decision", "grade", "probability_of_default", "score", "human_review", "model_version",
                   "variant", "applicant_id")
DOCUMENT_FIELDS = ("document_id", "kind", "format", "sha256", "template_version")


def _audit(services: Any) -> Any:
    """The services' audit log, or None when a test double or a partial install has none."""
    try:
        return getattr(services, "audit", None)
    except (AttributeError, ImportError):
        return None


def _plain(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else dict(value)


def _origin(channel: str, api_key_id: str | None) -> dict[str, Any]:
    origin: dict[str, Any] = {"channel": channel}
    if api_key_id:
        origin["api_key_id"] = api_key_id
    return origin


def record_decision(services: Any, decision: BaseModel | Mapping[str, Any], *, session_id: str | None,
                    channel: str, api_key_id: str | None = None) -> str | None:
    """A ``decision`` entry for one scoring outcome; returns its hash (None without an audit log)."""
    audit = _audit(services)
    if audit is None:
        return None
    data = _plain(decision)
    entry = {k: data[k] for k in DECISION_FIELDS if data.get(k) is not None}
    shadow = data.get("shadow")
    if isinstance(shadow, Mapping):
        entry["shadow"] = {k: shadow.get(k) for k in ("variant", "model_version", "decision", "grade")}
    return audit.record("decision", session_id, {**entry, **_origin(channel, api_key_id)})


def record_documents(services: Any, documents: Iterable[BaseModel | Mapping[str, Any]], *,
                     session_id: str | None, channel: str, contract_number: str | None = None,
                     preview: bool | None = None, api_key_id: str | None = None) -> list[str]:
    """One ``document_issued`` entry per document; returns their hashes."""
    audit = _audit(services)
    if audit is None:
        return []
    hashes = []
    for document in documents:
        data = _plain(document)
        entry = {k: data[k] for k in DOCUMENT_FIELDS if data.get(k) is not None}
        if contract_number is not None:
            entry["contract_number"] = contract_number
        if preview is not None:
            entry["preview"] = preview
        hashes.append(audit.record("document_issued", session_id, {**entry, **_origin(channel, api_key_id)}))
    return hashes


def record_outcome(services: Any, tool: str, result: BaseModel | Mapping[str, Any], *, session_id: str | None,
                   channel: str, api_key_id: str | None = None) -> None:
    """Record what a tool run decided or issued (``score_applicant``, ``generate_documents``); other tools
    leave nothing beyond their ``tool_call`` entry."""
    if tool == "score_applicant":
        record_decision(services, result, session_id=session_id, channel=channel, api_key_id=api_key_id)
    elif tool == "generate_documents":
        data = _plain(result)
        record_documents(services, data.get("documents", []), session_id=session_id, channel=channel,
                         contract_number=data.get("contract_number"), preview=data.get("preview"),
                         api_key_id=api_key_id)


def record_copilot_replay(services: Any, *, tools: Iterable[str], decision: Mapping[str, Any] | None,
                          documents: Iterable[BaseModel | Mapping[str, Any]], handoff: bool) -> str | None:
    """One staff entry for a copilot scratch turn: no customer session, no decision or document entries."""
    audit = _audit(services)
    if audit is None:
        return None
    data: dict[str, Any] = {"actor": "staff", "channel": COPILOT_CHANNEL, "scratch": True, "tools": list(tools),
                            "handoff": handoff}
    if decision:
        data["decision"] = {k: decision.get(k) for k in ("decision", "grade") if decision.get(k) is not None}
    docs = [_plain(d) for d in documents]
    if docs:
        data["documents"] = [{k: d.get(k) for k in ("document_id", "kind")} for d in docs]
    return audit.record("copilot_replay", None, data)
