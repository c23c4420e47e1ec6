"""``loan-assistant eval matching``: labelled profiles → pass rate of the matcher's promises.

Reads ``eval/matching/profiles.jsonl`` (``{"id", "profile", "expect", "note"?}`` per line). Every offer of
every profile is checked against the rules independently of the matcher's own screening:

- legal: :func:`assistant.domain.regulation.check_loan` with the house caps, down + loan = price;
- eligible: the product takes this condition, energy, grade, arrears, age (and at maturity), income, term
  option, minimum down payment, loan size, and for used cars vehicle age (+ term) and mileage;
- affordable: monthly payment ≤ share × income − existing debt payments (when income is known);
- within budget, and the stated preferences (body, energy, brand, seats, condition) honoured;
- priced by the money core: re-quoting gives the same payment, APR and interest.

Then the profile's ``expect``: feasible or not (with the explanation code), at least ``min_offers`` (3 by
default when feasible), diversity (≥ 3 cars and ≥ 2 products), products included/excluded, max term or
LTV, the assumed keys, alternatives for infeasible input. A profile passes when every check does; the
suite prints the pass rate (target 100 %) and the latency of each match.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.domain.catalogue import ENERGY_ACCEPTS, Catalogue, EnergyType
from assistant.domain.matching import DEFAULT_AGE, MatchPolicy, MatchProfile, Offer, resolve
from assistant.domain.quote import quote
from assistant.domain.regulation import LoanProposal, Use, check_loan
from assistant.jsonl import read_jsonl

if TYPE_CHECKING:
    from assistant.settings import Settings

TARGET_PASS_RATE = 1.0


def profiles_path(settings: Settings) -> Path:
    """The labelled profiles file."""
    return settings.resources_dir / "eval" / "matching" / "profiles.jsonl"


def load_profiles(path: Path) -> list[dict[str, Any]]:
    """Parse the JSONL file; each item needs ``id``, ``profile`` and ``expect``."""
    items = []
    for n, item in read_jsonl(path):
        if not {"id", "profile", "expect"} <= item.keys():
            raise ValueError(f"{path}:{n}: needs id, profile and expect")
        items.append(item)
    return items


def offer_problems(offer: Offer, profile: MatchProfile, catalogue: Catalogue, policy: MatchPolicy) -> list[str]:
    """Every rule this offer breaks (empty when it is legal, eligible, affordable and honest)."""
    problems: list[str] = []
    r = resolve(profile, policy)
    product = catalogue.product(offer.product.id)
    e = product.eligibility
    v = offer.vehicle
    use = profile.use or Use.SELF
    verdict = check_loan(LoanProposal(vehicle_price=offer.vehicle_price, loan_amount=offer.loan_amount,
                                      term_months=offer.term_months, condition=v.condition,
                                      energy_type=v.energy_type.value, use=use), policy.caps, policy.regime)
    if not verdict.allowed:
        problems.append("illegal:" + ",".join(x.code for x in verdict.violations))
    if offer.down_payment + offer.loan_amount != offer.vehicle_price:
        problems.append("down+loan!=price")
    if offer.loan_amount > offer.vehicle_price * product.ltv_cap:
        problems.append("product_ltv")
    if offer.down_payment < (offer.vehicle_price * product.min_down_payment_ratio).quantize(Decimal("0.01")):
        problems.append("min_down")
    if v.condition not in e.conditions or e.purpose != "purchase":
        problems.append("product_condition")
    if e.energy_types is not None and v.energy_type not in e.energy_types:
        problems.append("product_energy")
    grade = offer.product.risk_grade
    if grade not in product.rates or offer.product.quoted_rate != product.rates[grade]:
        problems.append("grade_rate")
    if profile.has_delinquency and not e.allow_delinquency:
        problems.append("delinquency")
    age = profile.age if profile.age is not None else DEFAULT_AGE
    if not e.min_age <= age <= e.max_age or (
            e.max_age_at_maturity is not None and age + offer.term_months / 12 > e.max_age_at_maturity):
        problems.append("age")
    if profile.monthly_income is not None and profile.monthly_income < e.min_monthly_income:
        problems.append("min_income")
    if offer.term_months not in product.term_options:
        problems.append("term_option")
    if not product.min_loan <= offer.loan_amount <= product.max_loan:
        problems.append("loan_size")
    if v.condition == "used":
        vage = v.age_years or Decimal(0)
        if e.max_vehicle_age_years is not None and vage > e.max_vehicle_age_years:
            problems.append("vehicle_age")
        if e.max_vehicle_age_plus_term_years is not None and vage + Decimal(offer.term_months) / 12 > \
                e.max_vehicle_age_plus_term_years:
            problems.append("vehicle_age_plus_term")
        if e.max_mileage_km is not None and (v.mileage_km or 0) > e.max_mileage_km:
            problems.append("mileage")
    if r.max_payment is not None and offer.monthly_payment > r.max_payment:
        problems.append("unaffordable")
    if r.budget is not None and offer.vehicle_price > r.budget:
        problems.append("over_budget")
    if profile.body_type and v.body_type != profile.body_type:
        problems.append("body_type")
    if profile.energy_type and v.energy_type not in ENERGY_ACCEPTS[EnergyType(profile.energy_type)]:
        problems.append("energy_type")
    if profile.brand and profile.brand.lower() not in (v.brand.lower(), v.brand_en.lower()):
        problems.append("brand")
    if profile.seats and v.seats < profile.seats:
        problems.append("seats")
    if profile.vehicle_condition and v.condition != profile.vehicle_condition:
        problems.append("condition")
    if profile.term_months is not None and offer.term_months != profile.term_months:
        problems.append("term_changed")
    q = quote(offer.loan_amount, offer.product.quoted_rate, offer.term_months, rate_type=product.rate_type,
              upfront_fees=product.upfront_fees(offer.loan_amount, offer.term_months))
    if (q.monthly_payment, q.apr, q.total_interest) != (offer.monthly_payment, offer.apr, offer.total_interest):
        problems.append("price_mismatch")
    if not offer.reasons:
        problems.append("no_reasons")
    return problems


def check_profile(item: dict[str, Any], result: Any, catalogue: Catalogue, policy: MatchPolicy) -> list[str]:
    """All failed checks of one labelled profile."""
    profile = MatchProfile(**item["profile"])
    expect = item["expect"]
    offers: list[Offer] = result.offers
    failures = [f"{o.vehicle.id}/{o.product.id}:{p}" for o in offers
                for p in offer_problems(o, profile, catalogue, policy)]
    feasible = expect.get("feasible", True)
    if feasible:
        if len(offers) < expect.get("min_offers", 3):
            failures.append(f"offers:{len(offers)}<{expect.get('min_offers', 3)}")
        if expect.get("diverse") and (len({o.vehicle.id for o in offers}) < 3
                                      or len({o.product.id for o in offers}) < 2):
            failures.append("not_diverse")
    else:
        if offers:
            failures.append("expected_no_offers")
        if result.explanation is None:
            failures.append("no_explanation")
        elif expect.get("explanation") and result.explanation.code != expect["explanation"]:
            failures.append(f"explanation:{result.explanation.code}!={expect['explanation']}")
    if expect.get("alternatives") and not result.alternatives:
        failures.append("no_alternatives")
    for alt in result.alternatives:
        if not alt.change.zh or alt.offer.monthly_payment <= 0:
            failures.append("bad_alternative")
    if expect.get("product_any") and not {o.product.id for o in offers} & set(expect["product_any"]):
        failures.append(f"missing_any:{expect['product_any']}")
    for pid in expect.get("products_exclude", []):
        if any(o.product.id == pid for o in offers):
            failures.append(f"excluded_product_offered:{pid}")
    if expect.get("first_product") and (not offers or offers[0].product.id != expect["first_product"]):
        failures.append("first_product")
    if expect.get("condition") and any(o.vehicle.condition != expect["condition"] for o in offers):
        failures.append("condition")
    if expect.get("max_term") and any(o.term_months > expect["max_term"] for o in offers):
        failures.append("max_term")
    if expect.get("max_ltv") and any(o.ltv > Decimal(str(expect["max_ltv"])) for o in offers):
        failures.append("max_ltv")
    for key in expect.get("assumed_keys", []):
        if key not in result.assumed:
            failures.append(f"assumed:{key}")
    return failures


def run(settings: Settings) -> dict[str, Any]:
    """Match every labelled profile, check it, print and return the figures."""
    from assistant.services import Services
    from assistant.tools.match import MatchIn, match_offers, policy_for
    from assistant.tools.registry import ToolContext

    services = Services(settings)
    ctx = ToolContext(services=services)
    policy = policy_for(ctx)
    items = load_profiles(profiles_path(settings))
    match_offers(ctx, MatchIn(budget=150000))  # warm-up: catalogue, valuation model, caches
    passed = 0
    failures: Counter = Counter()
    latencies: list[float] = []
    for item in items:
        started = time.perf_counter()
        result = match_offers(ctx, MatchIn(**item["profile"]))
        latencies.append((time.perf_counter() - started) * 1000)
        problems = check_profile(item, result, services.catalogue, policy)
        if problems:
            failures.update(p.split(":")[-1] if "/" in p else p.split(":")[0] for p in problems)
            print(f"  FAIL {item['id']}: {', '.join(problems[:6])}")
        else:
            passed += 1
    latencies.sort()
    n = len(items)
    figures = {
        "profiles": n,
        "passed": passed,
        "pass_rate": round(passed / n, 4) if n else 0.0,
        "feasible_profiles": sum(1 for i in items if i["expect"].get("feasible", True)),
        "failures": dict(failures),
        "latency_ms_p50": round(latencies[n // 2], 2) if n else 0.0,
        "latency_ms_p95": round(latencies[min(n - 1, int(0.95 * n))], 2) if n else 0.0,
        "target_pass_rate": TARGET_PASS_RATE,
    }
    print(f"matching: {passed}/{n} profiles pass ({figures['pass_rate']:.1%}; target {TARGET_PASS_RATE:.0%})")
    print(f"  latency per match: p50 {figures['latency_ms_p50']} ms, p95 {figures['latency_ms_p95']} ms")
    if failures:
        print(f"  failed checks: {dict(failures)}")
    return figures
