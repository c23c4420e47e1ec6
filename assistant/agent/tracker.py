"""The offline command generator: the NLU plus a dialogue-state tracker that reads a message in context.

The NLU says what a message is about and which contract slots it states. The tracker adds what only
the conversation can settle: which shown offer "第三个" or "那台丰田的" means, what "首付再少付一万" is
relative to, a monthly-payment cap, a price range, existing debts, the applicant's own facts, a value
ruled out, several questions in one message, and natural consent. Its output is a list of commands
(``assistant.agent.commands``); it never changes the state itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from assistant.agent import cues
from assistant.agent.commands import (
    AddDebt,
    AnswerKnowledge,
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
)
from assistant.agent.flows import FLOWS, TASK_FLOWS
from assistant.agent.flows.collateral import VEHICLE_MODEL
from assistant.agent.guard import is_injection
from assistant.agent.slot_schema import MONEY_SLOTS, WHO_SLOTS
from assistant.agent.types import SessionState
from assistant.domain.limits import MAX_WEALTH_YUAN
from assistant.nlu.numbers import find_quantities, fold_case, to_number
from assistant.nlu.slots import extract_slots, prepare

SHORT_ANSWER_CHARS = 16
# In a clash of price and down payment the price is kept as the anchor (a correction replaces it).
PRICE_FACTS = ("down_payment", "down_payment_ratio", "loan_amount")
WEAK_CONFIDENCE = 0.55
# Intents whose "能…吗" form is usually a rule question rather than a request to be assessed.
RULE_PRONE = frozenset({"eligibility_check", "apply", "collateral_loan"})
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


# Cue right before an amount → the slot it states (a number after one is money even without a unit).
_AMOUNT_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:车价|价格|落地价?|price)\s?$"), "vehicle_price"),
    (re.compile(r"(?:预算|budget)\s?$"), "budget"),
    (re.compile(r"(?:月薪|工资|收入|income)\s?$"), "monthly_income"),
    (re.compile(r"首付\s?$"), "down_payment"),
    (re.compile(r"(?:贷款?|借|本金|loan)\s?$"), "loan_amount"),
)


def absurd_amounts(message: str) -> list[str]:
    """The slots of amounts of money in ``message`` beyond any household's means (over ``MAX_WEALTH_YUAN``,
    e.g. a 30-digit price). The NLU drops such a number as implausible, so the turn would silently ask for
    what was just said; the engine says the figure is out of range instead. A bare long number with no money
    cue (a phone, an order number) is no amount."""
    norm = _fix_typos(prepare(message.strip()))
    found: list[str] = []
    for q in find_quantities(norm):
        if q.kind not in ("money", "number") or q.value <= MAX_WEALTH_YUAN:
            continue
        before = norm[max(0, q.start - 4):q.start]
        slot = next((name for pattern, name in _AMOUNT_CUES if pattern.search(before)), None)
        if slot is None and q.kind == "money":
            slot = "vehicle_price"  # "1000000000000元的车": the price is what a bare sum of money means here
        if slot is not None and slot not in found:
            found.append(slot)
    return found


class OfflineCommandGenerator:
    """Message + state → commands, with no model server."""

    def __init__(self, nlu: Any, catalogue: Any) -> None:
        self.nlu = nlu
        self.catalogue = catalogue

    # ------------------------------------------------------------------ entry point
    def generate(self, state: SessionState, message: str) -> tuple[list[Any], str, float]:
        """The commands for one message, the intent reported for the turn, and its confidence."""
        text = message.strip()
        if is_injection(text):
            return [ChitChat(act="injection")], "out_of_scope", 1.0
        if cues.SUMMARY_REQUEST.search(text):
            return [ChitChat(act="summary")], state.last_intent or "greeting", 1.0
        if cues.APPLICATION_STATUS.search(fold_case(text)) and "application_status" in FLOWS:
            return [StartFlow(flow="application_status")], "application_status", 1.0
        if not re.search(r"[\w\u4e00-\u9fff]", text):
            return [Clarify(zh="", en="")], state.last_intent or "out_of_scope", 0.0
        norm = _fix_typos(prepare(text))
        consent = self._consent(state, norm)
        declined: Consent | None = None
        if consent is not None and not consent.given:
            rest = cues.DENY.sub(" ", norm, count=1)
            if len(rest.strip()) < 8 or not cues.WORDS.search(rest):
                return [consent], state.flow or "eligibility_check", 1.0
            # "先不说这个 有没有月供两千以内的新能源车": no to the assessment, and a new request read as usual
            declined, consent = consent, None

        commands: list[Any] = []
        spans: list[tuple[int, int]] = []
        self._caps(norm, commands, spans)
        if not commands and "max_monthly_payment" in state.slots:
            self._cap_follow_up(norm, commands, spans)
        self._debts(state, norm, commands, spans)
        self._ranges(norm, commands, spans)
        self._car_price(norm, commands, spans)
        self._down_ratio(norm, commands, spans)
        self._chosen_term(norm, commands, spans)
        self._principal_en(norm, commands, spans)
        self._relative(state, norm, commands, spans)
        self._income(state, norm, commands, spans)
        reference = self._reference(state, norm, commands, spans)
        vague = cues.VAGUE_EDIT.search(norm)
        if vague and reference is None and not any(isinstance(c, CorrectSlot | SetSlot) for c in commands) and \
                not _states_amount(norm):
            # "首付再少点 期数拉长点": the direction but not the figure — ask for the figure
            return [Clarify(zh=f"好的，您希望{vague.group('slot')}调整到多少？告诉我具体数字（例如：首付5万、分48期），"
                               "我马上重新测算。",
                            en="Sure; what figure would you like (e.g. 50,000 down, 48 months)? I'll recalculate at "
                               "once.")], state.flow or "car_recommendation", 1.0
        is_not = cues.IS_NOT.search(norm)
        if is_not:
            spans.append((is_not.start("wrong") - 2, is_not.end()))  # "…不是13": the figure taken back
        masked = _mask(norm, spans)

        prediction = self.nlu.classifier.predict(norm)
        intent, confidence = prediction.intent, float(prediction.confidence)
        expected = "vehicle_price" if state.pending_slot == VEHICLE_MODEL else state.pending_slot
        slots = extract_slots(masked, intent=intent, expected_slot=expected if expected in _nlu_slots() else None)
        if state.pending_slot == VEHICLE_MODEL and "vehicle_price" not in slots and "budget" in slots:
            slots["vehicle_price"] = slots.pop("budget")  # "当时15万买的" answers the price question
        if not slots and cues.CORRECTION.search(norm) and state.last_intent in TASK_FLOWS:
            # "打错了 是25个": the classifier sees no task in so few words; read the amount as the task did
            slots = extract_slots(masked, intent=state.last_intent)
            slots.update(self._bare_rate_fix(state, masked))
        self._money_fallbacks(masked, slots)
        said_age = cues.AGE_SAID.search(norm)
        if said_age is not None and "age" not in slots and 18 <= int(said_age.group("age")) <= 80 and \
                not re.match(r"\s?(?:万|千|w|k)", norm[said_age.end("age"):]):
            slots["age"] = int(said_age.group("age"))
        approx = r"(?:\d\s?(?:万|w|k)?|[一二两三四五六七八九十]万)" + cues.APPROX_AFTER.pattern
        if "vehicle_price" in slots and "budget" not in slots and cues.BUY_CUE.search(norm) and \
                not re.search(r"车价|车款|裸车|落地|指导价|售价|price", norm) and \
                self.catalogue.vehicle_in_text(text) is None and re.search(approx, norm):
            slots["budget"] = slots.pop("vehicle_price")  # "想买台suv 15万上下": shopping, no car chosen yet
        self._model_price(text, norm, slots)
        born = cues.BIRTH_YEAR.search(norm)
        if born is not None and "age" not in slots:
            year = int(born.group("y")) % 100 + 1900
            slots.pop("vehicle_age_years", None)  # "95年的" is the customer's birth year, not a car 95 years old
            slots["age"] = date.today().year - year
        for cmd in commands:
            if isinstance(cmd, SetSlot | CorrectSlot):
                slots.pop(cmd.slot, None)
        named_car = self._named_vehicle(state, intent, text, slots)
        self._negations(norm, commands, slots)
        self._profile(norm, commands)
        what_about = bool(cues.WHAT_ABOUT.match(norm))
        correcting = bool(cues.CORRECTION.search(norm)) or what_about
        if is_not and not slots:
            q = _first_amount(norm, is_not.start("right"), is_not.end("right"))
            value = _money_value(q) if q is not None else None
            before = norm[max(0, is_not.start() - 6):is_not.start()]
            named_slot = "monthly_income" if cues.INCOME_CUE.search(before) else next(
                (slot for slot, pattern in cues.REL_SLOT if pattern.search(before)), None)
            if value is not None:
                # "工资是5600不是6500" names its fact; "是16万不是13" is retargeted below to the one it corrects
                slots = {named_slot or "budget": int(value)}
        named_fix = is_not is not None and bool(slots) and bool(
            cues.INCOME_CUE.search(norm[max(0, is_not.start() - 6):is_not.start()]))
        # Only a short correction ("说错了，是22万") is a bare amount to retarget; a longer one names its fact.
        retarget = correcting and (what_about or len(norm) <= 24) and not named_fix
        slots = self._retarget_correction(state, slots, retarget, norm if what_about else None, norm)
        for name, value in slots.items():
            commands.append(CorrectSlot(slot=name, value=value) if correcting and name in state.slots
                            else SetSlot(slot=name, value=value))
        if named_car is not None:
            commands.append(SetSlot(slot="vehicle_id", value=named_car))
        self._annual_income(norm, commands)
        clash = self._contradiction(state, norm, commands)
        if clash is not None:
            # Keep what is not in dispute (the price, the term); ask about the rest and act on nothing.
            question, contested = clash
            kept = [c for c in commands if isinstance(c, SetSlot) and c.slot not in contested]
            goal = state.flow or prediction.intent
            # The goal waits for the answer: "打错了 月入是8千" then carries on with the recommendation.
            wait = [StartFlow(flow=goal)] if goal in TASK_FLOWS and not state.flow else []
            return [*kept, *wait, question], goal, 1.0

        if consent is not None:
            # "月收入一万 同意查": the consent, and the facts said with it.
            facts = [c for c in commands if isinstance(c, SetSlot | CorrectSlot | AddDebt)]
            return [consent, *facts], state.flow or "eligibility_check", 1.0
        intent = self._resolve_intent(state, intent, confidence, slots, commands, norm, named_car is not None)
        if intent == "out_of_scope" and confidence < WEAK_CONFIDENCE and cues.QUESTION_CUE.search(norm) and \
                _rule_topic(text):
            intent = "policy_question"  # "你们贷款要不要找担保人": unsure words, but a rule the documents state
        last_task = state.flow or state.last_intent
        edited = {c.slot for c in commands if isinstance(c, SetSlot | CorrectSlot)} | set(slots)
        if intent == "policy_question" and last_task in TASK_FLOWS and edited and \
                edited <= FLOWS[last_task].uses and self._side_question(text, last_task, commands) is not None:
            intent = last_task  # "首付改成6万呢？提前还要提前多久说": the edit re-runs the task, the rule is answered
        if intent != prediction.intent:
            confidence = 1.0
        if intent == "collateral_loan" and named_car is None and not state.vehicle_id:
            found: dict[str, Any] = {}
            named_car = self._named_vehicle(state, intent, text, found)  # "二手凯美瑞…值多少钱": the car named
            if named_car is not None:
                commands.append(SetSlot(slot="vehicle_id", value=named_car))
                if "brand" not in state.slots and not any(isinstance(c, SetSlot) and c.slot == "brand"
                                                          for c in commands):
                    commands.append(SetSlot(slot="brand", value=found["brand"]))
        self._intent_commands(state, intent, norm, text, commands, reference)
        car_facts = any(isinstance(c, SetSlot) and c.slot in ("vehicle_age_years", "mileage_km") for c in commands)
        if cues.VALUE_QUESTION.search(norm) and car_facts and intent != "collateral_loan":
            # "开了3年 跑了7万公里 大概值多少钱": a valuation, whatever the classifier says
            commands[:] = [c for c in commands if not isinstance(c, StartFlow | AnswerKnowledge)]
            vehicle = self.catalogue.vehicle_in_text(text)
            if vehicle is not None:
                commands.append(SetSlot(slot="vehicle_id", value=str(vehicle.id)))
                if "brand" not in state.slots:  # the model names its brand: no need to ask for it
                    commands.append(SetSlot(slot="brand", value=vehicle.brand if state.lang == "zh"
                                            else vehicle.brand_en))
            commands.append(StartFlow(flow="collateral_loan"))
            intent = "collateral_loan"
        second = self._second_task(text, intent, commands)
        side = self._side_question(text, intent, commands)
        if side is not None:
            commands.append(AnswerKnowledge(questions=[side]))  # "首付改成6万呢？提前还要提前多久说": both
        if second is not None:
            commands.append(StartFlow(flow=second))
        elif intent == "car_recommendation" and cues.ASSESS_REQUEST.search(norm) and not state.consent:
            # "想买台10w左右的车 这情况能贷下来不": the plans, and the offer of a pre-assessment (consent first)
            commands.append(StartFlow(flow="eligibility_check"))
        if declined is not None:
            commands = [declined, *(c for c in commands if not (isinstance(c, StartFlow) and
                                                                c.flow == "eligibility_check"))]
        return commands, intent, confidence

    # ------------------------------------------------------------------ consent
    @staticmethod
    def _consent(state: SessionState, norm: str) -> Consent | None:
        if not state.awaiting_consent:
            return None
        short = len(norm) <= 24
        if cues.DENY.search(norm) and not cues.AFFIRM_ANYWHERE.search(norm) and short:
            return Consent(given=False)
        affirmed = (short and cues.AFFIRM.match(norm)) or cues.AFFIRM_ANYWHERE.search(norm)
        if affirmed and (not cues.DENY.search(re.sub(r"不同意.*", "", norm)) or cues.AFFIRM_ANYWHERE.search(norm)):
            return Consent(given=True)
        return None

    # ------------------------------------------------------------------ constraints and debts
    def _caps(self, norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """A monthly-payment cap: a payment cue, then a limit word and an amount (or amount + limit word).

        A strict limit ("别超过三千二") wins over an approximate one ("三千左右") said in the same breath.
        """
        found: list[tuple[bool, int, tuple[int, int]]] = []  # (approximate, value, span)
        no_cap = cues.NO_CAP.search(norm)
        if no_cap is not None:
            commands.append(ClearSlot(slot="max_monthly_payment"))
            spans.append(no_cap.span())
            return
        for cue in cues.PAYMENT_CUE.finditer(norm):
            window_end = min(len(norm), cue.end() + cues.CAP_NEAR)
            for q in _quantities(norm):  # the whole text: a window could cut "两千八" into "两千"
                if q.kind not in ("money", "number") or not cue.end() <= q.start < window_end:
                    continue
                start, end = q.start, q.end
                after = norm[end:end + 8]
                if cues.CAR_AFTER_AMOUNT.match(norm, end) and start - cue.end() > 2:
                    # "一个月6000 想买个7万以内的油车": the 7万 is the car's budget, not a payment cap; but
                    # "月供两千以内的新能源车" puts the cap right after its cue: a car that costs that much a month
                    continue
                before_cue = norm[max(0, cue.start() - 12):cue.start()]
                strict = bool(cues.LIMIT_BEFORE.search(norm[cue.end():end]) or cues.LIMIT_BEFORE.search(before_cue)
                              or cues.STRICT_AFTER.match(after))
                if not (strict or cues.LIMIT_AFTER.match(after)) or _is_debt_context(norm, cue.start(), end):
                    continue
                if cues.INCOME_CUE.search(norm[cue.start():start]) or (
                        not strict and not cues.REPAYMENT_CUE.search(cue.group())):
                    continue  # "一个月到手八千左右" is income; "每月三千左右" alone is not a cap
                value = _money_value(q)
                if value is not None and 100 <= value <= 100_000:
                    found.append((not strict, int(value), (cue.start(), end)))
        # "3k a month max", "under 3000 per month": the amount before the cue
        for q in _quantities(norm):
            if q.kind not in ("money", "number"):
                continue
            tail = norm[q.end:q.end + 14]
            head = norm[max(0, q.start - 28):q.start]
            if re.match(r"\s?(?:元|块|yuan|rmb)?\s?(?:a month|per month|/month|monthly|每月|一个月|每个月)", tail) and (
                    cues.LIMIT_BEFORE.search(head) or cues.LIMIT_AFTER.search(tail)):
                if _is_debt_context(norm, q.start, q.end + 14):
                    continue
                value = _money_value(q)
                if value is not None and 100 <= value <= 1_000_000:
                    found.append((False, int(value), (max(0, q.start - 16), q.end + 14)))
        if not found:
            return
        _, value, span = min(found, key=lambda f: (f[0], f[2][0]))
        commands.append(SetSlot(slot="max_monthly_payment", value=value))
        spans.append(span)
        # Other amounts said as payments in the same breath ("三千左右，别超过三千二") are not budgets either.
        spans.extend(s for approx, v, s in found
                     if s != span and _is_payment_amount(norm, s) and value / 3 <= v <= value * 3)

    @staticmethod
    def _cap_follow_up(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """With a cap already set, 'keep it under 2500' / '压到两千' changes the cap."""
        m = cues.CAP_FOLLOW_UP.search(norm)
        if m is None:
            return
        q = _first_amount(norm, m.end() - 1, m.end() + 5)
        value = _money_value(q) if q is not None else None
        if value is not None and 100 <= value <= 50_000:
            commands.append(SetSlot(slot="max_monthly_payment", value=int(value)))
            spans.append((m.start(), q.end))

    def _debts(self, state: SessionState, norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """Existing monthly repayments by kind ("每月还房贷5千", "I already pay 3k a month on a car loan")."""
        if cues.NO_DEBT.search(norm):
            commands.append(SetSlot(slot="monthly_debt_payments", value=0))
            return
        specific = False
        for kind, pattern in cues.DEBT_KINDS:
            if kind == "other" and specific and not re.search(r"[\u4e00-\u9fff]", norm):
                break  # an English "loan" after a named one is usually the same debt
            for m in pattern.finditer(norm):
                if any(s <= m.start() < e for s, e in spans):
                    continue
                lo, hi = max(0, m.start() - 24), min(len(norm), m.end() + 16)
                clause = norm[slice(*_segment_bounds(norm, m.start(), m.end()))]
                # In English the paid-off words must be near this debt ("paid the car loan off … just the mortgage").
                near = clause if re.search(r"[\u4e00-\u9fff]", norm) else norm[max(0, m.start() - 24):m.end() + 32]
                if cues.DEBT_PAID_OFF.search(near):
                    commands.append(AddDebt(debt_kind=kind, monthly_payment=0))
                    spans.append((m.start(), m.end()))
                    break
                known = kind in state.debts and bool(cues.CORRECTION.search(norm))  # "the car loan is actually 4.5k"
                generic = kind == "other" and not cues.NAMED_LOAN.fullmatch(m.group())
                existing = cues.DEBT_OTHER_EXISTING if generic else cues.DEBT_EXISTING
                running = existing.search(norm[lo:hi]) or existing.search(clause)
                if cues.DEBT_FUTURE.search(clause) or not (known or running):
                    continue
                if re.match(r"\s?(?:卡)?(?:曾经|以前)?逾期", norm[m.end():m.end() + 4]):
                    continue  # "信用卡逾期过两回": an arrears record, not a repayment
                listed = cues.LISTED_AMOUNTS.match(norm, m.end()) or cues.LISTED_AMOUNTS.search(
                    norm[m.end():m.end() + 12])
                if listed is not None:
                    # "还有俩网贷 一个800一个500": several debts of one kind, summed
                    total = sum(int(float(x)) for x in (listed.group("a"), listed.group("b")))
                    if 100 <= total <= 100_000:
                        commands.append(AddDebt(debt_kind=kind, monthly_payment=total))
                        spans.append((m.start(), min(len(norm), m.end() + 12 + len(listed.group()))))
                        specific = specific or kind != "other"
                        break
                # An amount in the debt's own stretch of text first ("信用卡分期每月还一千五"), else the nearest.
                seg_lo, seg_hi = _segment_bounds(norm, m.start(), m.end())
                amount = _nearest_money(norm, m.start(), m.end(), seg_lo, seg_hi)
                if amount is None and re.search(r"[\u4e00-\u9fff]", norm):
                    # the next clause, when it is the repayment ("车贷还没还完 每月两千八")
                    nxt = re.match(r"\s*(?:每月|每个月|月供|一个月|月还)", norm[seg_hi:])
                    amount = _nearest_money(norm, m.start(), m.end(), seg_hi, min(len(norm), seg_hi + 16)) \
                        if nxt else None
                elif amount is None:
                    amount = _nearest_money(norm, m.start(), m.end(), lo, hi)
                if amount is None:
                    continue
                value, start, end = amount
                if not 100 <= value <= 100_000 or re.match(r"\s?(?:左右|以内)?的", norm[end:end + 3]):
                    continue  # "20万左右的mpv" is a car, not a monthly repayment
                named = cues.NAMED_LOAN.fullmatch(m.group()) or cues.NAMED_APP.fullmatch(m.group())
                label = m.group() if named else None
                commands.append(AddDebt(debt_kind=kind, monthly_payment=int(value), label=label))
                specific = specific or kind != "other"
                # The stretch about the debt: no other amount in it is the customer's income or a loan (in
                # Chinese the space-separated clause; in English just the amount and the debt's words).
                if re.search(r"[\u4e00-\u9fff]", norm):
                    spans.append(_segment_bounds(norm, min(start, m.start()), max(end, m.end())))
                else:
                    # "4.5k not 3k": the amount corrected away is part of the debt's words too
                    tail = re.match(r"\s*(?:not|instead of|rather than)\s+\d+(?:\.\d+)?\s?(?:k|w|万|千|yuan)?",
                                    norm[end:])
                    spans.append((min(start, m.start()), max(end + (tail.end() if tail else 0), m.end())))
                if kind == "mortgage":
                    commands.append(SetSlot(slot="home_status", value="owner"))
                if label is None or not cues.NAMED_APP.fullmatch(label):
                    break  # one debt of this kind; named apps ("分期乐800 美团借钱1200") may each follow

    def _ranges(self, norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """Price ranges: 十七八万 → 170000–180000, 15到20万 → 150000–200000 (budget is the upper end)."""
        m = cues.RANGE_TENS.search(norm)
        if m:
            tens = CN_DIGITS.get(m.group("tens")[0], 1) if len(m.group("tens")) > 1 else 1
            lo = tens * 10 + CN_DIGITS[m.group("a")]
            hi = tens * 10 + CN_DIGITS[m.group("b")]
        else:
            m = cues.RANGE_ADJ.search(norm)
            if m and CN_DIGITS[m.group("b")] == CN_DIGITS[m.group("a")] + 1:
                lo, hi = CN_DIGITS[m.group("a")], CN_DIGITS[m.group("b")]
            else:
                m = cues.RANGE_SPAN.search(norm) or cues.RANGE_EN.search(norm)
                if not m:
                    self._floor(norm, commands, spans)
                    return
                lo, hi = _range_end(m.group("lo")), _range_end(m.group("hi"))
                if lo is None or hi is None:
                    return
        unit = 10_000 if m.group("unit") in ("万", "w", "个") else 1_000  # k; 二十五六个 is 25–26万
        low, high = int(lo * unit), int(hi * unit)
        if not 0 < low < high:
            return
        context = norm[max(0, m.start() - 8):m.start()]
        slot = "vehicle_price" if re.search(r"车价|落地", context) else "budget"
        commands.append(SetSlot(slot=slot, value=high))
        if slot == "budget":
            commands.append(SetSlot(slot="budget_min", value=low))
        spans.append((m.start(), m.end()))

    @staticmethod
    def _floor(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'at least 200k' / '起码15万': the lower end of the price range."""
        m = cues.AT_LEAST.search(norm)
        if m is None:
            return
        group = "amount" if m.group("amount") else "amount2"
        q = _first_amount(norm, m.start(group), m.end(), kinds=("money",))
        if q is not None and 10_000 <= q.value <= 20_000_000:
            commands.append(SetSlot(slot="budget_min", value=int(q.value)))
            spans.append((m.start(), m.end()))

    @staticmethod
    def _car_price(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'那台30万的': the price of the car meant; '买台二十万左右的': the budget for a car still to choose."""
        m = cues.CAR_PRICE.search(norm)
        if m is None or any(s <= m.start() < e for s, e in spans):
            b = cues.BUDGET_CAR.search(norm)
            if b is None or any(s <= b.start() < e for s, e in spans):
                return
            q = _first_amount(norm, b.start("amount"), b.end(), kinds=("money",))
            if q is None or not 5_000 <= q.value <= 20_000_000:
                return
            # "买台11万的车 贷8万": with the loan given, an exact figure is the price of the car in mind.
            exact = not b.group("approx") and cues.LOAN_GIVEN.search(norm)
            commands.append(SetSlot(slot="vehicle_price" if exact else "budget", value=int(q.value)))
            spans.append((b.start("amount"), b.end()))
            return
        q = next((q for q in find_quantities(m.group("amount")) if q.kind == "money"), None)
        if q is None or not 5_000 <= q.value <= 20_000_000:
            return
        commands.append(SetSlot(slot="vehicle_price", value=int(q.value)))
        spans.append((m.start(), m.end()))

    @staticmethod
    def _money_fallbacks(masked: str, slots: dict[str, Any]) -> None:
        """'首付打算出4w', '15万以内': facts the NLU can drop when two amounts compete in one message."""
        money = {"budget", "vehicle_price", "down_payment", "loan_amount"}
        d = cues.DOWN_AMOUNT.search(masked)
        if d is not None and "down_payment" not in slots and "down_payment_ratio" not in slots:
            q = _first_amount(masked, d.start("amount"), kinds=("money",))
            if q is not None and 1_000 <= q.value <= 10_000_000:
                slots["down_payment"] = int(q.value)
        e = cues.EN_BUDGET.search(masked)
        shopping_words = e is not None and re.search(r"\ban?\s+(?:[a-z]+\s+){0,2}$", masked[:e.start()]) and not \
            re.search(r"\bis\s*$", masked[:e.start()])
        if e is not None and shopping_words and slots.get("vehicle_price") is not None and "budget" not in slots \
                and "loan_amount" not in slots and re.match(r"around|about|under|below|up to|within", e.group()):
            slots["budget"] = slots.pop("vehicle_price")  # "a small EV around 100k": a budget, not a chosen car
        if e is not None and not (money - {"down_payment"}) & set(slots):
            q = _first_amount(masked, e.start("amount"), kinds=("money",))
            if q is not None and 10_000 <= q.value <= 20_000_000:
                slots["budget"] = int(q.value)
        b = cues.BARE_BUDGET.search(masked)
        if b is not None and not (money - {"down_payment"}) & set(slots) and not re.search(
                r"月供|每月|每个月|一个月|首付|贷", masked[max(0, b.start() - 6):b.start()]):
            q = _first_amount(masked, b.start(), b.end(), kinds=("money",))
            if q is not None and 10_000 <= q.value <= 20_000_000:
                slots["budget"] = int(q.value)

    @staticmethod
    def _chosen_term(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'要不还是分四年吧': the term the customer settles on (other terms in the message are complaints)."""
        m = cues.CHOSEN_TERM.search(norm) or cues.NAMED_TERM.search(norm)
        if m is None or any(m.start() < e and s < m.end() for s, e in spans):
            return
        groups = m.groupdict()
        n = _small_int(groups.get("n") or groups.get("n2") or "")
        if n is None:
            return
        unit = groups.get("unit") or groups.get("unit2") or ""
        if not unit and (n < 6 and "key" in m.groupdict() and m.group("key") != "年限"):
            return  # "期数改成3": three months is no car-loan term; too unclear to act on
        years = unit.startswith(("年", "year")) or (not unit and m.groupdict().get("key") == "年限" and n <= 10)
        months = n * 12 if years else n
        if 1 <= months <= 120:
            commands.append(SetSlot(slot="term_months", value=months))
            # every term in the message is read: the chosen one stands
            for t in re.finditer(r"(?:\d+|[一二两三四五六七八九十]+)\s?(?:年|期|个月)", norm):
                spans.append((t.start(), t.end()))

    @staticmethod
    def _down_ratio(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'首付两成就行': a down-payment share (the NLU can drop it when a 别/不 follows)."""
        m = cues.DOWN_RATIO.search(norm)
        if m is None or any(m.start() < e and s < m.end() for s, e in spans):
            return
        if m.group("half"):
            commands.append(SetSlot(slot="down_payment_ratio", value=0.5))
            spans.append((m.start(), m.end()))
            return
        n = _small_int(m.group("n"))
        if n is not None and 0 <= n <= 9:
            commands.append(SetSlot(slot="down_payment_ratio", value=n / 10))
            spans.append((m.start(), m.end()))

    @staticmethod
    def _principal_en(norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'the monthly payment on 150k': the amount borrowed."""
        m = cues.EN_PRINCIPAL.search(norm)
        if m is None or any(m.start() < e and s < m.end() for s, e in spans):
            return
        q = _first_amount(norm, m.start("amount"), m.end(), kinds=("money",))
        if q is not None and 1_000 <= q.value <= 20_000_000:
            commands.append(SetSlot(slot="loan_amount", value=int(q.value)))
            spans.append((m.start("amount"), m.end()))

    def _income(self, state: SessionState, norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        """'一个月到手八千', '月入1万': monthly income the NLU may read as something else."""
        r = cues.INCOME_RANGE.search(norm)
        if r is not None and not any(s <= r.start() < e for s, e in spans):
            a, b = _small_int(r.group("a")), _small_int(r.group("b"))
            if a is not None and b is not None and (b == a + 1 or (r.group("sep") and a < b)):
                unit = 10_000 if r.group("unit") in ("万", "w") else 1_000
                # The lower end: affordability must hold on what the customer surely earns.
                commands.append(SetSlot(slot="monthly_income", value=a * unit))
                spans.append((r.start(), r.end()))
                return
        for m in cues.INCOME_AMOUNT.finditer(norm):
            if any(s <= m.start() < e for s, e in spans):
                continue
            earning_verb = (m.group("verb") or "") in ("能拿", "拿", "挣", "赚", "能落个", "落个", "能落", "落", "能剩",
                                                      "剩个", "剩", "净赚", "能跑个", "跑个", "能跑")
            seg = norm[slice(*_segment_bounds(norm, m.start(), m.end()))]
            # "一个月8000左右 跟爸妈住": with no repayment word in its clause, what a month brings in is income
            earning_verb = earning_verb or (m.group("cue") == "一个月" and len(norm.split()) >= 2
                                            and not cues.REPAYMENT_CUE.search(seg)
                                            and not cues.PAYMENT_CUE.search(seg.replace("一个月", "")))
            if m.group("cue") in ("一个月", "每月", "每个月") and not earning_verb and not (
                    cues.WORKING.search(norm) or cues.EXPLICIT_ASSESS.search(norm)
                    or state.flow in ("eligibility_check", "apply")):
                continue  # "一个月三千" alone may be a payment; with "上班" or an assessment it is income
            # The amount as the whole text reads it ("1万2" is 12,000, not the "1万" the cue's group holds).
            q = _first_amount(norm, m.start("amount"), m.end("amount"))
            value = _money_value(q) if q is not None else None
            if value is None or not 1_000 <= value <= 1_000_000:
                continue
            commands.append(SetSlot(slot="monthly_income", value=int(value)))
            spans.append((m.start(), m.end()))
            return

    @staticmethod
    def _annual_income(norm: str, commands: list[Any]) -> None:
        """'年收入三十万' is 25,000 a month, never a monthly income of 300,000."""
        m = cues.ANNUAL_INCOME.search(norm)
        if m is None:
            return
        q = _first_amount(norm, m.end(), m.end() + 7)
        value = _money_value(q) if q is not None else None
        if value is None or not 10_000 <= value <= 100_000_000:
            return
        for c in [c for c in commands if isinstance(c, SetSlot | CorrectSlot)]:
            if c.slot in MONEY_SLOTS and c.value is not None and Decimal(str(c.value)) == value:
                commands.remove(c)  # the NLU read the annual figure as a monthly income (or a loan, a budget)
            elif c.slot == "term_months" and c.value == 12 and "年" in m.group(0) and \
                    not cues.ONE_YEAR_TERM.search(norm):
                commands.remove(c)  # "一年下来能有个十二万": the year of the income, not a term
        commands.append(SetSlot(slot="annual_income", value=int(value)))

    @staticmethod
    def _contradiction(state: SessionState, norm: str, commands: list[Any]) -> tuple[Clarify, set[str]] | None:
        """Facts that cannot all be true: ask which, and act on none of them."""
        said = {c.slot: c.value for c in commands if isinstance(c, SetSlot)}
        annual = said.pop("annual_income", None)
        for c in [c for c in commands if isinstance(c, SetSlot) and c.slot == "annual_income"]:
            commands.remove(c)
        if annual is not None:
            monthly = said.get("monthly_income")
            if monthly is not None and abs(annual / 12 - monthly) > 0.5 * monthly:
                # Worded so that the customer's own income is not read as a payment quoted without its APR.
                return Clarify(zh=f"您说月薪{monthly:,}元，又说年收入{annual:,}元"
                                  f"（相当于每个月约{annual / 12:,.0f}元），两者对不上。"
                                  "请问您每月的税后收入大约是多少？",
                               en=f"You gave a monthly income of {monthly:,} but a yearly income of {annual:,} (about "
                                  f"{annual / 12:,.0f} monthly); which is right? What is your monthly take-home "
                                  "income?"), {"monthly_income"}
            if monthly is None:
                commands.append(SetSlot(slot="monthly_income", value=round(annual / 12)))
        facts = {**state.slots, **said}
        price, down, loan = facts.get("vehicle_price"), facts.get("down_payment"), facts.get("loan_amount")
        fresh = {"vehicle_price", "down_payment", "loan_amount"} & set(said)
        if fresh and price and down is not None and down >= price:
            return Clarify(zh=f"首付{down:,}元不低于车价{price:,}元，这样就不需要贷款了。"
                              "请确认一下车价和首付各是多少？",
                           en=f"A down payment of {down:,} is not below the price of {price:,}, so there would be "
                              "no loan. Could you confirm the price and the down payment?"), set(PRICE_FACTS)
        if fresh and price and loan and loan > price:
            return Clarify(zh=f"贷款{loan:,}元超过了车价{price:,}元，请确认一下车价和贷款金额？",
                           en=f"A loan of {loan:,} is more than the price of {price:,}; could you confirm both?"), \
                set(PRICE_FACTS)
        floor, top = facts.get("budget_min"), facts.get("budget")
        if floor and top and floor > top and "budget_min" in said:  # a lowered budget drops an old floor
            return Clarify(zh=f"您说车价至少{floor:,}元，预算却是{top:,}元，两者对不上。请问预算范围是多少？",
                           en=f"You want a car of at least {floor:,} but a budget of {top:,}; which range do you "
                              "mean?"), {"budget_min", "budget"}
        ratio = said.get("down_payment_ratio")
        if price and "down_payment" in said and ratio is not None and abs(
                said["down_payment"] - ratio * price) > 0.05 * price:
            return Clarify(zh=f"首付{said['down_payment']:,}元和首付{ratio:.0%}（约{ratio * price:,.0f}元）对不上，"
                              "请问首付到底是多少？",
                           en=f"A down payment of {said['down_payment']:,} and one of {ratio:.0%} (about "
                              f"{ratio * price:,.0f}) disagree; how much will you put down?"), {
                               "down_payment", "down_payment_ratio"}
        if cues.ZERO_DOWN.search(norm) and (said.get("down_payment") or 0) > 0:
            return Clarify(zh="您提到零首付，又说首付要交一部分，请问首付到底是多少？",
                           en="You mentioned no down payment and also a down payment; how much will you put down?"), {
                               "down_payment", "down_payment_ratio"}
        return None

    # ------------------------------------------------------------------ relative edits
    def _relative(self, state: SessionState, norm: str, commands: list[Any], spans: list[tuple[int, int]]) -> None:
        for m in cues.REL_EDIT.finditer(norm):
            if any(m.start() < e and s < m.end() for s, e in spans):
                continue  # overlaps a cap, a debt or a range already read
            num = m.group("num")
            if cues.ABSOLUTE_TO.search(norm[m.start("dir"):m.start("num")]):
                continue  # 首付提高到5万: an absolute value, read by the NLU
            direction = m.group("dir").strip()
            sign = 1 if cues.REL_MORE.fullmatch(direction) or direction in (
                "再多", "多", "再加", "加", "提高", "增加", "往上", "raise", "increase", "more", "bump", "bump up",
            ) else -1
            slot = _rel_slot(m.group("slot") or "", norm, m.start(), state)
            if cues.REL_TERM_UNIT.search(num) and not re.search(r"万|千|k|w|元|块", num):
                slot = "term_months"
            if re.search(r"成", num):
                slot = "down_payment_ratio"
            delta = _delta(num, slot)
            if slot is None or delta is None:
                continue
            commands.append(CorrectSlot(slot=slot, delta=float(sign * delta)))
            spans.append((m.start(), m.end()))
            return
        m = cues.REL_EDIT_EN.search(norm)
        if m is not None and not any(m.start() < e and s < m.end() for s, e in spans):
            slot = _rel_slot(m.group("slot"), norm, m.start(), state)
            if cues.REL_TERM_UNIT.search(m.group("num")):
                slot = "term_months"
            delta = _delta(m.group("num"), slot)
            if slot is not None and delta is not None:
                sign = 1 if m.group("dir") in ("bump", "raise", "increase") else -1
                commands.append(CorrectSlot(slot=slot, delta=float(sign * delta)))
                spans.append((m.start(), m.end()))

    # ------------------------------------------------------------------ references to what was shown
    def _reference(self, state: SessionState, norm: str, commands: list[Any],
                   spans: list[tuple[int, int]]) -> SelectOffer | None:
        offers = state.last_offers
        ask = next((name for name, pattern in cues.ASK_FIELD if pattern.search(norm)), None)
        ref: SelectOffer | None = None
        span: tuple[int, int] | None = None
        for m in cues.ORDINAL.finditer(norm):
            if not m.group("unit") and not m.group("after"):
                continue  # 第一受益人, 第一次: not an offer
            rest = norm[m.end("n"):m.end("n") + 3]
            schedule_row = re.match(r"\s?个月(?!供)", rest) and m.group("after") != "月供"
            if re.match(r"\s?(?:期|年|天|次|季度)", rest) or schedule_row:
                continue  # 第3期 / 第三个月: a schedule row, not an offer
            rank = _small_int(m.group("n"))
            if rank is None or rank > 20:
                continue
            if m.group("after") == "月供":
                ask = "monthly_payment"
            ref, span = SelectOffer(rank=rank, ask=ask), (m.start(), m.end())
            break
        if ref is None:
            m2 = cues.ORDINAL_ALT.search(norm)
            if m2:
                rank = _small_int(next(g for g in m2.groups() if g))
                if rank is not None:
                    ref, span = SelectOffer(rank=rank, ask=ask), (m2.start(), m2.end())
        if ref is None:
            m3 = cues.EN_ORDINAL.search(norm)
            if m3:
                n = cues.EN_ORDINALS[m3.group("w")]
                rank = len(offers) if n == -1 else n
                ref, span = SelectOffer(rank=max(rank, 1), ask=ask), (m3.start(), m3.end())
        if ref is None and (m4 := cues.CHEAPEST.search(norm)) and offers:
            ref, span = SelectOffer(cheapest=True, ask=ask), (m4.start(), m4.end())
        if ref is None and (m5 := cues.PRICIEST.search(norm)) and offers:
            ref, span = SelectOffer(priciest=True, ask=ask), (m5.start(), m5.end())
        if ref is None and offers:
            brand = self._shown_brand(norm, offers)
            if brand is not None and cues.POINTING.search(norm):
                ref, span = SelectOffer(brand=brand, ask=ask), (0, 0)
        if ref is None and (m6 := cues.CURRENT.search(norm)) and offers:
            ref, span = SelectOffer(current=True, ask=ask), (m6.start(), m6.end())
        if ref is None and offers and ask and state.selected_offer and (m7 := cues.IT_REF.search(norm)) and \
                not _states_amount(norm):
            ref, span = SelectOffer(current=True, ask=ask), (m7.start(), m7.end())
        if ref is None:
            return None
        if not offers and (ref.rank is not None or ref.current):
            if state.last_intent == "car_recommendation":
                # A list was shown, but the latest search (a new debt, a lower cap) left no plan standing.
                commands.append(Clarify(
                    zh="按您现在的条件，之前列出的方案已经不满足要求（比如超出了月供上限或可负担范围），暂时没有可选的方案。"
                       "可以调整预算、首付、期限或月供上限，我马上重新为您匹配。",
                    en="With your conditions as they are now, the plans shown earlier no longer qualify (over the "
                       "payment cap or what is affordable). Change the budget, down payment, term or cap and I'll "
                       "match again."))
                return None
            commands.append(Clarify(zh="我还没有为您列出具体方案，所以不知道您指的是哪一个。告诉我预算或车价，我先帮您匹配几个方案。",
                                    en="I haven't shown you any plans yet, so I can't tell which one you mean. "
                                       "Tell me your budget or the car's price and I'll match some first."))
            return None
        commands.append(ref)
        if span and span != (0, 0):
            spans.append(span)
        return ref

    def _shown_brand(self, norm: str, offers: list[dict[str, Any]]) -> str | None:
        for offer in offers:
            vehicle = offer.get("vehicle", {})
            for name in (vehicle.get("brand"), vehicle.get("brand_en"), vehicle.get("series")):
                if name and len(str(name)) >= 2 and str(name).lower() in norm:
                    return str(name)
        return None

    # ------------------------------------------------------------------ facts the NLU leaves out
    def _negations(self, norm: str, commands: list[Any], slots: dict[str, Any]) -> None:
        """'不要插混的了' rules a value out (and drops it if it was the preference)."""
        from assistant.nlu.slots import _enum_patterns

        for slot in ("energy_type", "body_type"):
            said: dict[str, bool] = {}  # value -> ruled out
            for value, pattern in _enum_patterns().get(slot, []):
                for m in pattern.finditer(norm):
                    # 12 characters: "scrap the " / "no more " before the value in English
                    ruled_out = bool(cues.NEGATION.search(norm[max(0, m.start() - 12):m.start()])
                                     or cues.NEGATIVE_AFTER.match(norm, m.end()))
                    said[value] = said.get(value, False) or ruled_out
                    if ruled_out:
                        commands.append(ExcludeValue(slot=slot, value=value))
                        if slots.get(slot) == value:
                            slots.pop(slot)
                        break
            chosen = cues.CHOSEN_VALUE.search(norm)
            if chosen is not None:
                # "还是插混吧": the value settled on wins over the others mentioned
                picked = [v for v, pattern in _enum_patterns().get(slot, []) if pattern.search(chosen.group("word"))]
                if len(picked) == 1:
                    slots[slot] = picked[0]
                    continue
            wanted = [v for v, out in said.items() if not out]
            if slot not in slots and len(wanted) == 1 and any(said.values()):
                slots[slot] = wanted[0]  # "要油车 电车充电不方便": the one not ruled out
        for brand in self.catalogue.brand_names():
            key = brand.lower()
            idx = norm.find(key)
            if idx >= 0 and len(key) >= 2 and cues.NEGATION.search(norm[max(0, idx - 8):idx]):
                commands.append(ExcludeValue(slot="brand", value=brand))
                if str(slots.get("brand", "")).lower() == key:
                    slots.pop("brand")

    @staticmethod
    def _profile(norm: str, commands: list[Any]) -> None:
        seen: set[str] = set()
        for slot, value, pattern in cues.PROFILE_CUES:
            if slot in seen:
                continue
            if pattern.search(norm):
                commands.append(SetSlot(slot=slot, value=value))
                seen.add(slot)

    def _model_price(self, text: str, norm: str, slots: dict[str, Any]) -> None:
        """'看中台18年的思域 8万5': the amount said right after a named model is that car's price."""
        if {"vehicle_price", "budget"} & set(slots):
            return
        vehicle = self.catalogue.vehicle_in_text(text)
        if vehicle is None:
            return
        for name in (vehicle.series, vehicle.series_en):
            idx = norm.find(str(name).lower()) if name else -1
            if idx < 0:
                continue
            end = idx + len(str(name))
            q = _first_amount(norm, end, end + 6)
            if q is None or q.kind != "money" or re.match(r"\s?(?:公里|km)", norm[q.end:q.end + 3]):
                return
            if re.match(r"[\s，,]?(?:首付|贷|借|月供)", norm[end:q.start]):
                return
            value = _money_value(q)
            if value is not None and 10_000 <= value <= 5_000_000:
                slots["vehicle_price"] = int(value)
            return

    def _named_vehicle(self, state: SessionState, intent: str, text: str, slots: dict[str, Any]) -> str | None:
        """The catalogue car named while a car is being valued (the valuation needs the model, not the brand)."""
        if state.flow != "collateral_loan" and intent != "collateral_loan":
            return None
        vehicle = self.catalogue.vehicle_in_text(text)
        if vehicle is None:
            return None
        slots.setdefault("brand", vehicle.brand if state.lang == "zh" else vehicle.brand_en)
        return str(vehicle.id)

    @staticmethod
    def _bare_rate_fix(state: SessionState, norm: str) -> dict[str, Any]:
        """'啊打错了 是4.2' right after a rate was given: the bare figure is that rate, in percent."""
        if "quoted_rate" not in state.slots or not state.last_slots or "quoted_rate" not in state.last_slots[-3:]:
            return {}
        if any(pattern.search(norm) for _, pattern in cues.REL_SLOT):
            return {}  # "期数也改成36": the figure names another fact
        m = re.search(r"(?<![\d.])(\d{1,2}(?:\.\d{1,3})?)\s?%?(?![\d.]|\s?(?:万|千|w|k|期|个|年|月|成))", norm)
        if m is None:
            return {}
        value = Decimal(m.group(1))
        if not Decimal("0.5") <= value <= Decimal("36"):
            return {}
        return {"quoted_rate": float(value / 100)}

    @staticmethod
    def _retarget_correction(state: SessionState, slots: dict[str, Any], correcting: bool,
                             what_about: str | None = None, norm: str = "") -> dict[str, Any]:
        """'说错了，是22万', '那一千五呢': a bare amount changes the money fact said last, not a new budget."""
        money = ("budget", "vehicle_price", "down_payment", "loan_amount", "monthly_income", "max_monthly_payment")
        if what_about is not None and not slots:
            q = _first_amount(what_about, 0)
            value = _money_value(q) if q is not None else None
            # "What about X" varies what is being shopped for (cap, budget, down payment), not the income.
            options = [s for s in reversed(state.last_slots) if s in money and s in state.slots
                       and value is not None and _plausible(s, value)]
            recent = next((s for s in options if s != "monthly_income"), options[0] if options else None)
            if value is not None and recent is not None:
                return {recent: int(value)}
        if not correcting or len(slots) != 1:
            return slots
        (name, value), = slots.items()
        if name in money and re.search(r"\d\s?(?:万|w|k)?" + cues.CAR_AFTER_AMOUNT.pattern, norm):
            # "说错了 是20万的车": the amount describes the car, so it corrects the car's price (or budget)
            target = next((t for t in ("vehicle_price", "budget") if t in state.slots), None)
            if target is not None:
                return {target: value}
        # "打错了 首付2万" names its fact: only a bare amount ("说错了，是22万") is retargeted.
        named = any(pattern.search(norm) for slot_name, pattern in cues.REL_SLOT if slot_name == name)
        if name in money and name not in state.slots and state.last_slots and not named:
            recent = next((s for s in reversed(state.last_slots) if s in money and s in state.slots
                           and _plausible(s, Decimal(str(value)))), None)
            if recent is not None:
                return {recent: value}
        return slots

    # ------------------------------------------------------------------ intent → commands
    def _resolve_intent(self, state: SessionState, intent: str, confidence: float, slots: dict[str, Any],
                        commands: list[Any], norm: str, named_car: bool) -> str:
        """Keep the active flow when the message only answers its question, edits a fact or picks an offer."""
        active = state.flow
        edits = [c for c in commands if isinstance(c, SetSlot | CorrectSlot | AddDebt | ExcludeValue)]
        said = set(slots) | {c.slot for c in commands if isinstance(c, SetSlot)}
        if active and state.pending_slot and state.pending_slot in said:
            return active  # the answer to the question just asked ("到手大概1w2")
        if cues.EXPLICIT_ASSESS.search(norm) and intent not in ("document_request", "human_handoff", "complaint",
                                                                "collateral_loan"):
            return "eligibility_check"  # "那评估一下吧 车价16万…": an assessment asked for in so many words
        reset = bool(cues.TOPIC_RESET.search(norm))
        new_facts = {**slots, **{c.slot: c.value for c in commands if isinstance(c, SetSlot)}}
        facts = new_facts if reset else {**state.slots, **new_facts}
        shopping = "budget" in facts and not {"vehicle_price", "loan_amount"} & set(facts)
        if shopping and intent == "out_of_scope" and confidence < WEAK_CONFIDENCE and "budget" in new_facts:
            return "car_recommendation"  # "想看看20w的车": unsure words, but a budget for a car
        if shopping and (intent == "payment_calculation" or (
                intent in ("eligibility_check", "apply", "policy_question", "product_inquiry", "car_recommendation")
                and cues.BUY_CUE.search(norm) and "budget" in new_facts)):
            return "car_recommendation"  # a budget and no car yet: the customer is shopping
        if reset and intent in FLOWS and intent != active and not any(isinstance(c, SelectOffer) for c in commands):
            return intent  # "算了，帮我推荐10万以内的车": a new goal, whatever the active flow was
        if active and state.pending_slot == VEHICLE_MODEL and (named_car or "vehicle_price" in slots):
            return active
        if active and state.pending_slot and state.pending_slot in slots:
            return active
        if any(isinstance(c, SelectOffer) for c in commands) and intent not in ("document_request", "apply",
                                                                               "human_handoff", "complaint"):
            return state.last_intent if state.last_intent in TASK_FLOWS else (active or "car_recommendation")
        if active and (slots or edits):
            flow = FLOWS.get(active)
            uses = flow.uses if flow else frozenset()
            changed = set(slots) | {c.slot for c in edits if hasattr(c, "slot")}
            if any(isinstance(c, AddDebt) for c in edits):
                changed.add("monthly_debt_payments")
            correcting = bool(cues.CORRECTION.search(norm)) or any(isinstance(c, CorrectSlot) for c in edits)
            weak = confidence < WEAK_CONFIDENCE or intent in {"out_of_scope", "greeting"}
            short = changed <= uses and len(norm) <= SHORT_ANSWER_CHARS and intent in TASK_FLOWS
            profile_only = changed and changed <= (uses | _PROFILE_SLOTS) and intent not in TASK_FLOWS and \
                not cues.QUESTION_CUE.search(norm)
            # A cap, a debt, an exclusion or a relative edit said mid-task refines that task ("月供控制在四千内",
            # "还有个借呗每月两千 你重新帮我看看") whatever the classifier makes of the words around it.
            refines = any(isinstance(c, AddDebt | ExcludeValue | CorrectSlot) or (
                isinstance(c, SetSlot) and c.slot in _TRACKER_SLOTS) for c in edits) and \
                changed <= (uses | _PROFILE_SLOTS | _TRACKER_SLOTS) and not cues.ASSESS_REQUEST.search(norm) and \
                intent not in ("document_request", "human_handoff", "complaint", "repayment_trouble")
            # "工资发现金，这种能贷吗": a question about who the customer is asks a rule
            who_question = bool(cues.QUESTION_CUE.search(norm)) and changed <= WHO_SLOTS
            if (correcting or weak or short or profile_only or refines) and not who_question:
                return active
        if active and intent == "out_of_scope" and confidence < WEAK_CONFIDENCE and state.pending_slot:
            return active
        last = state.last_intent
        if not active and last in TASK_FLOWS and (slots or edits) and intent in ("out_of_scope", "greeting") and \
                cues.CORRECTION.search(norm):
            return last  # "打错了 是25个" after the offers were shown: the correction re-runs what was done last
        new_cap = any(isinstance(c, SetSlot) and c.slot == "max_monthly_payment" for c in commands)
        same_search = set(slots) <= (FLOWS["car_recommendation"].uses | _TRACKER_SLOTS)
        if not active and last == "car_recommendation" and new_cap and same_search and \
                intent in ("eligibility_check", "policy_question", "out_of_scope", "payment_calculation") and \
                not cues.EXPLICIT_ASSESS.search(norm):
            return last  # "what if I can do 1500 a month" after the offers: the same search under a new cap
        return intent

    def _intent_commands(self, state: SessionState, intent: str, norm: str, text: str, commands: list[Any],
                         reference: SelectOffer | None) -> None:
        if intent == "out_of_scope" and not commands and (
                not cues.WORDS.search(norm)):
            commands.append(Clarify(zh="", en=""))  # keyboard noise: ask what they meant
            return
        context_only = all(isinstance(c, SetSlot) and c.slot in ("city",) for c in commands)
        if intent == "out_of_scope" and commands and context_only:
            commands.append(ChitChat(act="out_of_scope"))  # "北京天气怎么样": a city named is not a request
            return
        if intent in ("greeting", "goodbye", "out_of_scope"):
            if not commands:
                commands.append(ChitChat(act=intent))  # type: ignore[arg-type]
            elif intent == "goodbye":
                commands.append(ChitChat(act="goodbye"))
            return
        if intent == "human_handoff":
            commands.append(Handoff())
            return
        questions = self._questions(text, norm)
        if intent == "policy_question":
            commands.append(AnswerKnowledge(questions=questions or [text]))
            if cues.ASSESS_REQUEST.search(norm):
                commands.append(StartFlow(flow="eligibility_check"))
            return
        if intent in RULE_PRONE and self._rule_question(state, intent, norm):
            own_car = cues.OWNERSHIP.search(norm) or any(
                isinstance(c, SetSlot) and c.slot in ("vehicle_age_years", "mileage_km") for c in commands)
            if intent == "collateral_loan" and own_car:
                commands.append(StartFlow(flow=intent))  # their own car's facts: value it
                if not any(isinstance(c, SetSlot) and c.slot == "vehicle_id" for c in commands):
                    # no model yet, so no valuation this turn: answer the rule they asked about meanwhile
                    commands.append(AnswerKnowledge(questions=questions or [text]))
                return
            commands.append(AnswerKnowledge(questions=questions or [text]))
            return
        if intent in FLOWS:
            if reference is not None and intent == state.flow and intent != "document_request":
                return  # a pick or a question about a shown offer, answered by the manager
            commands.append(StartFlow(flow=intent))
            if len(questions) > 1:
                extra = [q for q in questions if self._is_policy_clause(q)]
            else:  # one question beside the task: answered when it is plainly about a rule ("车龄有要求没")
                extra = [q for q in questions if _rule_topic(q)]
            if intent == "complaint" and questions:
                extra = questions  # "我能去哪投诉": the complaint is logged and the question answered
            named = any(isinstance(c, SetSlot) and c.slot == "vehicle_id" for c in commands) or state.vehicle_id
            if intent == "collateral_loan" and questions and not named:
                extra = questions  # "老车还能做抵押不": no model to value yet, so the rule is answered meanwhile
            if extra:
                # A short English clause ("whats the difference") is searched with the whole message as its
                # context; a short Chinese one ("车龄有要求没") names its topic already.
                extra = [text if len(q) < 25 and not re.search(r"[\u4e00-\u9fff]", q) else q for q in extra]
                commands.append(AnswerKnowledge(questions=list(dict.fromkeys(extra))))

    def _second_task(self, text: str, intent: str, commands: list[Any]) -> str | None:
        """A second request in its own clause ("… 还有预算13w有啥suv推荐"): the task it asks for, if any."""
        if intent not in TASK_FLOWS or not any(isinstance(c, StartFlow) and c.flow == intent for c in commands):
            return None
        parts = re.split(r"[？?。！!；;]|\s(?:还有|另外|然后|顺便|同时)|(?:还有|另外)(?=预算|帮我|想)", text)
        clauses = [c.strip() for c in parts if c and len(c.strip()) >= 6]
        if len(clauses) < 2:
            return None
        for clause in clauses[1:]:
            prediction = self.nlu.classifier.predict(prepare(clause))
            if prediction.intent in TASK_FLOWS and prediction.intent != intent and prediction.confidence >= 0.9 and \
                    prediction.intent in ("car_recommendation", "payment_calculation", "rate_check"):
                return str(prediction.intent)
        return None

    @staticmethod
    def _side_question(text: str, intent: str, commands: list[Any]) -> str | None:
        """A rule asked in its own clause after a task's edit or pick ("第一个月供多少 还有没还完能过户吗"):
        that clause, to be answered from the documents beside the task."""
        if intent not in TASK_FLOWS or any(isinstance(c, AnswerKnowledge) for c in commands) or not any(
                isinstance(c, StartFlow | SetSlot | CorrectSlot | SelectOffer) for c in commands):
            return None
        parts = re.split(r"(?<=[？?])|[。！!；;\n]|\s(?:还有|另外|然后|顺便|同时|对了)|"
                         r"(?:还有|另外|对了)(?=[^，。？?]{4,})|"
                         r"\s(?=(?:提前|逾期|解押|过户|保险|gps|征信|违约金|手续费))", text)
        clauses = [c.strip() for c in parts if c and len(c.strip()) >= 6]
        for clause in clauses[1:]:
            if cues.QUESTION_CUE.search(prepare(clause)) and _rule_topic(clause):
                return clause
        return None

    def _rule_question(self, state: SessionState, intent: str, norm: str) -> bool:
        """'十年的老车能做抵押吗', '二手车最长能分几年': a rule, not a request to be assessed."""
        if cues.ASSESS_REQUEST.search(norm) or cues.EXPLICIT_ASSESS.search(norm) or not cues.QUESTION_CUE.search(norm):
            return False
        if state.flow == intent and state.pending_slot:
            return False
        if intent == "collateral_loan":
            return not re.search(r"想|要|打算|帮我|i want|i'd like|need", norm) or bool(
                re.search(r"能不能做|能做|可以做|能抵押|可以抵押|can (?:an?|my) .* be|is it possible", norm))
        personal_facts = re.search(r"(?:月薪|收入|工资|年薪|到手|income|salary|earn)[^，。,.]{0,6}\d|我\d+岁", norm)
        return not personal_facts

    def _questions(self, text: str, norm: str) -> list[str]:
        """The question clauses of a message (a customer often asks two things at once)."""
        parts = [p.strip() for p in re.split(
            r"(?<=[？?])|[。！!；;\n]|(?<=[吗呢没不])[，,\s]|\s(?=能不能|可不可以|会不会|要不要|是不是|有没有|能否)|\s?(?:还有|然后|另外|顺便)(?=[^，。？?]{4,})|"
            r",?\s+and\s+(?=(?:is|are|do|does|can|could|how|what|will|should|when|why)\b)",
            text, flags=re.I) if p and p.strip()]
        questions = [p for p in parts if len(p) >= 3 and cues.QUESTION_CUE.search(prepare(p))]
        return questions[:4]

    def _is_policy_clause(self, clause: str) -> bool:
        norm = prepare(clause)
        if _rule_topic(clause):
            return True  # "等额本金和等额本息哪个划算": a topic the documents explain
        prediction = self.nlu.classifier.predict(norm)
        return prediction.intent in ("policy_question", "product_inquiry") and prediction.confidence >= 0.5


_TRACKER_SLOTS = frozenset({"max_monthly_payment", "budget_min", "monthly_debt_payments", "employment_type",
                            "home_status", "has_delinquency", "income_in_cash"})
_PROFILE_SLOTS = WHO_SLOTS | {"monthly_debt_payments", "monthly_income", "age"}


def _nlu_slots() -> frozenset[str]:
    from assistant.nlu.slots import SLOT_NAMES

    return frozenset(SLOT_NAMES)


# Homophone typos of the words the cues read (same length, so spans stay the message's).
TYPOS = {"月共": "月供", "首富": "首付", "利律": "利率", "代款": "贷款", "带款": "贷款", "车带": "车贷"}


def _fix_typos(norm: str) -> str:
    for wrong, right in TYPOS.items():
        norm = norm.replace(wrong, right)
    return norm


@lru_cache(maxsize=256)
def _quantities(text: str) -> tuple[Any, ...]:
    """The quantities of a text, parsed once per message (every cue below reads them)."""
    return tuple(find_quantities(text))


def _first_amount(text: str, lo: int, hi: int | None = None, *,
                  kinds: tuple[str, ...] = ("money", "number")) -> Any | None:
    """The first quantity of these kinds starting in [lo, hi) — on the whole text, since a slice could cut
    "4.5k" into "4.5" or "两千八" into "两千"."""
    return next((q for q in _quantities(text) if q.kind in kinds and lo <= q.start and (hi is None or q.start < hi)),
                None)


def _rule_topic(clause: str) -> bool:
    """A question clause about a topic the documents explain, with no figures of the customer's own."""
    norm = prepare(clause)
    # Dates and counts ("每月15号扣款") may appear; the customer's own money or rates may not.
    return bool(cues.POLICY_TOPIC.search(norm)) and not any(q.kind in ("money", "percent", "rate")
                                                           for q in _quantities(norm))


def _range_end(token: str) -> float | None:
    """One end of a range: '12', '12.5' or '十二'."""
    try:
        return float(token)
    except ValueError:
        value = to_number(token)
        return float(value) if value is not None else None


def _plausible(slot: str, value: Decimal) -> bool:
    """Whether an amount could be this fact (25万 is no monthly payment; 1,500 is no car price)."""
    if slot == "max_monthly_payment":
        return 100 <= value <= 50_000
    if slot in ("budget", "vehicle_price", "loan_amount"):
        return value >= 10_000
    return True


def _is_payment_amount(norm: str, span: tuple[int, int]) -> bool:
    """Whether the text between a payment cue and its amount is only limit words (not another fact's cue)."""
    return not re.search(r"首付|首期|预算|车价|贷款|贷|收入|月薪|down|budget|price|loan", norm[span[0]:span[1]])


def _states_amount(norm: str) -> bool:
    """Whether the message gives an amount of money (then it is a new fact, not a question about an offer)."""
    return any(q.kind == "money" for q in _quantities(norm))


def _mask(norm: str, spans: list[tuple[int, int]]) -> str:
    """The text with the spans the tracker read replaced by commas (same length), so the NLU does not
    read a cap or a debt as a budget or a loan."""
    chars = list(norm)
    for start, end in spans:
        for i in range(max(0, start), min(len(chars), end)):
            chars[i] = "，"
    return "".join(chars)


def _money_value(q: Any) -> Decimal | None:
    if q.kind == "money":
        return Decimal(q.value)
    if q.kind == "number":
        value = Decimal(q.value)
        return value if value >= 100 else value * 10_000 if value < 10 else value * 1000 if value < 100 else None
    return None


def _is_debt_context(norm: str, start: int, end: int) -> bool:
    clause = _clause(norm, start, end)
    return any(p.search(clause) for k, p in cues.DEBT_KINDS if k != "other") and not re.search(
        r"月供(?:不|别|控制|最多|压)", clause)


def _clause(norm: str, start: int, end: int) -> str:
    lo = max((norm.rfind(ch, 0, start) for ch in "，。,;；!?！？"), default=-1) + 1
    his = [i for i in (norm.find(ch, end) for ch in "，。,;；!?！？") if i >= 0]
    return norm[lo:min(his) if his else len(norm)]


def _nearest_money(norm: str, start: int, end: int, lo: int, hi: int) -> tuple[Decimal, int, int] | None:
    """The amount nearest a debt word, in its sentence: one said after it wins a tie ("房贷每月两千二"), and an
    amount introduced as income ("到手九千") is never a debt."""
    best: tuple[int, Decimal, int, int] | None = None
    clause_lo = max((norm.rfind(ch, 0, start) for ch in "。;；!?！？"), default=-1) + 1
    for q in _quantities(norm):  # the whole text: a window could cut "4.5k" into "4.5"
        if q.kind not in ("money", "number") or not lo <= q.start < hi or q.start < clause_lo:
            continue
        if q.kind == "number" and q.value < 100:
            continue  # "俩网贷" is a count, not 2万 a month
        own_lo = _segment_bounds(norm, q.start, q.end)[0]  # income words in this amount's own stretch only
        if cues.INCOME_CUE.search(norm[max(own_lo, q.start - 12):q.start]):
            continue
        value = _money_value(q)
        if value is None:
            continue
        distance = q.start - end if q.start >= end else 2 * (start - q.end) + 1
        if q.end <= start and _EN_DEBT_LINK.match(norm[q.end:start]):
            distance = 0  # "2,500 a month on my mortgage": the amount said for this debt
        if best is None or distance < best[0]:
            best = (distance, value, q.start, q.end)
    return None if best is None else (best[1], best[2], best[3])


_EN_DEBT_LINK = re.compile(r"\s*(?:yuan|rmb)?\s*(?:a month|per month|monthly|each month|/\s?month|/\s?mo)?\s*"
                           r"(?:on|for|to)\s+(?:my|the|a|an|our)?\s*(?:[a-z]+\s+){0,2}$")


def _segment_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    """The stretch of text around [start, end) up to punctuation (and, in Chinese, spaces: WeChat users
    separate clauses with spaces)."""
    seps = "，。,;；!?！？" + (" " if re.search(r"[\u4e00-\u9fff]", norm) else "")
    lo = max((norm.rfind(ch, 0, start) for ch in seps), default=-1) + 1
    his = [i for i in (norm.find(ch, end) for ch in seps) if i >= 0]
    # An English sentence ends at a full stop followed by a space (not the point of 4.5k).
    stops = [m.start() for m in re.finditer(r"\.(?=\s|$)", norm)]
    lo = max([lo, *(i + 1 for i in stops if i < start)])
    his += [i for i in stops if i >= end]
    return lo, min(his) if his else len(norm)


def _small_int(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if token in CN_DIGITS:
        return CN_DIGITS[token]
    value = to_number(token)
    return int(value) if value is not None else None


def _rel_slot(word: str, norm: str, pos: int, state: SessionState) -> str | None:
    """Which fact a relative edit changes: the one it names, else the one it most likely means."""
    for slot, pattern in cues.REL_SLOT:
        if word and pattern.search(word):
            return slot
    context = norm[max(0, pos - 6):pos + 12]
    for slot, pattern in cues.REL_SLOT:
        if pattern.search(context):
            return slot
    if re.search(r"付|交", norm[pos:pos + 8]):
        return "down_payment"
    if re.search(r"贷|借", norm[pos:pos + 8]):
        return "loan_amount"
    recent = next((s for s in reversed(state.last_slots) if s in ("down_payment", "loan_amount", "budget",
                                                                   "vehicle_price", "max_monthly_payment")), None)
    return recent


def _delta(token: str, slot: str | None) -> Decimal | None:
    """The size of a relative edit in the slot's unit (yuan, months, or a ratio)."""
    token = token.strip()
    if slot == "term_months":
        m = re.match(r"(\d+|[一二两三四五六七八九十半]+)\s?(年|期|个月|years?|months?)", token)
        if not m:
            return None
        n = Decimal(m.group(1)) if m.group(1).isdigit() else (Decimal("0.5") if m.group(1) == "半"
                                                              else Decimal(_small_int(m.group(1)) or 0))
        return n * 12 if m.group(2) in ("年", "year", "years") else n
    if slot == "down_payment_ratio":
        m = re.match(r"(\d+|[一二两三四五六七八九])\s?成", token)
        if not m:
            return None
        n = Decimal(m.group(1)) if m.group(1).isdigit() else Decimal(_small_int(m.group(1)) or 0)
        return n / 10
    qs = [q for q in find_quantities(token) if q.kind in ("money", "number")]
    if not qs:
        return None
    value = _money_value(qs[0]) if qs[0].kind == "money" else Decimal(qs[0].value)
    if value is None:
        return None
    if qs[0].kind == "number" and slot != "max_monthly_payment" and value < 100:
        value *= 10_000  # 少付1 → 一万 (amounts of a car loan are said in 万)
    return value
