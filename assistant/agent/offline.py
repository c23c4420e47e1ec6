"""The offline engine: understanding by the local NLU, a flow per intent, replies from templates.

It needs no model server: every turn is local, deterministic and fast. The LLM engine reuses its
planning (which tools to call with which arguments) and only phrases the reply.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from assistant.agent.facts import ENUM_ZH, describe_slots
from assistant.agent.guard import is_injection
from assistant.agent.prompts import PromptLibrary
from assistant.agent.types import Citation, DocumentRef, SessionState, ToolCallRecord
from assistant.domain.money import percent_str, yuan_str
from assistant.errors import AssistantError
from assistant.privacy import mask_pii
from assistant.tools.registry import REGISTRY, ToolContext, load_all_tools

# Flows that gather facts over several turns, and questions answered in between (digressions).
TASK_FLOWS = {
    "car_recommendation", "payment_calculation", "rate_check", "eligibility_check", "apply",
    "document_request", "collateral_loan",
}
FLOW_HINT = {
    "car_recommendation": ("为您挑选车型和金融方案", "choosing a car and a finance plan"),
    "payment_calculation": ("计算月供", "working out your monthly payment"),
    "rate_check": ("核算真实年化利率", "checking the true APR"),
    "eligibility_check": ("做贷款预评估", "running a pre-assessment"),
    "apply": ("办理贷款申请", "starting your application"),
    "document_request": ("准备合同文件", "preparing your documents"),
    "collateral_loan": ("评估车抵贷额度", "valuing your car for a secured loan"),
}
MATCH_FIELDS = (
    "budget", "vehicle_price", "down_payment", "down_payment_ratio", "loan_amount", "term_months",
    "monthly_income", "body_type", "energy_type", "vehicle_condition", "brand", "city", "age",
    "repayment_method",
)
# The facts each task flow uses: a short message that only supplies some of them continues the flow
# even when the classifier, without the dialogue context, leans to another intent ("分5年还").
# The collateral flow's "which model?" question (not a contract slot: the answer is a catalogue car).
VEHICLE_MODEL = "vehicle_model"

FLOW_SLOTS: dict[str, frozenset[str]] = {
    "car_recommendation": frozenset(MATCH_FIELDS),
    "payment_calculation": frozenset({"vehicle_price", "down_payment", "down_payment_ratio", "loan_amount",
                                      "term_months", "quoted_rate", "rate_type", "repayment_method"}),
    "rate_check": frozenset({"quoted_rate", "rate_type", "term_months", "loan_amount", "vehicle_price"}),
    "eligibility_check": frozenset({"monthly_income", "loan_amount", "vehicle_price", "term_months", "age",
                                    "down_payment", "down_payment_ratio"}),
    "apply": frozenset({"monthly_income", "loan_amount", "vehicle_price", "term_months", "age", "down_payment",
                        "down_payment_ratio"}),
    "collateral_loan": frozenset({"brand", "vehicle_age_years", "mileage_km", "vehicle_price", "loan_amount",
                                  "term_months"}),
    "document_request": frozenset({"document_kind"}),
}
SHORT_ANSWER_CHARS = 16
DOC_KIND_WORDS = (
    ("loan_contract", re.compile(r"合同|contract", re.I)),
    ("risk_disclosure", re.compile(r"风险提示|风险告知|disclosure", re.I)),
    ("repayment_schedule", re.compile(r"还款计划|还款表|计划表|schedule", re.I)),
    ("privacy_consent", re.compile(r"授权书|隐私|个人信息|consent|privacy", re.I)),
)
# In chat, documents are issued as web pages: they open at once on a phone (and print), while a PDF
# takes ~0.2 s a document to lay out. A customer who asks for a PDF (or a file to download) gets PDFs.
PDF_WANTED = re.compile(r"pdf|下载|打印|附件|download|print", re.I)
DOC_NAMES = {
    "loan_contract": ("借款合同", "loan contract"),
    "risk_disclosure": ("风险提示书", "risk disclosure"),
    "repayment_schedule": ("还款计划表", "repayment schedule"),
    "privacy_consent": ("个人信息授权书", "personal-information consent"),
}
# Meta requests about the conversation itself (not one of the contract's intents).
SUMMARY_REQUEST = re.compile(r"(刚才|之前|目前|到目前为止).{0,6}(说|聊|确认|记录)了?(什么|哪些|啥)|总结一下|我们聊到哪|"
                             r"what did we (say|agree|discuss)|summari[sz]e", re.I)
CORRECTION = re.compile(
    r"不对|搞错|说错|改成|改为|换成|改一下|更正|不是.{1,12}是|actually|change (it )?to|I meant", re.I
)
AFFIRM = re.compile(r"^\s*(同意|我同意|好的?|可以|行|没问题|是的?|嗯+|确认|ok|okay|yes|sure|i agree|agree)[。.!！\s]*$",
                    re.I)
DENY = re.compile(r"^\s*(不同意|不要|不用|算了|不行|拒绝|no|nope|i don'?t agree)[。.!！\s]*$", re.I)
DELINQUENCY = re.compile(
    r"(有|存在|之前|以前).{0,6}逾期|征信.{0,4}(不好|有问题|花了|黑)|黑户|overdue record|missed payments",
                         re.I)
NO_DELINQUENCY = re.compile(
    r"(没有|无|从没|从未).{0,4}逾期|征信(良好|很好|没问题|干净)|no (late|missed) payments", re.I
)

DEFAULT_TERM = 36
DEFAULT_DOWN_RATIO = Decimal("0.3")


@dataclass
class TurnDraft:
    """What a handler produced this turn."""

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
    engine: str = "offline"


class OfflineEngine:
    """Understanding + dialogue management with no model server."""

    def __init__(self, services: Any, prompts: PromptLibrary) -> None:
        self.services = services
        self.prompts = prompts
        load_all_tools()

    # ------------------------------------------------------------------ the turn
    def turn(self, state: SessionState, message: str, ctx: ToolContext) -> TurnDraft:
        """Handle one customer message, updating ``state`` in place."""
        draft = TurnDraft()
        text = message.strip()
        if is_injection(text):
            draft.intent = "out_of_scope"
            draft.reply = self.prompts.reply("injection", state.lang)
            draft.fixed = True
            return draft
        if SUMMARY_REQUEST.search(text):
            draft.intent = state.last_intent or "greeting"
            draft.reply = self._summary(state)
            return draft
        if not re.search(r"[\w\u4e00-\u9fff]", text):  # emoji-only or symbols: nothing to understand
            draft.intent = state.last_intent or "out_of_scope"
            draft.reply = self.prompts.reply("clarify", state.lang, flow_hint=self._flow_hint(state))
            draft.confidence = 0.0
            return draft

        if state.awaiting_consent:
            if AFFIRM.match(text):
                state.awaiting_consent = False
                state.consent = True
                draft.intent = state.flow or "eligibility_check"
                return self._dispatch(draft.intent, state, text, ctx, draft)
            if DENY.match(text):
                state.awaiting_consent = False
                draft.intent = state.flow or "eligibility_check"
                state.flow = None
                draft.reply = self.prompts.reply("consent_declined", state.lang)
                draft.fixed = True
                return draft

        # The model question also takes the price when new ("15万买的"), so a bare amount is that price.
        expected = "vehicle_price" if state.pending_slot == VEHICLE_MODEL else state.pending_slot
        parsed = self.services.nlu.parse(text, expected_slot=expected)
        new_slots: dict[str, Any] = dict(parsed.slots)
        if state.pending_slot == VEHICLE_MODEL and "vehicle_price" not in new_slots and "budget" in new_slots:
            new_slots["vehicle_price"] = new_slots.pop("budget")  # "当时15万买的" answers the price question
        named_car = self._note_vehicle(state, parsed.intent, text, new_slots)
        answers = self._answers_pending(state, new_slots, named_car)
        intent = self._resolve_intent(state, parsed.intent, float(parsed.confidence), new_slots, text, answers)
        self._update_applicant_flags(state, text)
        state.slots.update(new_slots)
        draft.intent = intent
        draft.confidence = float(parsed.confidence) if intent == parsed.intent else 1.0
        return self._dispatch(intent, state, text, ctx, draft)

    def _note_vehicle(self, state: SessionState, intent: str, text: str, new_slots: dict[str, Any]) -> bool:
        """Remember the catalogue car the customer names while a car is being valued; True if one was named.

        The valuation needs the model, not just the brand (a 丰田 may be a 卡罗拉 or a 汉兰达). A named
        model also gives the brand; a different brand on its own forgets the model.
        """
        if state.flow != "collateral_loan" and intent != "collateral_loan":
            return False
        catalogue = self.services.catalogue
        vehicle = catalogue.vehicle_in_text(text)
        if vehicle is None:
            brand = str(new_slots.get("brand", "")).lower()
            if brand and state.vehicle_id:
                known = catalogue.find_vehicle(state.vehicle_id)
                if known is None or brand not in (known.brand.lower(), known.brand_en.lower()):
                    state.vehicle_id = None
            return False
        state.vehicle_id = vehicle.id
        new_slots.setdefault("brand", vehicle.brand if state.lang == "zh" else vehicle.brand_en)
        return True

    @staticmethod
    def _answers_pending(state: SessionState, new_slots: dict[str, Any], named_car: bool) -> bool:
        """Whether the message answers the question we asked, whatever the classifier makes of it.

        A slot question is answered by that slot; "which model?" by a catalogue car ("卡罗拉") or by
        the price when new.
        """
        if state.pending_slot == VEHICLE_MODEL:
            return named_car or "vehicle_price" in new_slots
        return state.pending_slot is not None and state.pending_slot in new_slots

    def _resolve_intent(
        self, state: SessionState, intent: str, confidence: float, new_slots: dict[str, Any], text: str,
        answers_question: bool,
    ) -> str:
        """Keep the active flow when the message only answers its question or corrects a fact."""
        active = state.flow
        if active and new_slots:
            correcting = bool(CORRECTION.search(text))
            weak = confidence < 0.55 or intent in {"out_of_scope", "greeting"}
            only_flow_facts = set(new_slots) <= FLOW_SLOTS.get(active, frozenset())
            short_answer = only_flow_facts and len(text) <= SHORT_ANSWER_CHARS and intent in TASK_FLOWS
            if answers_question or correcting or weak or short_answer:
                return active
        if active and intent == "out_of_scope" and confidence < 0.55 and state.pending_slot:
            return active
        return intent

    def _dispatch(self, intent: str, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> TurnDraft:
        previous_flow = state.flow
        digression = intent not in TASK_FLOWS and previous_flow in TASK_FLOWS and state.pending_slot is not None
        if intent in TASK_FLOWS:
            if intent != previous_flow:
                state.pending_slot = None
            state.flow = intent
        handler = getattr(self, f"_flow_{intent}", self._flow_out_of_scope)
        handler(state, text, ctx, draft)
        state.last_intent = intent
        if digression and state.flow == previous_flow and state.pending_slot and not draft.handoff:
            # Answer the side question, then come back to what we were doing.
            resume = self.prompts.reply("resume", state.lang, flow_hint=self._flow_hint(state))
            draft.reply += "\n\n" + resume + self.prompts.reply("ask_slot", state.lang, slot=state.pending_slot)
        return draft

    # ------------------------------------------------------------------ helpers
    def _flow_hint(self, state: SessionState) -> str:
        if not state.flow:
            return ""
        zh, en = FLOW_HINT.get(state.flow, ("", ""))
        return zh if state.lang == "zh" else en

    def _summary(self, state: SessionState) -> str:
        return self.prompts.reply("summary", state.lang, facts=describe_slots(state.slots, state.lang),
                                  flow_hint=self._flow_hint(state))

    def _ask(self, state: SessionState, slot: str, draft: TurnDraft) -> TurnDraft:
        state.pending_slot = slot
        draft.reply = self.prompts.reply("ask_slot", state.lang, slot=slot)
        return draft

    def _call(self, ctx: ToolContext, draft: TurnDraft, name: str, arguments: dict[str, Any]) -> BaseModel | None:
        """Run a registered tool, recording the call (arguments masked) for the reply and the audit trail."""
        record = ToolCallRecord(name=name, arguments=_masked(arguments))
        draft.tool_calls.append(record)
        try:
            result = REGISTRY.get(name).invoke(ctx, arguments)
        except AssistantError as exc:
            record.error = exc.message
            return None
        record.result = result.model_dump(mode="json")
        return result

    def _update_applicant_flags(self, state: SessionState, text: str) -> None:
        if NO_DELINQUENCY.search(text):
            state.slots["has_delinquency"] = False
        elif DELINQUENCY.search(text):
            state.slots["has_delinquency"] = True

    def _lang_pick(self, state: SessionState, zh: str, en: str) -> str:
        return zh if state.lang == "zh" else en

    def _quote_summary(self, quote_out: Any, **extra: Any) -> dict[str, Any]:
        data = quote_out.model_dump(mode="json")
        data.update(extra)
        return data

    def _principal(self, state: SessionState, assumed: list[str]) -> Decimal | None:
        """Loan amount from what the customer said: loan amount, or price minus down payment."""
        s = state.slots
        if "loan_amount" in s:
            return Decimal(str(s["loan_amount"]))
        price = s.get("vehicle_price")
        if price is None:
            return None
        price = Decimal(str(price))
        if "down_payment" in s:
            return price - Decimal(str(s["down_payment"]))
        if "down_payment_ratio" in s:
            return (price * (1 - Decimal(str(s["down_payment_ratio"])))).quantize(Decimal("1"))
        assumed.append(self._lang_pick(state, "首付按三成估算", "30% down payment assumed"))
        return (price * (1 - DEFAULT_DOWN_RATIO)).quantize(Decimal("1"))

    def _reference_rate(self, state: SessionState, assumed: list[str]) -> Decimal:
        """The bank auto loan's middle-grade rate from the catalogue, said as an assumption."""
        product = self.services.catalogue.product("bank_auto_loan")
        grades = product.grades
        rate = product.rate_for(grades[len(grades) // 2])
        assumed.append(self._lang_pick(state, f"利率按银行车贷参考年利率{percent_str(rate)}估算",
                                       f"the bank-loan reference rate of {percent_str(rate)} assumed"))
        return rate

    # ------------------------------------------------------------------ flows
    def _flow_greeting(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        draft.reply = self.prompts.reply("greeting", state.lang)

    def _flow_goodbye(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        state.flow = None
        state.pending_slot = None
        draft.reply = self.prompts.reply("goodbye", state.lang)

    def _flow_out_of_scope(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        draft.reply = self.prompts.reply("out_of_scope", state.lang)

    def _flow_car_recommendation(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        s = state.slots
        if "budget" not in s and "vehicle_price" not in s:
            self._ask(state, "budget", draft)
            return
        state.pending_slot = None
        profile = {k: s[k] for k in MATCH_FIELDS if k in s}
        result = self._call(ctx, draft, "match_offers", profile)
        criteria = describe_slots(s, state.lang, only=list(MATCH_FIELDS))
        if result is None:
            draft.reply = self.prompts.reply("no_offers", state.lang, criteria=criteria,
                                             explanation=draft.tool_calls[-1].error or "", alternatives="")
            return
        data = result.model_dump(mode="json")
        offers = data.get("offers", [])[:3]
        assumed = _assumed_text(data.get("assumed", {}), state.lang)
        if not offers:
            explanation = data.get("explanation")
            alternatives = [alt.get("change", {}) for alt in data.get("alternatives") or []]
            draft.reply = self.prompts.reply(
                "no_offers", state.lang, criteria=criteria,
                explanation=_join([explanation] if explanation else data.get("notes") or [], state.lang),
                alternatives=_join(alternatives[:3], state.lang),
            )
            draft.offers = [alt["offer"] for alt in (data.get("alternatives") or [])[:3] if alt.get("offer")]
            return
        cards = [_offer_card(o, state.lang) for o in offers]
        draft.offers = offers
        state.last_offers = offers
        first = offers[0]
        state.application = _application_from_offer(first)
        draft.reply = self.prompts.reply("offers", state.lang, criteria=criteria, offers=cards, assumed=assumed)

    def _flow_payment_calculation(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        s = state.slots
        assumed: list[str] = []
        principal = self._principal(state, assumed)
        if principal is None:
            self._ask(state, "vehicle_price", draft)
            return
        if "term_months" not in s:
            self._ask(state, "term_months", draft)
            return
        state.pending_slot = None
        if "quoted_rate" in s:
            rate = Decimal(str(s["quoted_rate"]))
            rate_type = s.get("rate_type", "nominal")
        else:
            rate = self._reference_rate(state, assumed)
            rate_type = "nominal"
        self._price(state, ctx, draft, principal, rate, rate_type, int(s["term_months"]), assumed, "quote")

    def _flow_rate_check(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        s = state.slots
        if "quoted_rate" not in s:
            self._ask(state, "quoted_rate", draft)
            return
        state.pending_slot = None
        assumed: list[str] = []
        rate_type = s.get("rate_type")
        if rate_type is None:
            rate_type = "flat"
            assumed.append(self._lang_pick(state, "按“费率”（按原始本金计息）理解", "read as a flat rate"))
        term = s.get("term_months")
        if term is None:
            term = DEFAULT_TERM
            assumed.append(self._lang_pick(state, "期数按36期估算", "36 months assumed"))
        principal = self._principal(state, [])
        if principal is None:
            principal = Decimal(100000)
            assumed.append(self._lang_pick(state, "以10万元为例", "a 100,000 yuan example"))
        self._price(state, ctx, draft, principal, Decimal(str(s["quoted_rate"])), rate_type, int(term), assumed,
                    "rate_check")

    def _price(
        self, state: SessionState, ctx: ToolContext, draft: TurnDraft, principal: Decimal, rate: Decimal,
        rate_type: str, term: int, assumed: list[str], template: str,
    ) -> None:
        method = state.slots.get("repayment_method", "equal_installment")
        args = {"principal": str(principal), "annual_rate": str(rate), "term_months": term, "method": method,
                "rate_type": rate_type}
        result = self._call(ctx, draft, "quote_loan", args)
        if result is None:
            draft.reply = draft.tool_calls[-1].error or ""
            return
        q: Any = result
        method_name = ENUM_ZH[method] if state.lang == "zh" else method.replace("_", " ")
        draft.quote = self._quote_summary(q, principal=float(principal), annual_rate=float(rate), term_months=term,
                                          rate_type=rate_type, method=method)
        state.application = {"principal": str(principal), "annual_rate": str(rate), "term_months": term,
                             "method": method, "rate_type": rate_type, "upfront_fees": "0"}
        draft.reply = self.prompts.reply(
            template, state.lang, rate_type=rate_type, rate=percent_str(rate), principal=yuan_str(principal),
            term=term, method_name=method_name, monthly_payment=yuan_str(q.monthly_payment),
            total_interest=yuan_str(q.total_interest), fees=yuan_str(q.upfront_fees),
            total_paid=yuan_str(q.total_paid), apr=percent_str(q.apr), assumed="；".join(assumed)
            if state.lang == "zh" else "; ".join(assumed),
        )

    def _flow_eligibility_check(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        if not state.consent:
            state.awaiting_consent = True
            draft.reply = self.prompts.reply("eligibility_consent", state.lang)
            draft.fixed = True
            return
        s = state.slots
        if "monthly_income" not in s:
            self._ask(state, "monthly_income", draft)
            return
        assumed: list[str] = []
        principal = self._principal(state, assumed)
        if principal is None:
            self._ask(state, "loan_amount", draft)
            return
        state.pending_slot = None
        price = Decimal(str(s.get("vehicle_price") or s.get("budget") or 0))
        if price <= 0:
            price = (principal / Decimal("0.7")).quantize(Decimal("1"))
            assumed.append(self._lang_pick(state, "车价按贷款额÷70%估算", "car price assumed as loan ÷ 70%"))
        applicant: dict[str, Any] = {
            "monthly_income": int(s["monthly_income"]),
            "loan_amount": int(principal),
            "vehicle_price": int(price),
            "term_months": int(s.get("term_months", DEFAULT_TERM)),
            "applicant_id": state.session_id,
        }
        if "term_months" not in s:
            assumed.append(self._lang_pick(state, "期数按36期", "36 months assumed"))
        if "age" in s:
            applicant["age"] = int(s["age"])
        if "has_delinquency" in s:
            applicant["has_delinquency"] = bool(s["has_delinquency"])
        result = self._call(ctx, draft, "score_applicant", applicant)
        if result is None:
            draft.reply = draft.tool_calls[-1].error or ""
            return
        data = result.model_dump(mode="json")
        state.last_decision = {k: data.get(k) for k in ("decision", "grade", "probability_of_default", "score")}
        decision = str(data.get("decision"))
        reasons = _join(data.get("reasons", [])[:3], state.lang)
        model_assumed = _assumed_text(data.get("assumed", {}), state.lang)
        all_assumed = "；".join([*assumed, model_assumed] if model_assumed else assumed)
        draft.reply = self.prompts.reply("decision", state.lang, decision=decision, grade=data.get("grade", ""),
                                         reasons=reasons, assumed=all_assumed)
        if decision == "review":
            # "review" always means a human looks.
            draft.handoff = True
            state.handoff = True
            state.handoff_reason = "credit_review"

    def _flow_apply(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        self._flow_eligibility_check(state, text, ctx, draft)
        if state.last_decision and state.last_decision.get("decision") == "approve" and not state.pending_slot:
            draft.reply += "\n" + self._lang_pick(
                state, "如需继续，我可以为您生成借款合同、风险提示书和还款计划表供您预览。",
                "If you wish, I can prepare the loan contract, risk disclosure and repayment schedule to review.")

    def _flow_document_request(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        kinds = [kind for kind, pattern in DOC_KIND_WORDS if pattern.search(text)]
        if not kinds and PDF_WANTED.search(text) and state.last_document_kinds:
            kinds = list(state.last_document_kinds)  # "要PDF版": the same documents again, as PDFs
        if not kinds and state.slots.get("document_kind"):
            kinds = [str(state.slots["document_kind"])]
        if not kinds:
            kinds = ["loan_contract", "risk_disclosure", "repayment_schedule"]
        if state.application is None:
            assumed: list[str] = []
            principal = self._principal(state, assumed)
            if principal is None or "term_months" not in state.slots:
                draft.reply = self.prompts.reply("documents_need_application", state.lang)
                state.pending_slot = "loan_amount" if principal is None else "term_months"
                return
            rate = Decimal(str(state.slots.get("quoted_rate") or self._reference_rate(state, assumed)))
            state.application = {"principal": str(principal), "annual_rate": str(rate),
                                 "term_months": int(state.slots["term_months"]),
                                 "rate_type": state.slots.get("rate_type", "nominal"), "upfront_fees": "0"}
        state.pending_slot = None
        fmt = "pdf" if PDF_WANTED.search(text) else "html"
        result = self._call(ctx, draft, "generate_documents",
                            {"kinds": kinds, "application": state.application, "format": fmt, "lang": state.lang})
        if result is None:
            draft.reply = draft.tool_calls[-1].error or ""
            return
        data = result.model_dump(mode="json")
        docs = data.get("documents", [])
        state.last_document_kinds = kinds
        for doc in docs:
            draft.documents.append(DocumentRef(document_id=doc["document_id"], kind=doc["kind"], url=doc["url"]))
        names = [{"name": DOC_NAMES.get(d.kind, (d.kind, d.kind))[0 if state.lang == "zh" else 1], "url": d.url}
                 for d in draft.documents]
        draft.reply = self.prompts.reply("documents", state.lang, documents=names,
                                         pdf=fmt == "pdf",
                                         monthly_payment=yuan_str(Decimal(str(data.get("monthly_payment", 0)))),
                                         apr=percent_str(Decimal(str(data.get("apr", 0)))))

    def _flow_policy_question(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        self._answer_from_kb(state, text, ctx, draft, category=None)

    def _answer_from_kb(
        self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft, category: str | None
    ) -> bool:
        args: dict[str, Any] = {"query": text, "k": 3}
        if category:
            args["category"] = category
        result = self._call(ctx, draft, "search_knowledge", args)
        data = result.model_dump(mode="json") if result is not None else {}
        answer = data.get("answer") or ""
        hits = data.get("results", [])
        if not answer or not hits:
            draft.reply = self.prompts.reply("policy_none", state.lang)
            return False
        for hit in hits[:2]:
            draft.citations.append(Citation(doc_id=hit["doc_id"], title=hit["title"], snippet=hit["snippet"]))
        sources = "、".join(dict.fromkeys(c.title for c in draft.citations))
        draft.reply = self.prompts.reply("policy_answer", state.lang, answer=answer, sources=sources)
        return True

    def _flow_product_inquiry(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        energy = state.slots.get("energy_type")
        products = []
        for product in self.services.catalogue.products:
            if energy in {"bev", "phev", "nev"} and product.id == "used_car_loan":
                continue
            products.append(_product_line(product, state.lang))
        draft.reply = self.prompts.reply("product_list", state.lang, products=products)
        result = self._call(ctx, draft, "search_knowledge", {"query": text, "k": 2})
        if result is not None:
            for hit in result.model_dump(mode="json").get("results", [])[:2]:
                draft.citations.append(Citation(doc_id=hit["doc_id"], title=hit["title"], snippet=hit["snippet"]))

    def _flow_collateral_loan(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        s = state.slots
        if "brand" not in s:
            self._ask(state, "brand", draft)
            return
        vehicle = self.services.catalogue.find_vehicle(state.vehicle_id) if state.vehicle_id else None
        if vehicle is None and "vehicle_price" not in s:
            # A brand alone does not say which car; the model or the price when new does.
            self._ask(state, VEHICLE_MODEL, draft)
            return
        for slot in ("vehicle_age_years", "mileage_km"):
            if slot not in s:
                self._ask(state, slot, draft)
                return
        state.pending_slot = None
        args: dict[str, Any] = {k: s[k] for k in ("vehicle_age_years", "mileage_km", "energy_type", "body_type",
                                                  "term_months", "monthly_income", "age", "has_delinquency")
                                if k in s}
        if vehicle is not None:
            args["vehicle"] = vehicle.id
        args["brand"] = str(s["brand"])
        if "vehicle_price" in s:
            args["original_price"] = s["vehicle_price"]
        if "loan_amount" in s:
            args["loan_amount"] = s["loan_amount"]
        args["product_id"] = "car_title_loan"
        result = self._call(ctx, draft, "value_vehicle", args)
        if result is None:
            draft.reply = draft.tool_calls[-1].error or ""
            return
        v: Any = result
        loan = v.loan
        quote_data = None
        if loan is not None and loan.monthly_payment is not None and loan.apr is not None:
            quote_data = {"monthly_payment": yuan_str(loan.monthly_payment), "apr": percent_str(loan.apr)}
        name = (vehicle.name if state.lang == "zh" else vehicle.name_en) if vehicle is not None else str(s["brand"])
        draft.reply = self.prompts.reply(
            "valuation", state.lang, vehicle=name,
            age=s["vehicle_age_years"], mileage=s["mileage_km"],
            low=yuan_str(v.value_low), high=yuan_str(v.value_high), mid=yuan_str(v.estimated_value),
            product_name=(loan.product_name if state.lang == "zh" else loan.product_name_en) if loan else
            self._lang_pick(state, "车抵贷", "the car-title loan"),
            ltv=percent_str(loan.ltv_cap, 0) if loan else "-",
            amount=yuan_str(loan.max_loan_amount) if loan else "0.00", quote=quote_data,
            term=loan.term_months if loan else DEFAULT_TERM,
        )
        if loan is not None and not loan.eligible and loan.reasons:
            draft.reply += "\n" + _join([r.model_dump() for r in loan.reasons[:2]], state.lang)

    def _flow_repayment_trouble(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        days = state.slots.get("overdue_days")
        args: dict[str, Any] = {"message": text[:2000]}
        if days is not None:
            args["overdue_days"] = int(days)
        result = self._call(ctx, draft, "collection_options", args)
        zh = state.lang == "zh"
        if result is None:
            draft.reply = draft.tool_calls[-1].error or ""
            return
        plan: Any = result
        lines = []
        for option in plan.options:
            line = (f"{option.title_zh}：{option.detail_zh}" if zh else f"{option.title_en}: {option.detail_en}")
            if option.monthly_payment is not None and option.apr_percent:
                line += (f"（月供{yuan_str(option.monthly_payment)}元，年化利率APR {option.apr_percent}）" if zh
                         else f" (monthly payment {yuan_str(option.monthly_payment)} yuan, APR {option.apr_percent})")
            lines.append(line)
        consequences = "".join(plan.consequences_zh) if zh else " ".join(plan.consequences_en)
        answer = ""
        policy = TurnDraft()
        if self._answer_from_kb(state, text + (" 还款困难 延期" if zh else " hardship deferral"), ctx, policy, None):
            draft.citations.extend(policy.citations)
            draft.tool_calls.extend(policy.tool_calls)
            answer = plan.next_steps_zh if zh else plan.next_steps_en
        draft.reply = self.prompts.reply(
            "repayment_trouble", state.lang, empathy=plan.empathy_zh if zh else plan.empathy_en,
            consequences=consequences, options=lines, answer=answer,
            conduct=plan.conduct_zh if zh else plan.conduct_en,
        )
        if plan.handoff_recommended:
            draft.reply += "\n" + self._lang_pick(
                state, "建议由专员与您沟通具体方案，需要的话回复“转人工”。",
                "A specialist can arrange this with you: reply 'human' if you like.")

    def _flow_complaint(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        ticket = "C" + uuid.uuid4().hex[:10].upper()
        state.complaints.append(f"{ticket}: {mask_pii(text)[:200]}")
        self._handoff(state, draft, "complaint")
        draft.reply = self.prompts.reply("complaint", state.lang, ticket=ticket)

    def _flow_human_handoff(self, state: SessionState, text: str, ctx: ToolContext, draft: TurnDraft) -> None:
        self._handoff(state, draft, "customer_request")
        summary = describe_slots(state.slots, state.lang) or self._lang_pick(state, "客户要求人工服务",
                                                                               "customer asked for a human")
        draft.reply = self.prompts.reply("handoff", state.lang, summary=summary)

    def _handoff(self, state: SessionState, draft: TurnDraft, reason: str) -> None:
        draft.handoff = True
        state.handoff = True
        state.handoff_reason = reason


def _product_line(product: Any, lang: str) -> dict[str, str]:
    """A product's one-line summary with its APR range, priced by the money core (100,000 yuan example)."""
    from assistant.domain.quote import quote

    term = product.nearest_term(36)
    principal = Decimal(100000)
    aprs = [
        quote(principal, product.rate_for(grade), term, method=product.method, rate_type=product.rate_type,
              upfront_fees=product.upfront_fees(principal, term)).apr
        for grade in product.grades
    ]
    low, high = percent_str(min(aprs)), percent_str(max(aprs))
    span = low if low == high else f"{low}–{high}"
    if lang == "zh":
        return {"name": product.name,
                "summary": f"{product.summary_zh}（按10万元分{term}期测算，年化利率APR约{span}）"}
    return {"name": product.name_en,
            "summary": f"{product.summary_en} (100,000 yuan over {term} months: APR about {span})"}


def _masked(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_pii(v) if isinstance(v, str) else v for k, v in arguments.items()}


def _join(items: list[Any], lang: str) -> str:
    """Bilingual items ({zh, en} objects or "中文 / English" strings) in the customer's language."""
    texts = []
    for item in items:
        if isinstance(item, dict):
            texts.append(str(item.get("zh") if lang == "zh" else item.get("en")) or str(item))
        elif isinstance(item, str) and " / " in item:
            zh, _, en = item.partition(" / ")
            texts.append(zh if lang == "zh" else en)
        else:
            texts.append(str(item))
    return ("；" if lang == "zh" else "; ").join(t for t in texts if t)


def _assumed_text(assumed: dict[str, Any], lang: str) -> str:
    if not assumed:
        return ""
    from assistant.agent.facts import APPLICANT_LABELS, APPLICANT_VALUES_ZH, SLOT_LABELS, slot_value_text

    parts = []
    for key, value in assumed.items():
        if value is None:
            continue
        label = {**SLOT_LABELS, **APPLICANT_LABELS}.get(key, (key, key))[0 if lang == "zh" else 1]
        if key == "monthly_debt_payments":
            shown = f"{yuan_str(Decimal(str(value)))}元" if lang == "zh" else f"{yuan_str(Decimal(str(value)))} yuan"
        elif key == "employment_years":
            shown = f"{value}年" if lang == "zh" else f"{value} years"
        elif isinstance(value, bool) or key in {"employment_type", "home_status", "marital_status", "use"}:
            shown = APPLICANT_VALUES_ZH.get(str(value), str(value)) if lang == "zh" else str(value)
        else:
            try:
                shown = slot_value_text(key, value, lang)
            except (ArithmeticError, ValueError, TypeError):
                shown = str(value)
        parts.append(f"{label}{'' if lang == 'zh' else ' '}{shown}")
    return ("，" if lang == "zh" else ", ").join(parts)


def _offer_card(offer: dict[str, Any], lang: str) -> dict[str, Any]:
    vehicle = offer.get("vehicle", {})
    product = offer.get("product", {})
    reasons = offer.get("reasons") or []
    reason = _join(reasons[:1], lang)
    return {
        "vehicle_name": f"{vehicle.get('brand', '')} {vehicle.get('series', '')}".strip(),
        "product_name": product.get("name" if lang == "zh" else "name_en", product.get("id", "")),
        "vehicle_price": yuan_str(Decimal(str(offer["vehicle_price"]))),
        "down_payment": yuan_str(Decimal(str(offer["down_payment"]))),
        "loan_amount": yuan_str(Decimal(str(offer["loan_amount"]))),
        "term_months": offer["term_months"],
        "monthly_payment": yuan_str(Decimal(str(offer["monthly_payment"]))),
        "apr": percent_str(Decimal(str(offer["apr"]))),
        "total_interest": yuan_str(Decimal(str(offer["total_interest"]))),
        "reason": reason,
    }


def _application_from_offer(offer: dict[str, Any]) -> dict[str, Any]:
    """The application a document request would use, from the top offer (the same numbers as quoted)."""
    product = offer.get("product", {})
    vehicle = offer.get("vehicle", {})
    return {
        "principal": str(offer["loan_amount"]),
        "annual_rate": str(product.get("quoted_rate", "0")),
        "term_months": int(offer["term_months"]),
        "rate_type": product.get("rate_type", "nominal"),
        "upfront_fees": str(offer.get("upfront_fees", "0")),
        "product_id": product.get("id"),
        "down_payment": str(offer.get("down_payment", "0")),
        "vehicle": {"brand": vehicle.get("brand"), "series": vehicle.get("series"),
                    "price": str(offer.get("vehicle_price")), "condition": vehicle.get("condition", "new"),
                    "energy_type": vehicle.get("energy_type", "ice")},
    }
