"""The dialogue manager: applies commands to the state, runs the flows and tools, composes the reply.

Both command generators (offline tracker, LLM) feed it; it alone changes the session and owns every
number. Flows are data (``assistant.agent.flows``): the manager asks for what a flow still lacks,
runs its action when it has everything, and re-runs it when a fact it uses changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.agent import cues
from assistant.agent.commands import (
    AddDebt,
    AnswerKnowledge,
    CannotHandle,
    ChitChat,
    Clarify,
    ClearSlot,
    Consent,
    CorrectSlot,
    ExcludeValue,
    Handoff,
    SelectOffer,
    SetSlot,
    StartFlow,
    describe,
)
from assistant.agent.facts import SLOT_LABELS, describe_slots, slot_value_text
from assistant.agent.flows import FLOWS, TASK_FLOWS, FlowRun
from assistant.agent.flows.base import loan_from_slots
from assistant.agent.flows.render import offer_card
from assistant.agent.flows.service import answer_question
from assistant.agent.guard import check_text
from assistant.agent.offers import application_from_offer, resolve_offer
from assistant.agent.prompts import PromptLibrary
from assistant.agent.slot_schema import SLOT_SPECS, WHO_SLOTS, validate_slot
from assistant.agent.turn import TurnDraft
from assistant.agent.types import SessionState
from assistant.nlu.slots import prepare
from assistant.tools.registry import ToolContext

# Facts tied to one particular car or calculation: a new recommendation goal does not inherit them.
CAR_SPECIFIC = ("vehicle_price", "loan_amount")
OWNED_CAR = ("brand", "mileage_km", "vehicle_age_years", "vehicle_condition")  # the car a collateral loan was on
# How to state a fact that a relative edit ("首付再少一万") found missing.
_EDIT_EXAMPLES = {
    "budget": ("预算15万", "budget 150k"), "vehicle_price": ("车价20万", "price 200k"),
    "down_payment": ("首付5万", "50k down"), "loan_amount": ("贷款10万", "borrow 100k"),
    "term_months": ("分36期", "36 months"), "monthly_income": ("月收入1万", "income 10k a month"),
    "down_payment_ratio": ("首付三成", "30% down"),
}
# What describes one car wanted, dropped when the customer starts looking for another (a second car, a car
# for someone else); income, debts, the payment cap and the profile stay, they are the customer's.
CAR_PREFERENCES = ("body_type", "energy_type", "brand", "vehicle_condition", "down_payment", "down_payment_ratio",
                   "budget_min", "vehicle_price", "loan_amount")
FIELD_NAMES = {
    "monthly_payment": ("月供", "monthly payment"), "down_payment": ("首付", "down payment"),
    "loan_amount": ("贷款", "loan"), "total_interest": ("总利息", "total interest"),
    "vehicle_price": ("车价", "price"), "apr": ("年化利率", "APR"),
}


def _elliptical(question: str) -> bool:
    """A short follow-up that names no topic of its own ("要带啥材料过去", "how long does it take")."""
    words = question.split()
    cjk = sum(1 for ch in question if "\u4e00" <= ch <= "\u9fff")
    return bool(cjk and cjk <= 10) or (not cjk and len(words) <= 6)


class DialogueManager:
    """Commands in, a :class:`TurnDraft` out; the state is updated in place."""

    def __init__(self, services: Any, prompts: PromptLibrary) -> None:
        self.services = services
        self.prompts = prompts

    def handle(self, state: SessionState, commands: list[Any], text: str, ctx: ToolContext, *,
               intent: str, confidence: float = 1.0) -> TurnDraft:
        """Carry out one turn's commands."""
        draft = TurnDraft(intent=intent, confidence=confidence, commands=describe(commands))
        run = FlowRun(state=state, draft=draft, ctx=ctx, text=text, prompts=self.prompts, services=self.services)
        previous_flow, previous_pending = state.flow, state.pending_slot
        changed: set[str] = set()
        clarifications: list[str] = []
        questions: list[str] = []
        target: str | None = None
        earlier_tasks: list[str] = []  # "年费率3.8%实际年化多少 还有预算13w有啥suv推荐": two tasks, both done
        selection: SelectOffer | None = None
        chit: str | None = None
        for cmd in commands:
            if isinstance(cmd, SetSlot):
                self._set(state, cmd.slot, cmd.value, changed, clarifications)
            elif isinstance(cmd, CorrectSlot):
                self._correct(state, cmd, changed, clarifications)
            elif isinstance(cmd, ClearSlot):
                if state.slots.pop(cmd.slot, None) is not None:
                    changed.add(cmd.slot)
            elif isinstance(cmd, ExcludeValue):
                self._exclude(state, cmd, changed)
            elif isinstance(cmd, AddDebt):
                key = f"{cmd.debt_kind}:{cmd.label}" if cmd.label else cmd.debt_kind
                if cmd.monthly_payment == 0 and key not in state.debts:
                    # "车位那个贷款结清了": the named loan the words point at
                    key = next((k for k in state.debts if ":" in k and k.split(":", 1)[1][:2] in text), key)
                state.debts[key] = cmd.monthly_payment
                self._set(state, "monthly_debt_payments", sum(state.debts.values()), changed, clarifications)
            elif isinstance(cmd, StartFlow) and cmd.flow in FLOWS:
                if target is not None and FLOWS[target].task and FLOWS[cmd.flow].task and target != cmd.flow:
                    earlier_tasks.append(target)
                if target is None or FLOWS[cmd.flow].task or not FLOWS[target].task:
                    target = cmd.flow
            elif isinstance(cmd, Handoff):
                target = "human_handoff"
            elif isinstance(cmd, SelectOffer):
                selection = cmd
            elif isinstance(cmd, AnswerKnowledge):
                questions.extend(cmd.questions)
            elif isinstance(cmd, Consent):
                state.awaiting_consent = False
                if cmd.given:
                    state.consent = True
                    target = state.flow if state.flow in ("eligibility_check", "apply") else "eligibility_check"
                else:
                    state.flow = None
                    if any(isinstance(c, StartFlow) for c in commands):
                        continue  # "先不说这个 有没有…的车": no to the assessment, yes to the new request
                    draft.reply = run.reply("consent_declined")
                    draft.fixed = True
                    return draft
            elif isinstance(cmd, Clarify):
                clarifications.append(cmd.zh if state.lang == "zh" else cmd.en)
            elif isinstance(cmd, ChitChat):
                chit = cmd.act
            elif isinstance(cmd, CannotHandle):
                clarifications.append("")

        if chit in ("injection", "summary"):
            draft.reply = run.reply("injection") if chit == "injection" else run.reply(
                "summary", facts=describe_slots(state.slots, state.lang), flow_hint=self._hint(state))
            draft.fixed = chit == "injection"
            return draft
        if clarifications:
            if target in TASK_FLOWS and state.flow is None:
                state.flow = target  # the task asked for waits for the answer to the question
            text_parts = [c for c in clarifications if c]
            draft.reply = "\n".join(text_parts) if text_parts else run.reply("clarify", flow_hint=self._hint(state))
            draft.confidence = draft.confidence if text_parts else 0.0
            return draft

        parts: list[str] = []
        if selection is not None:
            picked = self._select(run, selection)
            if picked is None:
                return draft
            if target not in ("document_request", "apply", "eligibility_check", "human_handoff"):
                target = None
                if not changed:
                    parts.append(picked)

        flow_name = target
        # A question that mentions who the customer is ("工资发现金，这种能贷吗") is answered, not a reason to
        # show the offers again; the fact is kept for the next search.
        profile_only = bool(changed) and changed <= WHO_SLOTS
        if flow_name is None and state.flow and changed and not (questions and profile_only):
            flow = FLOWS.get(state.flow)
            if flow is not None and (changed & flow.uses or (state.pending_slot in changed)):
                flow_name = state.flow
        if flow_name is None and changed and not questions and not parts and chit is None:
            # Facts about the customer with no task yet: say what was noted and what we can do with it.
            parts.append(self._noted(state, changed))
        for earlier in earlier_tasks if flow_name is not None else []:
            self._run_flow(run, earlier, previous_flow)
            parts.append(draft.reply)
            draft.reply = ""
            previous_flow = earlier
        if flow_name is not None:
            self._switch_topic(run, flow_name, previous_flow, changed)
            self._run_flow(run, flow_name, previous_flow)
            if draft.reply:
                parts.append(draft.reply)
        elif chit is not None and not questions:
            FLOWS[chit].run(run)
            parts.append(draft.reply)
        if questions:
            answers = self._answers(run, questions)
            parts = [answers, *parts] if flow_name is None or not FLOWS[flow_name].task else [*parts, answers]
            if intent in ("eligibility_check", "apply") and not state.consent and flow_name is None:
                parts.append(run.pick("如需我根据您的具体情况做个预评估（需要您的授权），说“评估一下”即可。",
                                      "If you'd like a pre-assessment of your own case (with your consent), "
                                      "just say 'assess me'."))
        draft.reply = "\n\n".join(p for p in parts if p)
        if not draft.reply:
            draft.reply = run.reply("clarify", flow_hint=self._hint(state))
            draft.confidence = 0.0
        ran_task = flow_name is not None and FLOWS[flow_name].task
        if (not ran_task and previous_flow in TASK_FLOWS and previous_pending and state.flow == previous_flow
                and state.pending_slot and not draft.handoff):
            # Answer the side question, then come back to what we were doing.
            resume = run.reply("resume", flow_hint=self._hint(state))
            draft.reply += "\n\n" + resume + run.reply("ask_slot", slot=state.pending_slot)
        state.last_intent = intent
        return draft

    # ------------------------------------------------------------------ state changes
    def _set(self, state: SessionState, slot: str, value: Any, changed: set[str], problems: list[str]) -> None:
        if slot == "vehicle_id":
            state.vehicle_id = str(value)
            changed.add("brand")
            return
        try:
            clean = validate_slot(slot, value)
        except ValueError:
            spec = SLOT_SPECS.get(slot)
            if spec is not None:
                problems.append(self._out_of_range(state, slot))
            return
        if slot == "brand":
            known = self.services.catalogue.find_vehicle(state.vehicle_id) if state.vehicle_id else None
            if known is not None and str(clean).lower() not in (known.brand.lower(), known.brand_en.lower()):
                state.vehicle_id = None  # a different brand forgets the model named before
        if slot == "budget" and clean < state.slots.get("budget_min", 0):
            state.slots.pop("budget_min")  # "压到15w以内" under a 十七八万 range: the range is gone
        if slot == "down_payment":
            state.slots.pop("down_payment_ratio", None)
        elif slot == "down_payment_ratio":
            state.slots.pop("down_payment", None)
        if slot in ("energy_type", "body_type", "brand") and clean in state.excluded.get(slot, []):
            state.excluded[slot].remove(clean)  # asking for it again lifts the exclusion
        state.slots[slot] = clean
        changed.add(slot)
        if slot in state.last_slots:
            state.last_slots.remove(slot)
        state.last_slots.append(slot)
        del state.last_slots[:-12]

    def _correct(self, state: SessionState, cmd: CorrectSlot, changed: set[str], problems: list[str]) -> None:
        if cmd.delta is None:
            self._set(state, cmd.slot, cmd.value, changed, problems)
            return
        base = self._base_value(state, cmd.slot)
        label = SLOT_LABELS.get(cmd.slot, (SLOT_SPECS[cmd.slot].zh, SLOT_SPECS[cmd.slot].en)) \
            if cmd.slot in SLOT_SPECS else (cmd.slot, cmd.slot)
        if base is None:
            if cmd.slot == "max_monthly_payment":
                # "月供能不能再降个五百" before any plan: there is no payment yet to lower.
                problems.append(
                    "我还没有为您算过月供，所以没法在此基础上再降。告诉我预算或车价、首付和期限，我先帮您算；"
                    "如果您有月供上限，也可以直接说（例如：月供不超过3,500元）。" if state.lang == "zh" else
                    "I haven't worked out a payment for you yet, so there is nothing to lower. Tell me the budget "
                    "or the car's price, the down payment and the term and I'll work it out; if you have a cap, "
                    "say it (e.g. monthly payment no more than 3,500).")
                return
            example = _EDIT_EXAMPLES.get(cmd.slot, (label[0], label[1]))
            problems.append(
                f"您还没有告诉我{label[0]}，所以没法在此基础上调整。请直接告诉我{label[0]}是多少（例如：{example[0]}）。"
                if state.lang == "zh" else
                f"You haven't told me the {label[1]} yet, so there's nothing to adjust. Please tell me the "
                f"{label[1]} itself (e.g. {example[1]}).")
            return
        new = base + Decimal(str(cmd.delta))
        if new < 0 or (cmd.slot == "down_payment_ratio" and new > 1):
            problems.append(self._out_of_range(state, cmd.slot))
            return
        value: Any = float(new) if cmd.slot == "down_payment_ratio" else int(new)
        self._set(state, cmd.slot, value, changed, problems)

    def _base_value(self, state: SessionState, slot: str) -> Decimal | None:
        """What a relative edit is relative to: the fact said, or the figure of the offer in focus."""
        s = state.slots
        offer = self._focused(state)
        if slot in s:
            return Decimal(str(s[slot]))
        if slot == "down_payment":
            price = s.get("vehicle_price")
            if price is not None and "down_payment_ratio" in s:
                return (Decimal(str(price)) * Decimal(str(s["down_payment_ratio"]))).quantize(Decimal("1"))
            if price is not None and "loan_amount" in s:
                return Decimal(str(price)) - Decimal(str(s["loan_amount"]))
        if slot == "loan_amount" and "vehicle_price" in s:
            loan = loan_from_slots(Decimal(str(s["vehicle_price"])), s)
            if loan is not None:
                return loan
        if slot == "budget" and "vehicle_price" in s:
            return Decimal(str(s["vehicle_price"]))
        if offer is not None:
            field = {"max_monthly_payment": "monthly_payment", "term_months": "term_months"}.get(slot, slot)
            if field in offer and field != "down_payment_ratio":
                return Decimal(str(offer[field]))
            if slot == "down_payment_ratio":
                return (Decimal(str(offer["down_payment"])) / Decimal(str(offer["vehicle_price"]))).quantize(
                    Decimal("0.01"))
        if slot == "term_months" and state.last_quote:
            return Decimal(str(state.last_quote.get("term_months")))
        return None

    @staticmethod
    def _focused(state: SessionState) -> dict[str, Any] | None:
        if not state.last_offers:
            return None
        index = (state.selected_offer or 1) - 1
        return state.last_offers[index] if 0 <= index < len(state.last_offers) else state.last_offers[0]

    @staticmethod
    def _exclude(state: SessionState, cmd: ExcludeValue, changed: set[str]) -> None:
        values = state.excluded.setdefault(cmd.slot, [])
        if cmd.value not in values:
            values.append(cmd.value)
        current = state.slots.get(cmd.slot)
        if current is not None and (str(current).lower() == cmd.value.lower() or (
                cmd.slot == "energy_type" and current == "nev" and cmd.value in ("phev", "bev"))):
            state.slots.pop(cmd.slot)
            if current == "nev" and cmd.value in ("phev", "bev"):
                # "新能源，但不要插混" leaves the other new-energy kind
                state.slots[cmd.slot] = "bev" if cmd.value == "phev" else "phev"
        changed.add(cmd.slot)

    def out_of_range(self, state: SessionState, slot: str) -> str:
        """The reply's note that a figure stated for ``slot`` is outside any plausible range."""
        return self._out_of_range(state, slot)

    def _out_of_range(self, state: SessionState, slot: str) -> str:
        spec = SLOT_SPECS.get(slot)
        zh, en = (spec.zh, spec.en) if spec else (slot, slot)
        return (f"{zh}这个数字看起来不太对（超出了合理范围），请再确认一下。" if state.lang == "zh"
                else f"That {en} doesn't look right (outside any plausible range); could you check it?")

    # ------------------------------------------------------------------ references
    def _select(self, run: FlowRun, ref: SelectOffer) -> str | None:
        """Put the offer referred to in focus and say it; a clarifying question when it names nothing shown."""
        state = run.state
        offers = state.last_offers
        rank = resolve_offer(offers, rank=ref.rank, cheapest=ref.cheapest, priciest=ref.priciest, brand=ref.brand,
                             current=state.selected_offer if ref.current else None)
        if rank is None:
            listing = "；".join(f"{i}. {c['vehicle_name']}（月供{c['monthly_payment']}元，年化{c['apr']}）"
                               for i, c in enumerate((offer_card(o, "zh") for o in offers), start=1))
            listing_en = "; ".join(f"{i}. {c['vehicle_name']} ({c['monthly_payment']} yuan a month, APR {c['apr']})"
                                   for i, c in enumerate((offer_card(o, "en") for o in offers), start=1))
            what = f"第{ref.rank}个" if ref.rank else (ref.brand or "")
            run.draft.reply = run.pick(
                f"刚才一共列出了{len(offers)}个方案，没有{what}方案：{listing}。您指的是哪一个？",
                f"I showed {len(offers)} plans, none matching that: {listing_en}. Which one do you mean?")
            return None
        offer = offers[rank - 1]
        state.selected_offer = rank
        state.application = application_from_offer(offer)
        run.draft.offers = [offer]
        card = offer_card(offer, run.lang)
        asked = ""
        if ref.ask and ref.ask in FIELD_NAMES:
            value = card.get(ref.ask, "")
            name = FIELD_NAMES[ref.ask][0 if run.lang == "zh" else 1]
            asked = run.pick(f"方案{rank}的{name}是{value}{'' if ref.ask == 'apr' else '元'}。",
                             f"Plan {rank}'s {name} is {value}{'' if ref.ask == 'apr' else ' yuan'}. ")
        detail = run.pick(
            f"{asked}方案{rank}：{card['vehicle_name']}（{card['product_name']}），车价{card['vehicle_price']}元，"
            f"首付{card['down_payment']}元，贷款{card['loan_amount']}元分{card['term_months']}期，"
            f"月供{card['monthly_payment']}元，年化利率（APR）{card['apr']}，总利息{card['total_interest']}元。"
            "需要的话我可以按这个方案为您生成合同和还款计划表。以上为试算，不代表审批结果。",
            f"{asked}Plan {rank}: {card['vehicle_name']} ({card['product_name']}), price {card['vehicle_price']} "
            f"yuan, down payment {card['down_payment']} yuan, loan {card['loan_amount']} yuan over "
            f"{card['term_months']} months, {card['monthly_payment']} yuan a month, APR {card['apr']}, total "
            f"interest {card['total_interest']} yuan. I can prepare the contract and schedule for this plan. "
            "This is an estimate, not an approval.")
        return detail

    # ------------------------------------------------------------------ flows
    def _switch_topic(self, run: FlowRun, flow_name: str, previous_flow: str | None, changed: set[str]) -> None:
        """A new recommendation goal keeps preferences, term, income and debts, and drops figures tied to
        an earlier car or calculation (saying so), so an old 车价25万 does not block a 10万 budget."""
        state = run.state
        if flow_name != "car_recommendation":
            return
        another = previous_flow == "car_recommendation" and bool(cues.ANOTHER_CAR.search(prepare(run.text)))
        # A car loan on the customer's own car, then "卖了换台新的": the old car's make, mileage and age
        # describe the car being sold, not the one being shopped for.
        owned = previous_flow == "collateral_loan"
        if previous_flow in (None, "car_recommendation") and not another:
            return
        forget = CAR_PREFERENCES if another else (*CAR_SPECIFIC, *OWNED_CAR) if owned else CAR_SPECIFIC
        dropped = [slot for slot in forget if slot in state.slots and slot not in changed]
        if another or owned:
            state.vehicle_id = None
        if not dropped:
            return
        if "budget" not in state.slots and "vehicle_price" in dropped:
            # "could I get financing for a ~180k car" then "show me some options": that price is the budget.
            state.slots["budget"] = state.slots.pop("vehicle_price")
            dropped.remove("vehicle_price")
            run.notes.append(run.pick(f"按您之前说的{slot_value_text('budget', state.slots['budget'], 'zh')}作为预算",
                                      f"your earlier {slot_value_text('budget', state.slots['budget'], 'en')} "
                                      "taken as the budget"))
            if not dropped:
                return
        described = "、".join(f"{SLOT_LABELS[s][0]}{slot_value_text(s, state.slots[s], 'zh')}" for s in dropped)
        described_en = ", ".join(f"{SLOT_LABELS[s][1]} {slot_value_text(s, state.slots[s], 'en')}" for s in dropped)
        for slot in dropped:
            state.slots.pop(slot)
        if another or owned:
            run.notes.append(run.pick(f"之前那台车的条件（{described}）不用于这次的新车",
                                      f"the earlier car's {described_en} are not applied to this new search"))
            return
        run.notes.append(run.pick(f"之前试算用的{described}不再作为这次推荐的条件",
                                  f"the earlier {described_en} no longer limit this search"))

    def _run_flow(self, run: FlowRun, name: str, previous_flow: str | None) -> None:
        state = run.state
        flow = FLOWS[name]
        if flow.task:
            if name != previous_flow:
                state.pending_slot = None
            state.flow = name
        if flow.consent and not state.consent:
            state.awaiting_consent = True
            run.draft.reply = run.reply("eligibility_consent")
            run.draft.fixed = True
            return
        missing = flow.next_missing(state)
        if missing is not None:
            run.ask(missing.slot)
            return
        flow.run(run)

    def _answers(self, run: FlowRun, questions: list[str]) -> str:
        """Each question answered from the knowledge base (in the customer's language), with its sources."""
        out: list[str] = []
        seen: set[str] = set()
        # Only a lone question can continue the previous turn's topic; in "A? and B?" each names its own.
        topic = run.state.last_topic if len(set(questions)) == 1 else None
        for question in dict.fromkeys(questions):
            answer, citations = "", []
            if topic and _elliptical(question):
                # "要带啥材料过去" right after an answer on 解押: the question continues that topic.
                answer, citations = answer_question(run, f"{topic} {question}")
            if not answer:
                answer, citations = answer_question(run, question)
            if citations:
                run.state.last_topic = citations[0].title
            if not answer:
                out.append(run.pick(f"关于“{question}”，我在现有资料里没有找到确切答案，可以为您转人工确认。",
                                    f"On \"{question}\" I found nothing definite in our documents; a colleague "
                                    "can confirm it for you."))
                continue
            if answer in seen:
                continue
            seen.add(answer)
            for c in citations:
                if all(c.doc_id != x.doc_id for x in run.draft.citations):
                    run.draft.citations.append(c)
            sources = run.pick("、", ", ").join(dict.fromkeys(c.title for c in citations))
            if any(f.code == "price_without_apr" for f in check_text(answer)):
                # A figure quoted from a policy page is an example, not a price: say how to compare loans.
                answer += run.pick("\n（以上金额为资料中的示例，比较贷款时请看年化利率APR。）",
                                   "\n(Figures above are examples from our documents; compare loans by their APR.)")
            out.append(run.reply("policy_answer", answer=answer, sources=sources))
        run.draft.phrase = True
        return "\n\n".join(out)

    def _noted(self, state: SessionState, changed: set[str]) -> str:
        facts = describe_slots({k: state.slots[k] for k in changed if k in state.slots}, state.lang)
        if state.lang == "zh":
            return (f"好的，已记下：{facts}。" if facts else "好的，已记下。") + \
                "需要的话我可以据此为您推荐车型和分期方案、计算月供，或做贷款预评估。"
        return (f"Noted: {facts}. " if facts else "Noted. ") + \
            "I can recommend cars and finance plans, work out a payment, or run a pre-assessment with this."

    def _hint(self, state: SessionState) -> str:
        flow = FLOWS.get(state.flow or "")
        if flow is None:
            return ""
        return flow.hint[0] if state.lang == "zh" else flow.hint[1]

