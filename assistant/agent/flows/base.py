"""What a flow is (data: what it collects, in which order, what it runs, what re-runs it) and the run context.

Adding an intent means: its utterances, one :class:`Flow` in a module of this package, its templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from assistant.agent.prompts import PromptLibrary
from assistant.agent.turn import TurnDraft
from assistant.agent.types import SessionState, ToolCallRecord
from assistant.domain.loan_amount import loan_from_price
from assistant.domain.money import percent_str
from assistant.errors import AssistantError
from assistant.privacy import mask_pii
from assistant.tools.registry import REGISTRY, ToolContext

DEFAULT_TERM = 36
DEFAULT_DOWN_RATIO = Decimal("0.3")


def loan_from_slots(price: Decimal, slots: dict[str, Any]) -> Decimal | None:
    """The loan ``price`` leaves after the down payment the slots state (in yuan, else as a ratio)."""
    return loan_from_price(
        price,
        down_payment=Decimal(str(slots["down_payment"])) if "down_payment" in slots else None,
        down_ratio=Decimal(str(slots["down_payment_ratio"])) if "down_payment_ratio" in slots else None,
    )


@dataclass(frozen=True)
class Collect:
    """One fact a flow needs before it can run, asked for in order.

    ``satisfied_by``: other slots that make the question unnecessary (a loan amount instead of a car
    price); ``ready``: a custom test on the state (the collateral flow's "which model?").
    """

    slot: str
    satisfied_by: tuple[str, ...] = ()
    ready: Callable[[SessionState], bool] | None = None

    def missing(self, state: SessionState) -> bool:
        """True when the flow must still ask for this."""
        if self.ready is not None:
            return not self.ready(state)
        return not any(name in state.slots for name in (self.slot, *self.satisfied_by))


@dataclass(frozen=True)
class Flow:
    """A flow as data: its facts, the order it asks them in, the action it runs, what a change re-runs."""

    name: str
    hint: tuple[str, str]
    run: Callable[[FlowRun], None]
    collects: tuple[Collect, ...] = ()
    uses: frozenset[str] = frozenset()  # a change to any of these re-runs the flow's action
    task: bool = True  # gathers facts over several turns (a side question returns to it)
    consent: bool = False  # needs the pre-assessment consent before anything is collected

    def next_missing(self, state: SessionState) -> Collect | None:
        """The first fact still to ask for."""
        return next((c for c in self.collects if c.missing(state)), None)


@dataclass
class FlowRun:
    """Everything a flow's action may touch this turn."""

    state: SessionState
    draft: TurnDraft
    ctx: ToolContext
    text: str
    prompts: PromptLibrary
    services: Any
    notes: list[str] = field(default_factory=list)  # what the manager assumed or dropped, said in the reply

    @property
    def lang(self) -> str:
        """The customer's language."""
        return self.state.lang

    @property
    def slots(self) -> dict[str, Any]:
        """The session's facts."""
        return self.state.slots

    def pick(self, zh: str, en: str) -> str:
        """The text in the customer's language."""
        return zh if self.state.lang == "zh" else en

    def reply(self, name: str, **context: Any) -> str:
        """Render a reply template in the customer's language."""
        return self.prompts.reply(name, self.state.lang, **context)

    def ask(self, slot: str) -> None:
        """Ask for one fact (the answer is read with this slot expected)."""
        self.state.pending_slot = slot
        self.draft.reply = self.reply("ask_slot", slot=slot)

    def call(self, name: str, arguments: dict[str, Any]) -> BaseModel | None:
        """Run a registered tool, recording the call (arguments masked) for the reply and the audit trail."""
        record = ToolCallRecord(name=name, arguments={k: mask_pii(v) if isinstance(v, str) else v
                                                      for k, v in arguments.items()})
        self.draft.tool_calls.append(record)
        try:
            result = REGISTRY.get(name).invoke(self.ctx, arguments)
        except AssistantError as exc:
            record.error = exc.message
            return None
        record.result = result.model_dump(mode="json")
        return result

    def last_error(self) -> str:
        """The error of the last tool call (shown when a tool refused)."""
        return (self.draft.tool_calls[-1].error or "") if self.draft.tool_calls else ""

    # ------------------------------------------------------------ shared loan arithmetic
    def principal(self, assumed: list[str]) -> Decimal | None:
        """The loan amount from what the customer said: the loan, or the price minus the down payment."""
        s = self.slots
        if "loan_amount" in s:
            return Decimal(str(s["loan_amount"]))
        price = s.get("vehicle_price")
        if price is None:
            return None
        loan = loan_from_slots(Decimal(str(price)), s)
        if loan is not None:
            return loan
        assumed.append(self.pick("首付按三成估算", "30% down payment assumed"))
        return loan_from_price(Decimal(str(price)), down_ratio=DEFAULT_DOWN_RATIO)

    def reference_rate(self, assumed: list[str]) -> Decimal:
        """The bank auto loan's middle-grade rate from the catalogue, said as an assumption."""
        product = self.services.catalogue.product("bank_auto_loan")
        grades = product.grades
        rate = product.rate_for(grades[len(grades) // 2])
        assumed.append(self.pick(f"利率按银行车贷参考年利率{percent_str(rate)}估算",
                                 f"the bank-loan reference rate of {percent_str(rate)} assumed"))
        return rate

    def handoff(self, reason: str) -> None:
        """Hand the conversation to a person."""
        self.draft.handoff = True
        self.state.handoff = True
        self.state.handoff_reason = reason
