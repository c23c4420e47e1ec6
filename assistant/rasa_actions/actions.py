"""One rasa-sdk ``Action`` per registered tool (``action_<tool name>``), and ``validate_loan_form``.

A tool action reads its arguments from the tracker's slots (the slot names are the contract's:
``vehicle_price``, ``down_payment_ratio``, ``term_months`` …, plus a few aliases such as
``loan_amount`` → ``principal``), runs the tool, utters a short Chinese summary with the whole result as
``json_message`` (custom payload), and sets any domain slot named like a field of the result.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.audit.recorder import record_outcome
from assistant.domain.loan_amount import loan_from_price
from assistant.domain.money import FEN, percent_str, yuan_str
from assistant.errors import AssistantError
from assistant.logs import get_logger
from assistant.tools.registry import Tool, ToolContext

log = get_logger(__name__)

# Tool argument → slots that may hold it (besides a slot with the argument's own name).
ALIASES: dict[str, tuple[str, ...]] = {
    "principal": ("loan_amount",),
    "annual_rate": ("quoted_rate",),
    "kind": ("document_kind",),
    "method": ("repayment_method",),
    "age_years": ("vehicle_age_years",),
    "condition": ("vehicle_condition",),
}
# Staff-only actions: action → the API-key scope the action server asks for (``X-API-Key`` on the webhook
# call; Rasa sends it from ``endpoints.yml``). Whoever reaches the action server picks the ``sender_id``, so
# nothing that trusts it may be open: the loan-book tools (a loan's balance, arrears, collection plan and the
# customer's value) run as staff with the ``lifecycle`` scope, as ``/v1/lifecycle`` does, and the credit
# model needs the ``score`` scope, as ``/v1/score`` does (it is not for anonymous probing). The rest (quote,
# matching, valuation, knowledge search, documents for the caller's own session) are what the customer chat
# offers without a key.
STAFF_ACTIONS: dict[str, str] = {
    "action_loan_status": "lifecycle",
    "action_collection_options": "lifecycle",
    "action_retention_offers": "lifecycle",
    "action_score_applicant": "score",
}
# Actions that run as staff (any loan by ``loan_id``) once the key was checked.
STAFF_CHANNEL_SCOPES = frozenset({"lifecycle"})

# Arguments that take the customer's own words when no slot holds them.
TEXT_ARGUMENTS = frozenset({"query", "question", "text", "why_not", "target"})
SLOT_ZH = {
    "principal": "贷款金额", "loan_amount": "贷款金额", "annual_rate": "年利率", "quoted_rate": "年利率/费率",
    "term_months": "期数", "vehicle_price": "车价", "monthly_income": "月收入", "budget": "预算",
    "down_payment_ratio": "首付比例", "brand": "品牌", "series": "车系", "vehicle_age_years": "车龄",
    "mileage_km": "里程", "kind": "文件类型", "document_kind": "文件类型", "query": "问题",
}


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "", True, False) else None
    except InvalidOperation:
        return None


def working_slots(tracker: Tracker) -> dict[str, Any]:
    """The tracker's filled slots plus what follows from them (loan amount from price and down payment)."""
    slots = {k: v for k, v in tracker.current_slot_values().items() if v not in (None, "", [])}
    price = _number(slots.get("vehicle_price"))
    if "loan_amount" not in slots and price is not None:
        loan = loan_from_price(price, down_payment=_number(slots.get("down_payment")),
                               down_ratio=_number(slots.get("down_payment_ratio")), unit=FEN)
        if loan is not None:
            slots["loan_amount"] = str(loan)
    return slots


def tool_arguments(tool: Tool, tracker: Tracker) -> tuple[dict[str, Any], list[str]]:
    """Arguments for ``tool`` from the tracker, and the required ones still missing."""
    slots = working_slots(tracker)
    text = (tracker.latest_message or {}).get("text") or ""
    args: dict[str, Any] = {}
    missing: list[str] = []
    for name, field in tool.input_model.model_fields.items():
        for slot in (name, *ALIASES.get(name, ())):
            if slot in slots:
                args[name] = slots[slot]
                break
        else:
            if name in TEXT_ARGUMENTS and text and field.is_required():
                args[name] = text
            elif field.is_required():
                missing.append(name)
    return args, missing


def summarise(tool_name: str, out: dict[str, Any]) -> str:
    """A short Chinese summary of a tool result (every price with its APR)."""
    if "monthly_payment" in out and "apr" in out:
        return (f"月供{yuan_str(Decimal(str(out['monthly_payment'])))}元，总利息"
                f"{yuan_str(Decimal(str(out.get('total_interest', 0))))}元，年化利率"
                f"{percent_str(Decimal(str(out['apr'])))}（IRR法，12×月利率）。")
    if isinstance(out.get("offers"), list):
        offers = out["offers"][:3]
        if not offers:
            return "暂时没有符合条件的方案，可以调整预算、首付或期限再试。"
        lines = [f"{i}. {o['vehicle'].get('brand', '')}{o['vehicle'].get('series', '')}：月供"
                 f"{yuan_str(Decimal(str(o['monthly_payment'])))}元，年化利率{percent_str(Decimal(str(o['apr'])))}"
                 for i, o in enumerate(offers, 1)]
        return "为您找到以下方案：\n" + "\n".join(lines)
    if "decision" in out and "grade" in out:
        label = {"approve": "预审通过", "review": "需人工审核", "decline": "暂不符合条件"}.get(out["decision"], "")
        return f"预审结果：{label}（等级{out['grade']}）。预审结果不代表最终审批。"
    if isinstance(out.get("results"), list):
        hits = out["results"][:2]
        if not hits:
            return "知识库中没有找到相关内容，建议转人工咨询。"
        answer = out.get("answer") or hits[0].get("snippet", "")
        return f"{answer}\n（依据：{'、'.join(h.get('title', h.get('doc_id', '')) for h in hits)}）"
    if "url" in out and ("document_id" in out or "documents" in out):
        return f"文件已生成：{out['url']}"
    if isinstance(out.get("documents"), list):
        return "文件已生成：" + "；".join(str(d.get("url", "")) for d in out["documents"])
    return f"已完成：{tool_name}"


class ToolAction(Action):
    """Runs one registered tool with arguments from the tracker's slots."""

    def __init__(self, tool: Tool, services: Any) -> None:
        self.tool = tool
        self.services = services

    def name(self) -> str:
        return f"action_{self.tool.name}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from assistant import metrics

        args, missing = tool_arguments(self.tool, tracker)
        if missing:
            names = "、".join(dict.fromkeys(SLOT_ZH.get(m, m) for m in missing))
            dispatcher.utter_message(text=f"还需要您提供：{names}。", json_message={"missing": missing})
            return []
        # The action server let this call through only with a key of this scope (server.py): staff.
        staff = STAFF_ACTIONS.get(self.name()) in STAFF_CHANNEL_SCOPES
        ctx = ToolContext(services=self.services, session_id=tracker.sender_id, channel="staff" if staff else "rasa")
        metrics.TOOL_CALLS.labels(tool=self.tool.name).inc()
        try:
            result: BaseModel = await asyncio.to_thread(self.tool.invoke, ctx, args)
        except AssistantError as exc:
            self._audit(tracker, args, exc.code)
            dispatcher.utter_message(text=exc.zh, json_message={"error": {"code": exc.code, "message": exc.message}})
            return []
        self._audit(tracker, args, None)
        record_outcome(self.services, self.tool.name, result, session_id=tracker.sender_id, channel="rasa")
        out = result.model_dump(mode="json")
        dispatcher.utter_message(text=summarise(self.tool.name, out), json_message={"tool": self.tool.name,
                                                                                     "result": out})
        domain_slots = set((domain or {}).get("slots", {}))
        return [SlotSet(k, v) for k, v in out.items() if k in domain_slots and not isinstance(v, (dict, list))]

    def _audit(self, tracker: Tracker, args: dict[str, Any], error: str | None) -> None:
        audit = getattr(self.services, "audit", None)
        if audit is not None:
            audit.record("tool_call", tracker.sender_id, {"tool": self.tool.name, "arguments": args,
                                                          "error": error, "channel": "rasa"})


# ---------------------------------------------------------------------------------------- loan form
# slot → (how to read it, plausible range). Money in yuan, ratio a fraction, term in months.
FORM_SLOTS: dict[str, tuple[str, Decimal, Decimal]] = {
    "vehicle_price": ("money", Decimal(10_000), Decimal(10_000_000)),
    "budget": ("money", Decimal(10_000), Decimal(10_000_000)),
    "loan_amount": ("money", Decimal(1_000), Decimal(10_000_000)),
    "down_payment": ("money", Decimal(0), Decimal(10_000_000)),
    "monthly_income": ("money", Decimal(500), Decimal(10_000_000)),
    "down_payment_ratio": ("ratio", Decimal(0), Decimal("0.9")),
    "term_months": ("months", Decimal(6), Decimal(60)),
    "quoted_rate": ("rate", Decimal(0), Decimal("0.36")),
}
FORM_ERRORS = {
    "vehicle_price": "没能识别车价，请告诉我具体金额，例如“20万”。",
    "budget": "没能识别预算，请告诉我具体金额，例如“15万左右”。",
    "loan_amount": "没能识别贷款金额，请告诉我具体金额，例如“贷10万”。",
    "down_payment": "没能识别首付金额，请告诉我具体金额，例如“首付5万”。",
    "monthly_income": "没能识别月收入，请告诉我具体金额，例如“月薪1.2万”。",
    "down_payment_ratio": "首付比例需在0到九成之间，例如“首付三成”或“30%”。",
    "term_months": "贷款期限需在6到60期之间，例如“36期”或“3年”。",
    "quoted_rate": "没能识别利率，请告诉我年利率或年费率，例如“年利率4.5%”或“费率3.5%”。",
}


def normalise_slot(slot: str, value: Any) -> Any:
    """The contract value of a form answer: 十五万 → 150000, 三成 → 0.3, 3年 → 36; None if unusable."""
    from assistant.nlu.numbers import parse_money, parse_months, parse_rate, parse_ratio
    from assistant.nlu.slots import extract_slots

    kind, low, high = FORM_SLOTS[slot]
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    found = extract_slots(text, expected_slot=slot).get(slot)
    if found is None:
        parser = {"money": parse_money, "ratio": parse_ratio, "months": parse_months, "rate": parse_rate}[kind]
        found = parser(text)
    if found is None and isinstance(value, (int, float)):
        found = value  # an entity extractor already gave a number
    number = _number(found)
    if number is None:
        return None
    if kind in ("ratio", "rate") and 1 < number <= 100:  # "30" meaning 30 %
        number = number / 100
    if not low <= number <= high:
        return None
    return float(number) if kind in ("ratio", "rate") else int(number)


class ValidateLoanForm(FormValidationAction):
    """Validates and normalises the loan form's answers with the assistant's own NLU normalisers."""

    def name(self) -> str:
        return "validate_loan_form"

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        normalised = normalise_slot(slot, value)
        if normalised is None:
            dispatcher.utter_message(text=FORM_ERRORS[slot])
        return {slot: normalised}

    def validate_vehicle_price(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        """车价 → yuan."""
        return self._validate("vehicle_price", value, dispatcher)

    def validate_budget(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        """预算 → yuan."""
        return self._validate("budget", value, dispatcher)

    def validate_loan_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        """贷款金额 → yuan."""
        return self._validate("loan_amount", value, dispatcher)

    def validate_down_payment(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        """首付金额 → yuan."""
        return self._validate("down_payment", value, dispatcher)

    def validate_monthly_income(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        """月收入 → yuan per month."""
        return self._validate("monthly_income", value, dispatcher)

    def validate_down_payment_ratio(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        """首付比例 → fraction."""
        return self._validate("down_payment_ratio", value, dispatcher)

    def validate_term_months(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        """期限 → months (6–60)."""
        return self._validate("term_months", value, dispatcher)

    def validate_quoted_rate(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        """年利率/年费率 → annual fraction (月费率 is annualised by the NLU: 0.3%/月 → 0.036); 费率 also
        sets ``rate_type`` to flat (charged on the original principal), 利率 to nominal."""
        from assistant.nlu.slots import extract_slots

        result = self._validate("quoted_rate", value, dispatcher)
        rate_type = extract_slots(str(value), expected_slot="quoted_rate").get("rate_type")
        if result["quoted_rate"] is not None and rate_type:
            result["rate_type"] = rate_type
        return result
