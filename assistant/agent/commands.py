"""Commands: the seam between understanding and dialogue (after Rasa CALM's command generator).

A command generator (the offline tracker, or the LLM) reads a customer message in the light of the
conversation and says *what the customer did* — set a fact, correct one, rule something out, pick an
offer shown, ask a knowledge question, consent — as a list of commands. The dialogue manager alone
changes the state, runs flows and tools and owns every number. One message may yield several commands.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetSlot(_Command):
    """The customer states a fact (a contract slot, or one of the product's added slots)."""

    kind: Literal["set_slot"] = "set_slot"
    slot: str
    value: Any


class CorrectSlot(_Command):
    """The customer changes a fact they gave: to a new value, or by a relative amount ("再少付一万")."""

    kind: Literal["correct_slot"] = "correct_slot"
    slot: str
    value: Any = None
    delta: float | None = Field(default=None, description="relative change (−10000 = one 万 less)")


class ClearSlot(_Command):
    """The customer withdraws a fact ("不限品牌了")."""

    kind: Literal["clear_slot"] = "clear_slot"
    slot: str


class ExcludeValue(_Command):
    """The customer rules a value out ("不要插混的了" → energy_type phev)."""

    kind: Literal["exclude_value"] = "exclude_value"
    slot: Literal["energy_type", "brand", "body_type"]
    value: str


class AddDebt(_Command):
    """An existing monthly repayment ("每月还房贷5千"): by kind, so a restated debt replaces itself."""

    kind: Literal["add_debt"] = "add_debt"
    debt_kind: str = Field(description="mortgage | car_loan | online_loan | credit_card | other")
    monthly_payment: int = Field(ge=0, le=10_000_000)
    label: str | None = Field(default=None, max_length=20,
                              description="the loan's own name (装修贷, 农机贷) so two loans of one kind both count")


class StartFlow(_Command):
    """The customer wants a task done (one of the task intents)."""

    kind: Literal["start_flow"] = "start_flow"
    flow: str


class SelectOffer(_Command):
    """The customer refers to an offer shown: by rank, the cheapest/priciest, a brand, or "that one"."""

    kind: Literal["select_offer"] = "select_offer"
    rank: int | None = Field(default=None, ge=1, le=20)
    cheapest: bool = False
    priciest: bool = False
    brand: str | None = None
    current: bool = Field(default=False, description="'that one' / 'the one above': the one in focus")
    ask: str | None = Field(default=None, description="a figure asked about: monthly_payment, down_payment, …")


class AnswerKnowledge(_Command):
    """Questions to answer from the knowledge base (each part of a message asking two things)."""

    kind: Literal["answer_knowledge"] = "answer_knowledge"
    questions: list[str] = Field(min_length=1, max_length=4)


class Consent(_Command):
    """Yes or no to the pre-assessment consent just asked for."""

    kind: Literal["consent"] = "consent"
    given: bool


class Handoff(_Command):
    """The customer wants a person."""

    kind: Literal["handoff"] = "handoff"
    reason: str = "customer_request"


class Clarify(_Command):
    """The message cannot be acted on without a question back (a reference to nothing, an edit of nothing)."""

    kind: Literal["clarify"] = "clarify"
    zh: str
    en: str


class ChitChat(_Command):
    """Greeting, thanks, goodbye, small talk."""

    kind: Literal["chitchat"] = "chitchat"
    act: Literal["greeting", "goodbye", "out_of_scope", "summary", "injection"] = "greeting"


class CannotHandle(_Command):
    """Nothing in the message could be understood."""

    kind: Literal["cannot_handle"] = "cannot_handle"
    reason: str = ""


Command = Annotated[
    SetSlot | CorrectSlot | ClearSlot | ExcludeValue | AddDebt | StartFlow | SelectOffer | AnswerKnowledge
    | Consent | Handoff | Clarify | ChitChat | CannotHandle,
    Field(discriminator="kind"),
]
COMMANDS_ADAPTER: TypeAdapter[list[Command]] = TypeAdapter(list[Command])


def describe(commands: list[Any]) -> list[dict[str, Any]]:
    """Commands as plain dicts (for logs, the audit trail and tests)."""
    return [c.model_dump(exclude_defaults=True) | {"kind": c.kind} for c in commands]
