"""Flows for choosing and pricing: car + finance recommendations, a payment calculation, the true APR."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.agent.facts import ENUM_ZH, describe_slots
from assistant.agent.flows.base import DEFAULT_TERM, Collect, Flow, FlowRun
from assistant.agent.flows.render import assumed_text, join_items, offer_card
from assistant.agent.offers import application_from_offer
from assistant.domain.money import percent_str, yuan_str

MATCH_FIELDS = (
    "budget", "vehicle_price", "down_payment", "down_payment_ratio", "loan_amount", "term_months",
    "monthly_income", "body_type", "energy_type", "vehicle_condition", "brand", "city", "age",
    "repayment_method", "max_monthly_payment", "monthly_debt_payments", "budget_min", "has_delinquency",
    "vehicle_age_years", "mileage_km", "employment_type", "income_in_cash",
)
EXCLUDE_ARGS = {"energy_type": "exclude_energy_types", "brand": "exclude_brands", "body_type": "exclude_body_types"}
OFFERS_SHOWN = 3


def match_profile(state: Any) -> dict[str, Any]:
    """The match tool's arguments from the session: the facts said, and the values ruled out."""
    s = state.slots
    profile = {k: s[k] for k in MATCH_FIELDS if k in s}
    for slot, values in state.excluded.items():
        if values and slot in EXCLUDE_ARGS:
            profile[EXCLUDE_ARGS[slot]] = list(values)
    return profile


def recommend(run: FlowRun) -> None:
    """Match cars and finance plans to what the customer said; explain when nothing fits."""
    s = run.slots
    state = run.state
    state.pending_slot = None
    profile = match_profile(state)
    result = run.call("match_offers", profile)
    criteria = describe_slots(s, run.lang, only=[*MATCH_FIELDS])
    if result is None:
        run.draft.reply = run.reply("no_offers", criteria=criteria, explanation=run.last_error(), alternatives="")
        return
    data = result.model_dump(mode="json")
    offers = data.get("offers", [])[:OFFERS_SHOWN]
    assumed = assumed_text(data.get("assumed", {}), run.lang)
    if run.notes:
        assumed = "；".join([*run.notes, assumed] if assumed else run.notes) if run.lang == "zh" else \
            "; ".join([*run.notes, assumed] if assumed else run.notes)
    if not offers:
        explanation = data.get("explanation")
        alternatives = [alt.get("change", {}) for alt in data.get("alternatives") or []]
        shown = [alt["offer"] for alt in (data.get("alternatives") or [])[:OFFERS_SHOWN] if alt.get("offer")]
        cap = s.get("max_monthly_payment")
        # Alternatives shown as plans must honour the customer's own cap and be affordable on their income
        # after debts; the others stay described in words (a co-borrower, a larger down payment).
        shown = [o for o in shown if _within_means(o, s, run.services)]
        run.draft.reply = run.reply(
            "no_offers", criteria=criteria,
            explanation=join_items([explanation] if explanation else data.get("notes") or [], run.lang),
            alternatives=join_items(alternatives[:OFFERS_SHOWN], run.lang),
        )
        if cap is not None and not shown:
            run.draft.reply += "\n" + _cap_floor(run, profile)
        run.draft.offers = shown
        # The earlier list no longer meets what the customer asks: "第一个" now means one of these (or none).
        state.last_offers = shown
        state.selected_offer = None
        return
    cards = [offer_card(o, run.lang) for o in offers]
    run.draft.offers = offers
    state.last_offers = offers
    state.selected_offer = None
    state.application = application_from_offer(offers[0])
    run.draft.reply = run.reply("offers", criteria=criteria, offers=cards, assumed=assumed)
    proof = next((n for n in data.get("notes") or [] if n.get("code") == "income_proof"), None)
    if proof is not None:  # how this customer earns decides the papers they will need
        run.draft.reply += "\n" + run.pick(proof["zh"] + "。", proof["en"] + ".")


def _within_means(offer: dict[str, Any], s: dict[str, Any], services: Any) -> bool:
    """An alternative worth showing as a plan: within the cap, affordable, and not a fraction of the car
    asked for (a 3万 microcar is no answer to "30万的车 月供500")."""
    payment = Decimal(str(offer["monthly_payment"]))
    budget = s.get("budget") or s.get("vehicle_price")
    if budget is not None and Decimal(str(offer["vehicle_price"])) < Decimal(str(budget)) * Decimal("0.5"):
        return False
    cap = s.get("max_monthly_payment")
    if cap is not None and payment > Decimal(str(cap)):
        return False
    income = s.get("monthly_income")
    if income is None:
        return True
    share = services.settings.affordability_share
    debts = Decimal(str(s.get("monthly_debt_payments", 0) or 0))
    return payment + debts <= Decimal(str(income)) * Decimal(str(share))


def _cap_floor(run: FlowRun, profile: dict[str, Any]) -> str:
    """What the lowest monthly payment on offer is without the cap (so the customer knows what would meet it)."""
    free = {k: v for k, v in profile.items() if k != "max_monthly_payment"}
    free["term_months"] = 60 if run.slots.get("vehicle_condition") != "used" else 36
    result = run.call("match_offers", free)
    offers = result.model_dump(mode="json").get("offers", []) if result is not None else []
    if not offers:
        return ""
    low = min(offers, key=lambda o: Decimal(str(o["monthly_payment"])))
    payment = yuan_str(Decimal(str(low["monthly_payment"])))
    apr = percent_str(Decimal(str(low["apr"])))
    name = f"{low['vehicle']['brand']} {low['vehicle']['series']}"
    return run.pick(
        f"按您的其他条件、分{low['term_months']}期，月供最低的是{name}：月供{payment}元（年化利率APR {apr}）。"
        "如果能接受这个月供，或提高首付、选更便宜的车，我可以重新为您匹配。",
        f"With your other conditions over {low['term_months']} months, the lowest payment is the {name}: "
        f"{payment} yuan a month (APR {apr}). If that works, or with a larger down payment or a cheaper car, "
        "I can match again.")


def calculate(run: FlowRun) -> None:
    """Price the loan the customer described (their rate, or the reference rate said as an assumption)."""
    s = run.slots
    assumed: list[str] = []
    principal = run.principal(assumed)
    if principal is None:
        run.ask("vehicle_price")
        return
    run.state.pending_slot = None
    if "quoted_rate" in s:
        rate = Decimal(str(s["quoted_rate"]))
        rate_type = s.get("rate_type", "nominal")
    else:
        rate = run.reference_rate(assumed)
        rate_type = "nominal"
    price(run, principal, rate, rate_type, int(s["term_months"]), assumed, "quote")


def check_rate(run: FlowRun) -> None:
    """The true APR behind a dealer's quoted rate."""
    s = run.slots
    run.state.pending_slot = None
    assumed: list[str] = []
    rate_type = s.get("rate_type")
    if rate_type is None:
        rate_type = "flat"
        assumed.append(run.pick("按“费率”（按原始本金计息）理解", "read as a flat rate"))
    term = s.get("term_months")
    if term is None:
        term = DEFAULT_TERM
        assumed.append(run.pick("期数按36期估算", "36 months assumed"))
    principal = run.principal([])
    if principal is None:
        principal = Decimal(100000)
        assumed.append(run.pick("以10万元为例", "a 100,000 yuan example"))
    price(run, principal, Decimal(str(s["quoted_rate"])), rate_type, int(term), assumed, "rate_check")


def price(run: FlowRun, principal: Decimal, rate: Decimal, rate_type: str, term: int, assumed: list[str],
          template: str) -> None:
    """Quote a loan with the money core and say it with its APR."""
    method = run.slots.get("repayment_method", "equal_installment")
    args = {"principal": str(principal), "annual_rate": str(rate), "term_months": term, "method": method,
            "rate_type": rate_type}
    result = run.call("quote_loan", args)
    if result is None:
        run.draft.reply = run.last_error()
        return
    q: Any = result
    method_name = ENUM_ZH[method] if run.lang == "zh" else method.replace("_", " ")
    summary = q.model_dump(mode="json")
    summary.update(principal=float(principal), annual_rate=float(rate), term_months=term, rate_type=rate_type,
                   method=method)
    run.draft.quote = summary
    run.state.last_quote = {k: v for k, v in summary.items() if k != "schedule"} | {
        "schedule": [{"period": r["period"], "payment": r["payment"]} for r in summary.get("schedule", [])]}
    run.state.application = {"principal": str(principal), "annual_rate": str(rate), "term_months": term,
                             "method": method, "rate_type": rate_type, "upfront_fees": "0"}
    run.state.selected_offer = None
    notes = [*run.notes, *assumed]
    run.draft.reply = run.reply(
        template, rate_type=rate_type, rate=percent_str(rate), principal=yuan_str(principal),
        term=term, method_name=method_name, monthly_payment=yuan_str(q.monthly_payment),
        total_interest=yuan_str(q.total_interest), fees=yuan_str(q.upfront_fees),
        total_paid=yuan_str(q.total_paid), apr=percent_str(q.apr),
        assumed=("；" if run.lang == "zh" else "; ").join(notes),
    )
    cap = run.slots.get("max_monthly_payment")
    if cap is not None and q.monthly_payment > Decimal(str(cap)):
        # Say plainly that the customer's cap is not met, and what would meet it.
        run.draft.reply += "\n" + run.pick(
            f"这个月供超过了您希望的{yuan_str(Decimal(str(cap)))}元上限，按这个车价和期限无法做到；"
            "可以考虑提高首付、延长期限或选择价格更低的车，我可以帮您重新测算或推荐。",
            f"This is over your cap of {yuan_str(Decimal(str(cap)))} yuan a month and cannot be met at this price "
            "and term; a larger down payment, a longer term or a cheaper car would lower it. I can recalculate or "
            "recommend cars.")


def list_products(run: FlowRun) -> None:
    """The finance products with their APR range, and the knowledge pages that describe them."""
    from assistant.agent.flows.render import product_line

    energy = run.slots.get("energy_type")
    products = [product_line(p, run.lang) for p in run.services.catalogue.products
                if not (energy in {"bev", "phev", "nev"} and p.id == "used_car_loan")]
    run.draft.reply = run.reply("product_list", products=products)
    result = run.call("search_knowledge", {"query": run.text, "k": 2, "lang": run.lang})
    if result is not None:
        from assistant.agent.types import Citation

        for hit in result.model_dump(mode="json").get("results", [])[:2]:
            run.draft.citations.append(Citation(doc_id=hit["doc_id"], title=hit["title"], snippet=hit["snippet"]))


FLOWS = (
    Flow("car_recommendation", ("为您挑选车型和金融方案", "choosing a car and a finance plan"), recommend,
         collects=(Collect("budget", satisfied_by=("vehicle_price", "max_monthly_payment")),),
         uses=frozenset(MATCH_FIELDS)),
    Flow("payment_calculation", ("计算月供", "working out your monthly payment"), calculate,
         collects=(Collect("vehicle_price", satisfied_by=("loan_amount",)), Collect("term_months")),
         uses=frozenset({"vehicle_price", "down_payment", "down_payment_ratio", "loan_amount", "term_months",
                         "quoted_rate", "rate_type", "repayment_method"})),
    Flow("rate_check", ("核算真实年化利率", "checking the true APR"), check_rate,
         collects=(Collect("quoted_rate"),),
         uses=frozenset({"quoted_rate", "rate_type", "term_months", "loan_amount", "vehicle_price"})),
    Flow("product_inquiry", ("", ""), list_products, task=False),
)
