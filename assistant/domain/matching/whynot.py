"""Answers to "why not X?" for a car or a finance product."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from assistant.domain.catalogue import Catalogue, FinanceProduct, Vehicle
from assistant.domain.matching.models import MatchPolicy, MatchProfile, Offer, Reason, UsedPricer, WhyNot
from assistant.domain.matching.offers import price_candidates
from assistant.domain.matching.profile import Resolved, resolve
from assistant.domain.matching.rules import (
    budget_exclusion,
    make_listing,
    person_exclusions,
    product_terms,
    vehicle_exclusions,
)
from assistant.domain.matching.screening import screen
from assistant.domain.money import yuan_str


def why_not(target: str, profile: MatchProfile, catalogue: Catalogue, policy: MatchPolicy | None = None,
            used_pricer: UsedPricer | None = None, offers: list[Offer] | None = None) -> WhyNot:
    """Which rules exclude a car or a product for this profile (or, if it is feasible, its best offer)."""
    policy = policy or MatchPolicy()
    r = resolve(profile, policy)
    product = catalogue.find_product(target)
    vehicle = None if product is not None else catalogue.find_vehicle(target)
    if product is None and vehicle is None:
        return WhyNot(target=target, target_kind="unknown", feasible=False, rules=[],
                      summary_zh=f"产品和车型库中都没有“{target}”",
                      summary_en=f"'{target}' is neither a product nor a car in the catalogue")
    if vehicle is not None:
        return _why_not_vehicle(target, vehicle, r, catalogue, policy, used_pricer, offers)
    assert product is not None
    return _why_not_product(target, product, r, catalogue, policy, used_pricer, offers)


def _dedupe(reasons: Iterable[Reason]) -> list[Reason]:
    seen: dict[str, Reason] = {}
    for x in reasons:
        seen.setdefault(x.code, x)
    return list(seen.values())


def _why_not_vehicle(target: str, vehicle: Vehicle, r: Resolved, catalogue: Catalogue, policy: MatchPolicy,
                     used_pricer: UsedPricer | None, offers: list[Offer] | None) -> WhyNot:
    in_offers = any(o.vehicle.id == vehicle.id for o in offers or [])
    rules = vehicle_exclusions(vehicle, r, None)
    listing = make_listing(vehicle, r, used_pricer)
    best: Offer | None = None
    if listing is not None:
        over = budget_exclusion(listing, r)
        if over is not None:
            rules.append(over)
    if not rules and listing is not None:
        s = screen(catalogue, r, policy, used_pricer, vehicles=[vehicle], explain=True)
        priced = price_candidates(s.feasible, r, policy, 1)
        best = priced[0] if priced else None
        if best is None:
            rules = _dedupe([*s.by_vehicle.get(vehicle.id, []),
                             *(x for reasons in s.by_product.values() for x in reasons if x.code != "purpose")])
    name = vehicle.name
    if best is not None:
        rank_zh = "已在推荐列表中" if in_offers else "符合条件，但综合排序（预算匹配、年化利率、总成本、多样性）靠后"
        rank_en = ("already among the offers" if in_offers
                   else "eligible, but ranked lower on budget fit, APR, cost and diversity")
        return WhyNot(target=target, target_kind="vehicle", target_id=vehicle.id, feasible=True, in_offers=in_offers,
                      rules=[], best_offer=best,
                      summary_zh=f"{name}{rank_zh}；最优方案：{best.product.name}，月供{yuan_str(best.monthly_payment)}元，"
                                 f"年化{best.apr_percent}",
                      summary_en=f"{vehicle.brand_en} {vehicle.series} is {rank_en}; "
                                 f"best plan: {best.product.name_en}, "
                                 f"{best.monthly_payment}/month, APR {best.apr_percent}")
    return WhyNot(target=target, target_kind="vehicle", target_id=vehicle.id, feasible=False, rules=rules,
                  summary_zh=f"{name}未被推荐：" + "；".join(x.zh for x in rules[:3]),
                  summary_en=f"{vehicle.brand_en} {vehicle.series} was excluded: " + "; ".join(x.en for x in rules[:3]))


def _why_not_product(target: str, product: FinanceProduct, r: Resolved, catalogue: Catalogue, policy: MatchPolicy,
                     used_pricer: UsedPricer | None, offers: list[Offer] | None) -> WhyNot:
    in_offers = any(o.product.id == product.id for o in offers or [])
    rules = person_exclusions(product, r) + product_terms(product, r)[1]
    best: Offer | None = None
    if not rules:
        sub = catalogue.model_copy(update={"products": [product]})
        s = screen(sub, r, policy, used_pricer, explain=True)
        priced = price_candidates(s.feasible, r, policy, 1)
        best = priced[0] if priced else None
        if best is None:
            counts = Counter(x.code for reasons in s.by_vehicle.values() for x in reasons)
            examples = {x.code: x for reasons in s.by_vehicle.values() for x in reasons}
            rules = [examples[code] for code, _ in counts.most_common()
                     if code not in ("body_type", "energy_type", "brand", "seats", "not_requested_vehicle")]
            rules = rules or [examples[code] for code, _ in counts.most_common()]
    if best is not None:
        return WhyNot(target=target, target_kind="product", target_id=product.id, feasible=True, in_offers=in_offers,
                      rules=[], best_offer=best,
                      summary_zh=f"{product.name}可以办理{'（已在推荐列表中）' if in_offers else '，但综合排序靠后'}；"
                                 f"例如{best.vehicle.brand} {best.vehicle.series}，"
                                 f"月供{yuan_str(best.monthly_payment)}元，"
                                 f"年化{best.apr_percent}",
                      summary_en=f"{product.name_en} is available"
                                 f"{' (among the offers)' if in_offers else ', ranked lower'};"
                                 f" e.g. {best.vehicle.brand_en} {best.vehicle.series}, {best.monthly_payment}/month, "
                                 f"APR {best.apr_percent}")
    return WhyNot(target=target, target_kind="product", target_id=product.id, feasible=False, rules=rules,
                  summary_zh=f"{product.name}不适用：" + "；".join(x.zh for x in rules[:3]),
                  summary_en=f"{product.name_en} does not apply: " + "; ".join(x.en for x in rules[:3]))
