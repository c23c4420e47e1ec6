"""Infeasible input: the main reason nothing fits, and the nearest feasible alternatives (one change each)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistant.domain.catalogue import Catalogue, Eligibility, Grade, Purpose
from assistant.domain.matching.models import (
    DEFAULT_DOWN_PAYMENT_RATIO,
    Alternative,
    MatchPolicy,
    MatchProfile,
    Offer,
    Reason,
    UsedPricer,
)
from assistant.domain.matching.offers import find_offers
from assistant.domain.matching.profile import Resolved, resolve
from assistant.domain.matching.screening import Screen
from assistant.domain.money import fen, percent_str, yuan_str
from assistant.domain.regulation import SOURCE_2017, Condition, max_term


def explain_infeasible(r: Resolved, s: Screen, catalogue: Catalogue, policy: MatchPolicy,
                       used_pricer: UsedPricer | None) -> Reason:
    """The main reason nothing fits, most specific first."""
    p = r.profile
    legal = max_term(r.condition)
    if r.term_given and r.term > legal:
        return Reason(code="term_cap", zh=f"{'二手车' if r.condition is Condition.USED else '汽车'}贷款期限（含展期）"
                                          f"不得超过{legal}期，{r.term}期无法办理",
                      en=f"{r.condition.value}-car loans are capped at {legal} months; {r.term} is not allowed",
                      source=SOURCE_2017)
    price = p.vehicle_price
    if price is not None and r.down_payment is not None and r.down_payment >= price:
        return Reason(code="down_payment_conflict",
                      zh=f"首付{yuan_str(r.down_payment)}元不低于车价{yuan_str(price)}元，无需贷款（两者矛盾，请核对）",
                      en=f"down payment {r.down_payment} is not below the price {price}: no loan is needed "
                         "(the two conflict; please check)")
    if r.budget is not None and r.down_payment is not None and r.down_payment >= r.budget:
        return Reason(code="down_payment_conflict",
                      zh=f"首付{yuan_str(r.down_payment)}元不低于预算{yuan_str(r.budget)}元，预算内的车可全款购买，无需贷款",
                      en=f"down payment {r.down_payment} is not below the budget {r.budget}: cars within budget "
                         "need no loan")
    if r.income is not None and r.income <= 0:
        return Reason(code="no_income", zh="月收入为0，无法满足任何贷款的还款能力要求",
                      en="a zero income cannot support any loan repayment")
    if r.max_payment is not None and r.max_payment <= 0:
        return Reason(code="affordability",
                      zh=f"您现有负债的还款{yuan_str(r.debt_payments)}元/月已达到月收入的"
                         f"{percent_str(policy.affordability_share, 0)}，"
                         "无法再承担新的月供",
                      en="existing debt payments already use the affordable share of income")
    preferred = s.listings
    if r.budget is not None and preferred and all(x.price > r.budget for x in preferred):
        cheapest = min(preferred, key=lambda x: x.price)
        return Reason(code="budget_too_low",
                      zh=f"预算{yuan_str(r.budget)}元低于符合条件的最便宜车型{cheapest.vehicle.name}"
                         f"（{yuan_str(cheapest.price)}元）",
                      en=f"the budget {r.budget} is below the cheapest matching car, {cheapest.vehicle.brand_en} "
                         f"{cheapest.vehicle.series} at {cheapest.price}")
    if not s.listings:
        return Reason(code="no_matching_vehicle", zh="车型库中没有同时满足您所有偏好的车型",
                      en="no car in the catalogue meets all the stated preferences")
    top = [code for code, _ in s.excluded.most_common()
           if code not in ("purpose", "condition", "product_energy", "over_budget", "grade")]
    code = top[0] if top else (s.excluded.most_common(1)[0][0] if s.excluded else "no_offer")
    sample = next((x for reasons in list(s.by_vehicle.values()) + list(s.by_product.values())
                   for x in reasons if x.code == code), None)
    if sample is not None:
        return Reason(code=code, zh="没有可办理的方案，主要原因：" + sample.zh,
                      en="no plan qualifies; main reason: " + sample.en, source=sample.source)
    return Reason(code="no_offer", zh="没有符合条件的方案", en="no plan qualifies")


@dataclass(frozen=True)
class Relaxation:
    """One change to the profile that may make it feasible."""

    code: str
    zh: str
    en: str
    changes: dict[str, object]
    ignore_affordability: bool = False


def relaxations(profile: MatchProfile, r: Resolved, s: Screen, catalogue: Catalogue) -> list[Relaxation]:
    """Changes to try, nearest first (each alone; the last ones combine)."""
    out: list[Relaxation] = []
    legal = max_term(r.condition)
    if r.term_given and r.term > legal:
        out.append(Relaxation("term", f"期限改为法定上限{legal}期", f"term set to the legal maximum of {legal} months",
                              {"term_months": legal}))
    conflict = r.down_payment is not None and (
        (profile.vehicle_price is not None and r.down_payment >= profile.vehicle_price)
        or (r.budget is not None and r.down_payment >= r.budget))
    if conflict:
        out.append(Relaxation("down_payment", "首付按车价的30%测算", "down payment taken as 30% of the price",
                              {"down_payment": None, "down_payment_ratio": DEFAULT_DOWN_PAYMENT_RATIO}))
    if r.budget is not None and s.listings and all(x.price > r.budget for x in s.listings):
        cheapest = min(x.price for x in s.listings)
        out.append(Relaxation("budget", f"预算提高到{yuan_str(cheapest)}元（符合条件的最低车价）",
                              f"budget raised to {cheapest} (the cheapest matching car)",
                              {"budget": cheapest, "vehicle_price": None}))
        if r.condition is Condition.NEW:
            out.append(Relaxation("used", "改看预算内的二手车", "used cars within the budget",
                                  {"vehicle_condition": Condition.USED}))
    if not s.listings or s.excluded.get("over_budget") == len(s.listings):
        for name, zh, en in (("brand", "不限品牌", "any brand"), ("energy_type", "不限动力类型", "any energy type"),
                             ("body_type", "不限车身类型", "any body type"), ("seats", "不限座位数", "any seats")):
            if getattr(profile, name) is not None:
                out.append(Relaxation(name, zh, en, {name: None}))
    out.extend(_payment_relaxations(r))
    if r.income is not None:
        out.append(Relaxation("income", "不考虑收入限制：方案注明所需最低月收入（可增加共同借款人或提高收入证明）",
                              "ignoring income: each offer states the income it needs (add a co-borrower or proof "
                              "of more income)", {"monthly_income": None}, ignore_affordability=True))
    younger = _younger_car(r, s, catalogue)
    if younger is not None:
        out.append(younger)
    if r.grade in (Grade.D, Grade.E) or profile.has_delinquency:
        out.append(Relaxation("grade", "信用记录修复后（按C级）", "after the credit record improves (grade C)",
                              {"risk_grade": Grade.C, "has_delinquency": False}))
    # Last resort: everything above at once (keeping the customer's stated preferences where possible).
    combined: dict[str, object] = {}
    for item in out:
        combined.update(item.changes)
    if len(out) > 1:
        out.append(Relaxation("combined", "综合调整：" + "；".join(x.zh for x in out),
                              "all of: " + "; ".join(x.en for x in out), combined,
                              ignore_affordability=any(x.ignore_affordability for x in out)))
    return out


def _payment_relaxations(r: Resolved) -> list[Relaxation]:
    """When a monthly limit binds: a longer term, a larger down payment, a cheaper car."""
    out: list[Relaxation] = []
    if (r.income is not None or r.profile.max_monthly_payment is not None) and (
            r.max_payment is not None and r.max_payment > 0):
        longer = 60 if r.condition is Condition.NEW else 36
        if r.term < longer:
            out.append(Relaxation("longer_term", f"期限延长到{longer}期，每期还得更少",
                                  f"a longer term of {longer} months lowers the payment", {"term_months": longer}))
        out.append(Relaxation("higher_down_payment", "首付提高到50%", "down payment raised to 50%",
                              {"down_payment": None, "down_payment_ratio": Decimal("0.5"), "loan_amount": None}))
        if r.budget:
            out.append(Relaxation("cheaper_car", "选择更便宜的车型（预算减半）", "a cheaper car (half the budget)",
                                  {"budget": fen(r.budget / 2), "vehicle_price": None}))
    return out


def _younger_car(r: Resolved, s: Screen, catalogue: Catalogue) -> Relaxation | None:
    """A used car young and low-mileage enough for some product, when age or mileage excluded the pairs."""
    if r.condition is Condition.USED and (s.excluded.get("vehicle_age") or s.excluded.get("vehicle_age_plus_term")
                                          or s.excluded.get("mileage")):
        limits = [_used_limits(p.eligibility, r.term) for p in catalogue.products
                  if Condition.USED in p.eligibility.conditions and p.eligibility.purpose is Purpose.PURCHASE]
        if limits:
            age, km = max(limits)
            changes: dict[str, object] = {}
            if r.vehicle_age > age:
                changes["vehicle_age_years"] = age
            if km is not None and r.mileage > km:
                changes["mileage_km"] = km
            if changes:
                return Relaxation("younger_car",
                                  f"换一辆车龄不超过{age}年、里程不超过{km or r.mileage:,}公里的二手车",
                                  f"a used car at most {age} years old with at most {km or r.mileage:,} km",
                                  changes)
    return None


def _used_limits(e: Eligibility, term: int) -> tuple[Decimal, int | None]:
    """The oldest used car (years) and the highest mileage a product accepts at this term."""
    age = e.max_vehicle_age_years if e.max_vehicle_age_years is not None else Decimal(20)
    if e.max_vehicle_age_plus_term_years is not None:
        age = min(age, e.max_vehicle_age_plus_term_years - Decimal(term) / 12)
    return age, e.max_mileage_km


def alternatives(profile: MatchProfile, r: Resolved, s: Screen, catalogue: Catalogue, policy: MatchPolicy,
                 used_pricer: UsedPricer | None, limit: int = 3) -> list[Alternative]:
    """Up to ``limit`` nearest feasible offers, each with the one change that made it possible."""
    per_change: list[tuple[Relaxation, list[Offer]]] = []
    for relax in relaxations(profile, r, s, catalogue):
        rr = resolve(profile.model_copy(update=relax.changes), policy)
        offers, _ = find_offers(catalogue, rr, policy, used_pricer, limit=limit)
        if offers:
            per_change.append((relax, offers))
    # Round-robin over the changes: different ways out first, then more offers for each.
    found: list[Alternative] = []
    seen: set[tuple[str, str]] = set()
    for rank in range(limit):
        for relax, offers in per_change:
            if rank < len(offers) and len(found) < limit:
                offer = offers[rank]
                key = (offer.vehicle.id, offer.product.id)
                if key not in seen:
                    seen.add(key)
                    found.append(Alternative(change=Reason(code=relax.code, zh=relax.zh, en=relax.en), offer=offer))
    return found
