"""Flows that assess the customer: the pre-assessment (after consent) and the start of an application."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.agent.flows.base import DEFAULT_TERM, Collect, Flow, FlowRun
from assistant.agent.flows.origination import open_review
from assistant.agent.flows.render import assumed_text, join_items

# Facts from the conversation that the risk model reads (contract applicant fields).
PROFILE_FIELDS = ("age", "has_delinquency", "employment_type", "home_status", "marital_status")
CREDIT_SLOTS = frozenset({"monthly_income", "loan_amount", "vehicle_price", "term_months", "age", "down_payment",
                          "down_payment_ratio", "monthly_debt_payments", "has_delinquency", "employment_type",
                          "home_status", "marital_status"})


def assess(run: FlowRun) -> None:
    """Score the applicant with what they said (defaults listed), and say the decision and its reasons."""
    s = run.slots
    state = run.state
    assumed: list[str] = []
    chosen = _chosen_offer(state)
    principal = run.principal(assumed)
    if principal is None and chosen is not None:
        # The offer the customer picked carries the loan, the price and the term.
        principal = Decimal(str(chosen["principal"]))
        assumed.append(run.pick(f"按您选的方案{state.selected_offer}测算",
                                f"using the plan you chose ({state.selected_offer})"))
    elif principal is None and _top_offer(state) is not None:
        # "想买台10w左右的车 这情况能贷下来不": plans were shown but none picked; the first stands for the loan.
        chosen = _top_offer(state)
        principal = Decimal(str(chosen["principal"]))
        assumed.append(run.pick("按为您列出的方案1测算", "using plan 1 of those shown"))
    if principal is None:
        run.ask("loan_amount")
        return
    state.pending_slot = None
    offer_price = chosen["vehicle"]["price"] if chosen is not None and "vehicle_price" not in s else None
    price = Decimal(str(offer_price or s.get("vehicle_price") or s.get("budget") or 0))
    if price <= 0:
        price = (principal / Decimal("0.7")).quantize(Decimal("1"))
        assumed.append(run.pick("车价按贷款额÷70%估算", "car price assumed as loan ÷ 70%"))
    applicant: dict[str, Any] = {
        "monthly_income": int(s["monthly_income"]),
        "loan_amount": int(principal),
        "vehicle_price": int(price),
        "term_months": int(s.get("term_months") or (chosen or {}).get("term_months") or DEFAULT_TERM),
        "applicant_id": state.session_id,
    }
    if "term_months" not in s and chosen is None:
        assumed.append(run.pick("期数按36期", "36 months assumed"))
    for name in PROFILE_FIELDS:
        if name in s:
            applicant[name] = s[name]
    if "monthly_debt_payments" in s:
        # The model reads outstanding debt; 36 monthly repayments stand for it (as the matcher assumes).
        applicant["debt"] = int(s["monthly_debt_payments"]) * 36
    result = run.call("score_applicant", applicant)
    if result is None:
        run.draft.reply = run.last_error()
        return
    data = result.model_dump(mode="json")
    state.last_decision = {k: data.get(k) for k in ("decision", "grade", "probability_of_default", "score")}
    decision = str(data.get("decision"))
    reasons = join_items(data.get("reasons", [])[:3], run.lang)
    model_assumed = assumed_text(data.get("assumed", {}), run.lang)
    all_assumed = "；".join([*assumed, model_assumed] if model_assumed else assumed)
    run.draft.reply = run.reply("decision", decision=decision, grade=data.get("grade", ""), reasons=reasons,
                                assumed=all_assumed)
    if decision == "review":
        run.handoff("credit_review")  # "review" always means a human looks
        open_review(run, applicant, data)  # ...in the officer's queue, as a submitted application


def _chosen_offer(state: Any) -> dict[str, Any] | None:
    """The application of the offer the customer explicitly picked (None when none was picked)."""
    return state.application if state.selected_offer is not None and state.application else None


def _top_offer(state: Any) -> dict[str, Any] | None:
    """The application of the first plan shown, when plans are on the table and none was picked."""
    return state.application if state.last_offers and state.application else None


def _has_loan(state: Any) -> bool:
    return bool({"loan_amount", "vehicle_price"} & set(state.slots)) or _chosen_offer(state) is not None or \
        _top_offer(state) is not None


def apply(run: FlowRun) -> None:
    """The pre-assessment, then (when it passes) the offer to prepare the documents."""
    assess(run)
    decision = run.state.last_decision or {}
    if decision.get("decision") == "approve" and not run.state.pending_slot:
        run.draft.reply += "\n" + run.pick(
            "如需继续，我可以为您生成借款合同、风险提示书和还款计划表供您预览。",
            "If you wish, I can prepare the loan contract, risk disclosure and repayment schedule to review.")


FLOWS = (
    Flow("eligibility_check", ("做贷款预评估", "running a pre-assessment"), assess,
         collects=(Collect("monthly_income"), Collect("loan_amount", ready=_has_loan)),
         uses=CREDIT_SLOTS, consent=True),
    Flow("apply", ("办理贷款申请", "starting your application"), apply,
         collects=(Collect("monthly_income"), Collect("loan_amount", ready=_has_loan)),
         uses=CREDIT_SLOTS, consent=True),
)
