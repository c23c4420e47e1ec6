"""Pricing the picked pairs exactly with the money core, re-checked by the rules, and the reasons for each offer."""

from __future__ import annotations

from decimal import Decimal

from assistant.domain.catalogue import BODY_ZH, ENERGY_ZH, Catalogue, FinanceProduct, Grade
from assistant.domain.matching.models import MatchPolicy, Offer, OfferProduct, OfferVehicle, Reason, UsedPricer
from assistant.domain.matching.profile import Resolved
from assistant.domain.matching.ranking import SHORTLIST, diverse_pick, rank_score
from assistant.domain.matching.rules import Listing, Terms, pair_terms
from assistant.domain.matching.screening import Candidate, Screen, screen
from assistant.domain.money import fen, percent_str, yuan_str
from assistant.domain.quote import Quote, QuoteRequest, build_quote, quote_figures
from assistant.domain.regulation import Condition, LoanProposal, check_loan
from assistant.domain.schedule import RateType


def price_offer(t: Terms, score: float, r: Resolved, policy: MatchPolicy) -> Offer | None:
    """Quote the pair exactly; None if the exact payment breaks affordability or the rules (re-check)."""
    q = build_quote(QuoteRequest(principal=t.loan, annual_rate=t.rate, term_months=t.term, method=t.product.method,
                                 rate_type=t.product.rate_type, upfront_fees=t.fees))
    max_payment = max(row.payment for row in q.schedule[:-1] or q.schedule)
    limit = r.max_payment
    if limit is not None and max_payment > limit:
        return None
    listing = t.listing
    verdict = check_loan(LoanProposal(vehicle_price=listing.price, loan_amount=t.loan, term_months=t.term,
                                      condition=listing.condition, energy_type=listing.vehicle.energy_type.value,
                                      use=r.use), policy.caps, policy.regime)
    if not verdict.allowed:
        return None
    return Offer(
        vehicle=_offer_vehicle(listing),
        product=_offer_product(t.product, r.grade, t.rate),
        vehicle_price=listing.price,
        down_payment=t.down,
        loan_amount=t.loan,
        term_months=t.term,
        **quote_figures(q, Offer.model_fields),
        required_monthly_income=fen((max_payment + r.debt_payments) / policy.affordability_share),
        ltv=verdict.ltv,
        ltv_cap=t.cap,
        score=score,
        reasons=offer_reasons(t, q, r, policy, max_payment),
    )


def _offer_vehicle(listing: Listing) -> OfferVehicle:
    v = listing.vehicle
    return OfferVehicle(id=v.id, brand=v.brand, brand_en=v.brand_en, series=v.series, body_type=v.body_type,
                        energy_type=v.energy_type, condition=listing.condition, seats=v.seats,
                        segment=v.segment.value, msrp_min=v.msrp_min, msrp_max=v.msrp_max,
                        age_years=listing.age_years, mileage_km=listing.mileage_km,
                        price_is_estimate=listing.price_is_estimate)


def _offer_product(product: FinanceProduct, grade: Grade, rate: Decimal) -> OfferProduct:
    return OfferProduct(id=product.id, name=product.name, name_en=product.name_en, kind=product.kind,
                        rate_type=product.rate_type, quoted_rate=rate, risk_grade=grade,
                        ownership_zh=product.ownership_zh, ownership_en=product.ownership_en)


def offer_reasons(t: Terms, q: Quote, r: Resolved, policy: MatchPolicy, max_payment: Decimal) -> list[Reason]:
    """Why this offer: budget, preferences, LTV, affordability, the true APR, product specifics."""
    listing, product, p = t.listing, t.product, r.profile
    v = listing.vehicle
    out: list[Reason] = []
    if listing.price_is_estimate:
        out.append(Reason(code="used_price_estimate",
                          zh=f"{listing.age_years}年车龄、{listing.mileage_km:,}公里的估算价{yuan_str(listing.price)}元，"
                             "以持证评估师评估为准",
                          en=f"estimated price for {listing.age_years} years / {listing.mileage_km:,} km; "
                             "a licensed appraiser confirms the value"))
    elif listing.condition is Condition.NEW:
        out.append(Reason(code="price", zh=f"按指导价{yuan_str(listing.price)}元测算"
                                           f"（该车系{yuan_str(v.msrp_min)}–{yuan_str(v.msrp_max)}元）",
                          en=f"priced at {listing.price} (guide range {v.msrp_min}–{v.msrp_max})"))
    if r.budget is not None:
        out.append(Reason(code="within_budget", zh=f"车价在预算{yuan_str(r.budget)}元以内",
                          en=f"within the budget of {r.budget}"))
    prefs_zh, prefs_en = [], []
    if p.body_type:
        prefs_zh.append(BODY_ZH[v.body_type])
        prefs_en.append(v.body_type.value)
    if p.energy_type:
        prefs_zh.append(ENERGY_ZH[v.energy_type])
        prefs_en.append(v.energy_type.value)
    if p.brand:
        prefs_zh.append(v.brand)
        prefs_en.append(v.brand_en)
    if p.seats:
        prefs_zh.append(f"{v.seats}座")
        prefs_en.append(f"{v.seats} seats")
    if prefs_zh:
        out.append(Reason(code="preferences", zh="符合您的要求：" + "、".join(prefs_zh),
                          en="matches what you asked for: " + ", ".join(prefs_en)))
    out.append(Reason(code="ltv", zh=f"首付{yuan_str(t.down)}元，贷款{yuan_str(t.loan)}元，"
                                     f"成数{percent_str(t.loan / listing.price, 0)}，不超过上限{percent_str(t.cap, 0)}",
                      en=f"down {t.down}, loan {t.loan}: LTV {percent_str(t.loan / listing.price, 0)} within the "
                         f"{percent_str(t.cap, 0)} cap", source=t.cap_source))
    if r.income is not None:
        out.append(Reason(code="affordable",
                          zh=f"月供{yuan_str(max_payment)}元，占月收入{percent_str(max_payment / r.income, 0)}"
                             f"（上限{percent_str(policy.affordability_share, 0)}）" if r.income else "月供可负担",
                          en=f"payment {max_payment} is {percent_str(max_payment / r.income, 0) if r.income else '-'}"
                             f" of income (limit {percent_str(policy.affordability_share, 0)})"))
    word = "年费率" if product.rate_type is RateType.FLAT else "年利率"
    out.append(Reason(code="apr", zh=f"{word}{percent_str(t.rate)}，年化利率（IRR）{percent_str(q.apr)}，"
                                     f"总利息{yuan_str(q.total_interest)}元，前期费用{yuan_str(q.upfront_fees)}元",
                      en=f"{'flat' if product.rate_type is RateType.FLAT else 'nominal'} rate "
                         f"{percent_str(t.rate)}, APR (IRR) {percent_str(q.apr)}, interest {q.total_interest}, "
                         f"fees {q.upfront_fees}"))
    if product.rate_type is RateType.FLAT:
        out.append(Reason(code="flat_rate",
                          zh=f"注意：{word}按全部本金全期计费，真实年化约为其{_ratio(q.apr, t.rate)}倍",
                          en=f"note: a flat rate is charged on the original principal; the APR is about "
                             f"{_ratio(q.apr, t.rate)}× the quoted rate"))
    if t.rate == 0 and q.upfront_fees > 0:
        out.append(Reason(code="zero_rate_fee",
                          zh=f"宣传0息，但一次性手续费{yuan_str(q.upfront_fees)}元，实际年化{percent_str(q.apr)}",
                          en=f"advertised as 0% but the {q.upfront_fees} fee makes the APR {percent_str(q.apr)}"))
    if product.is_lease:
        out.append(Reason(code="lease_ownership", zh="融资租赁：租期内车辆所有权归出租人，付清全部租金后才过户给您",
                          en="financing lease: the lessor owns the car until the last rent is paid"))
    if p.product_id == product.id:
        out.append(Reason(code="preferred_product", zh="您指定的产品", en="the product you asked for"))
    return out


def _ratio(apr: Decimal, rate: Decimal) -> str:
    return f"{(apr / rate):.1f}" if rate else "-"


def find_offers(catalogue: Catalogue, r: Resolved, policy: MatchPolicy, used_pricer: UsedPricer | None,
                limit: int | None = None) -> tuple[list[Offer], Screen]:
    """Screen (fast path), prefer the customer's price range, and price up to ``limit`` offers."""
    s = screen(catalogue, r, policy, used_pricer)
    feasible = s.feasible
    floor = r.profile.budget_min
    if floor is not None:
        # "十七八万": cars priced in the range come first; below it only when nothing in it qualifies.
        in_range = [c for c in feasible if c.listing.price >= floor]
        feasible = in_range or feasible
    return price_candidates(feasible, r, policy, limit or policy.max_offers), s


def price_candidates(feasible: list[Candidate], r: Resolved, policy: MatchPolicy, limit: int) -> list[Offer]:
    """Rank, pick diversely, and price exactly (each pick re-checked by the exact rules) up to ``limit``."""
    for c in feasible:
        c.score = rank_score(c, r)
    # Shortlist: the best plan of each car first, then their runners-up, so the pick has real choice.
    per_vehicle: dict[str, list[Candidate]] = {}
    for c in sorted(feasible, key=lambda c: -c.score):
        per_vehicle.setdefault(c.listing.vehicle.id, []).append(c)
    shortlist = [cs[0] for cs in per_vehicle.values()][:SHORTLIST]
    shortlist += [c for cs in per_vehicle.values() for c in cs[1:3]][:SHORTLIST]
    offers: list[Offer] = []
    for c in diverse_pick(shortlist):
        terms, _ = pair_terms(c.listing, c.product, c.facts.term, r, policy)
        offer = price_offer(terms, c.score, r, policy) if terms is not None else None
        if offer is not None:
            offers.append(offer)
        if len(offers) >= limit:
            break
    return offers
