"""The LLM command generator: the model reads the conversation, the flows and the state and returns commands.

One tool call (``emit_commands``) per turn through the :class:`~assistant.agent.model.ChatModel` seam
(LangChain ``ChatOpenAI`` in production, fakes in tests). What comes back is validated twice — against
the command schema (``COMMANDS_ADAPTER``) and, value by value, against the slot schema
(``validate_slot``), plus the flows and offers that exist — and any invalid or failed output makes the
caller use the offline generator for that turn. The model never computes a number; the dialogue
manager runs the tools.

Personal data is masked (``PiiVault``) in everything sent; placeholders in the model's slot values are
restored locally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from assistant.agent.commands import (
    COMMANDS_ADAPTER,
    AddDebt,
    Consent,
    CorrectSlot,
    SelectOffer,
    SetSlot,
    StartFlow,
)
from assistant.agent.flows import FLOWS
from assistant.agent.flows.render import offer_card
from assistant.agent.model import ChatModel, ModelReply
from assistant.agent.prompts import PromptLibrary
from assistant.agent.slot_schema import SLOT_SPECS, validate_slot
from assistant.agent.types import SessionState
from assistant.privacy import PiiVault

TOOL_NAME = "emit_commands"
# Earlier turns sent with the message; the state carries the facts and the offers shown, so the
# assistant's (long) replies are cut short: together they keep a call under ~3,000 tokens.
HISTORY_TURNS = 2
HISTORY_REPLY_CHARS = 160
HISTORY_MESSAGE_CHARS = 300
INTENTS = tuple(FLOWS)  # one flow per contract intent, so the flows name the intents the model may report
EMIT_COMMANDS = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Report what the customer's latest message does, as commands for the dialogue manager.",
        "parameters": {
            "type": "object",
            "properties": {
                "intent": {"type": "string", "enum": list(INTENTS)},
                "commands": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["intent", "commands"],
        },
    },
}


class InvalidCommands(ValueError):
    """The model's output is not a valid set of commands for this state (the turn falls back)."""


@dataclass
class Generated:
    """A validated result: the commands, the turn's intent, and the tokens the call cost."""

    commands: list[Any]
    intent: str
    prompt_tokens: int


class LLMCommandGenerator:
    """Message + state + history → commands, by one model call."""

    def __init__(self, model: ChatModel, prompts: PromptLibrary) -> None:
        self.model = model
        self.prompts = prompts

    def messages(self, state: SessionState, message: str, history: list[dict[str, str]],
                 vault: PiiVault) -> list[dict[str, Any]]:
        """What is sent: the instructions with the state, a few earlier turns, the message (all masked)."""
        system = self.prompts.template(
            "system/commands", state.lang, slots=_slot_lines(), flows=_flow_lines(state.lang),
            state=vault.mask(_state_text(state)))
        out: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for item in history[-2 * HISTORY_TURNS:]:
            customer = item["role"] == "customer"
            text = item["text"][:HISTORY_MESSAGE_CHARS if customer else HISTORY_REPLY_CHARS]
            out.append({"role": "user" if customer else "assistant", "content": vault.mask(text)})
        out.append({"role": "user", "content": vault.mask(message[:2000])})
        return out

    def generate(self, state: SessionState, message: str, history: list[dict[str, str]],
                 vault: PiiVault, deadline: float | None = None) -> Generated:
        """Ask the model; raise :class:`InvalidCommands` (or the model's ``AssistantError``) when it cannot be used.

        ``deadline`` (``time.monotonic()``) is the turn's model-time budget, shared with the phrasing call.
        """
        messages = self.messages(state, message, history, vault)
        reply: ModelReply = self.model.complete(messages, tools=[EMIT_COMMANDS], deadline=deadline)
        tokens = reply.prompt_tokens
        if tokens is None:  # servers that do not report usage: ≈1.5 characters a token for Chinese text
            tokens = int(sum(len(str(m.get("content") or "")) for m in messages) / 1.5)
        call = next((c for c in reply.tool_calls if c.name == TOOL_NAME), None)
        if call is None:
            raise InvalidCommands("the model did not call emit_commands")
        arguments = vault.unmask_obj(call.arguments)
        if not isinstance(arguments, dict):
            raise InvalidCommands("emit_commands arguments are not an object")
        commands, intent = parse_commands(arguments, state)
        return Generated(commands=commands, intent=intent, prompt_tokens=tokens)


def parse_commands(arguments: dict[str, Any], state: SessionState) -> tuple[list[Any], str]:
    """Validate the model's ``emit_commands`` arguments against the schemas and the state."""
    intent = arguments.get("intent")
    if intent not in INTENTS:
        raise InvalidCommands(f"unknown intent {intent!r}")
    raw = arguments.get("commands")
    if isinstance(raw, str):  # some servers send nested JSON as a string
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidCommands("commands is not JSON") from exc
    if not isinstance(raw, list) or len(raw) > 12:
        raise InvalidCommands("commands must be a list of at most 12")
    try:
        commands = COMMANDS_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise InvalidCommands(f"commands do not match the schema: {exc.error_count()} errors") from exc
    clean: list[Any] = []
    for cmd in commands:
        if isinstance(cmd, SetSlot | CorrectSlot):
            if cmd.slot not in SLOT_SPECS:
                raise InvalidCommands(f"unknown slot {cmd.slot!r}")
            if isinstance(cmd, CorrectSlot) and cmd.delta is not None:
                if SLOT_SPECS[cmd.slot].kind not in ("money", "int", "ratio", "float"):
                    raise InvalidCommands(f"{cmd.slot} cannot be changed by a delta")
            else:
                try:
                    value = validate_slot(cmd.slot, cmd.value)
                except ValueError as exc:
                    raise InvalidCommands(str(exc)) from exc
                cmd = cmd.model_copy(update={"value": value})
        elif isinstance(cmd, StartFlow) and cmd.flow not in FLOWS:
            raise InvalidCommands(f"unknown flow {cmd.flow!r}")
        elif isinstance(cmd, Consent) and not state.awaiting_consent:
            raise InvalidCommands("consent given while none was asked for")
        elif isinstance(cmd, AddDebt) and cmd.debt_kind not in ("mortgage", "car_loan", "online_loan", "credit_card",
                                                                "other"):
            raise InvalidCommands(f"unknown debt kind {cmd.debt_kind!r}")
        elif isinstance(cmd, SelectOffer) and not state.last_offers and cmd.rank is None:
            raise InvalidCommands("an offer selected while none was shown")
        clean.append(cmd)
    if not clean:
        raise InvalidCommands("no commands")
    return clean, str(intent)


def _slot_lines() -> str:
    """The slot schema, compactly: names grouped by type, enums with their values."""
    groups: dict[str, list[str]] = {}
    enums = []
    for name, spec in SLOT_SPECS.items():
        if spec.kind == "enum":
            enums.append(f"{name}={'|'.join(spec.values)}")
        else:
            groups.setdefault(spec.kind, []).append(name)
    parts = [f"{kind}: {', '.join(names)}" for kind, names in groups.items()]
    return "; ".join(parts + enums)


def _flow_lines(lang: str) -> str:
    """The flows by name (task flows first: they collect facts over several turns)."""
    return ", ".join(sorted(FLOWS, key=lambda name: not FLOWS[name].task))


def _state_text(state: SessionState) -> str:
    """The state the model reads: the task, the question pending, the facts, the offers shown."""
    parts = [f"flow={state.flow or '-'}", f"pending_slot={state.pending_slot or '-'}",
             f"awaiting_consent={str(state.awaiting_consent).lower()}",
             "slots=" + json.dumps(state.slots, ensure_ascii=False, default=str)]
    if state.excluded:
        parts.append("excluded=" + json.dumps(state.excluded, ensure_ascii=False))
    if state.last_offers:
        shown = []
        for rank, offer in enumerate(state.last_offers, start=1):
            card = offer_card(offer, state.lang)
            shown.append(f"{rank}. {card['vehicle_name']} 月供{card['monthly_payment']} 车价{card['vehicle_price']}")
        parts.append("offers_shown=" + " | ".join(shown))
        if state.selected_offer:
            parts.append(f"selected_offer={state.selected_offer}")
    return "\n".join(parts)


__all__ = ["EMIT_COMMANDS", "Generated", "InvalidCommands", "LLMCommandGenerator", "parse_commands"]
