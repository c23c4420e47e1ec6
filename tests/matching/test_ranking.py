"""Ranking, diversity, reasons, assumed defaults, and the float screen agreeing with the exact rules."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from assistant.domain.matching import (
    MatchPolicy,
    MatchProfile,
    MatchResult,
    UsedPricer,
    estimate_apr,
    estimate_payment,
    pair_terms,
    resolve,
    screen,
)
from assistant.domain.quote import quote
from assistant.domain.schedule import RateType
from assistant.services import Services

Run = Callable[..., MatchResult]


def test_offers_are_diverse(run: Run) -> None:
    for profile in ({"budget": 150000, "body_type": "suv", "monthly_income": 15000}, {"budget": 300000},
                    {"vehicle_condition": "used", "budget": 90000, "monthly_income": 10000}):
        offers = run(**profile).offers
        assert len(offers) >= 3
        assert len({o.vehicle.id for o in offers}) >= 3, profile
        assert len({o.product.id for o in offers}) >= 2, profile
        assert len({(o.vehicle.id, o.product.id) for o in offers}) == len(offers)


def test_best_scoring_offer_comes_first(run: Run) -> None:
    offers = run(budget=150000, body_type="suv", monthly_income=15000).offers
    assert offers[0].score == max(o.score for o in offers)


def test_lower_apr_ranks_higher_for_the_same_car(run: Run) -> None:
    offers = run(vehicle="比亚迪 宋PLUS DM-i", monthly_income=20000, max_offers=5).offers
    assert offers and all(o.vehicle.id == "byd-song-plus-dmi" for o in offers)
    scores = [o.score for o in offers]
    aprs = [o.apr for o in offers]
    # Same car, same price: the score falls as APR rises.
    assert sorted(scores, reverse=True) == [o.score for o in sorted(offers, key=lambda o: o.apr)]
    assert aprs[0] == min(aprs)


def test_a_stated_product_preference_wins(run: Run) -> None:
    offers = run(budget=150000, body_type="suv", monthly_income=15000, product_id="direct_lease").offers
    assert offers[0].product.id == "direct_lease"
    assert any(r.code == "preferred_product" for r in offers[0].reasons)


def test_budget_fit_prefers_cars_that_use_the_budget(run: Run) -> None:
    offers = run(budget=300000, body_type="suv", monthly_income=50000).offers
    assert all(o.vehicle_price >= Decimal(300000) * Decimal("0.5") for o in offers[:3])


def test_reasons_explain_each_offer(run: Run) -> None:
    for offer in run(budget=150000, body_type="suv", monthly_income=15000).offers:
        codes = {r.code for r in offer.reasons}
        assert {"price", "within_budget", "preferences", "ltv", "affordable", "apr"} <= codes
        assert all(r.zh and r.en for r in offer.reasons)
        assert offer.apr_percent in next(r.zh for r in offer.reasons if r.code == "apr")


def test_flat_rate_zero_rate_and_lease_offers_tell_the_truth(run: Run) -> None:
    seen: set[str] = set()
    for product_id in ("credit_card_installment", "zero_interest_fee", "direct_lease", "sale_leaseback"):
        offers = run(budget=150000, monthly_income=30000, product_id=product_id).offers
        offer = next(o for o in offers if o.product.id == product_id)
        seen.add(product_id)
        codes = {r.code for r in offer.reasons}
        if offer.product.rate_type == RateType.FLAT:
            assert offer.apr > offer.product.quoted_rate * Decimal("1.7")
            assert "flat_rate" in codes
        if product_id == "zero_interest_fee":
            assert offer.total_interest == 0 and offer.upfront_fees > 0 and offer.apr > Decimal("0.05")
            assert "zero_rate_fee" in codes
        if product_id in ("direct_lease", "sale_leaseback"):
            assert "lease_ownership" in codes and "出租人" in offer.product.ownership_zh
    assert len(seen) == 4


def test_missing_fields_are_assumed_and_reported(run: Run) -> None:
    result = run(budget=150000)
    assert result.assumed["term_months"] == 36
    assert result.assumed["down_payment_ratio"] == 0.3
    assert result.assumed["risk_grade"] == "C"
    assert result.assumed["age"] == 35
    assert result.assumed["vehicle_condition"] == "new"
    assert result.assumed["monthly_income"] is None
    assert {n.code for n in result.notes} >= {"grade_assumed", "no_income"}
    assert result.offers and all(o.required_monthly_income > 0 for o in result.offers)
    used = run(vehicle_condition="used", budget=80000)
    assert used.assumed["vehicle_age_years"] == 3 and used.assumed["mileage_km"] == 60000
    nothing = run()
    assert nothing.offers and nothing.assumed["budget"] is None


def test_outstanding_debt_becomes_a_monthly_payment(run: Run) -> None:
    result = run(budget=150000, monthly_income=10000, debt=72000)
    assert result.assumed["monthly_debt_payments"] == 2000.0
    assert all(o.monthly_payment <= 3000 for o in result.offers)


@pytest.mark.parametrize("profile", [
    {"budget": 150000, "body_type": "suv", "monthly_income": 15000},
    {"budget": 250000, "monthly_income": 9000, "down_payment_ratio": 0.2},
    {"vehicle_condition": "used", "budget": 120000, "monthly_income": 12000, "vehicle_age_years": 6,
     "mileage_km": 110000},
    {"budget": 120000, "monthly_income": 20000, "has_delinquency": True, "age": 58},
    {"budget": 400000, "energy_type": "nev", "down_payment": 60000, "term_months": 60, "monthly_income": 30000},
    {"budget": 200000, "use": "commercial", "monthly_income": 25000, "loan_amount": 120000},
])
def test_fast_screen_agrees_with_the_exact_rules(services: Services, policy: MatchPolicy, pricer: UsedPricer,
                                                 profile: dict) -> None:
    r = resolve(MatchProfile(**profile), policy)
    fast = screen(services.catalogue, r, policy, pricer)
    fast_pairs = {(c.listing.vehicle.id, c.product.id) for c in fast.feasible}
    exact_pairs = set()
    for listing in fast.listings:
        if r.budget is not None and listing.price > r.budget:
            continue
        for f in fast.facts.values():
            terms, _ = pair_terms(listing, f.product, f.term, r, policy)
            if terms is not None:
                exact_pairs.add((listing.vehicle.id, f.product.id))
    assert fast_pairs == exact_pairs


@pytest.mark.parametrize(("loan", "rate", "term", "rate_type", "fees"), [
    (100000, "0.045", 36, "nominal", 0), (84000, "0.0499", 60, "nominal", 600), (90000, "0.035", 36, "flat", 0),
    (105000, "0", 36, "nominal", 9450), (70000, "0.065", 24, "flat", 3100),
])
def test_screening_estimates_match_the_money_core(loan: int, rate: str, term: int, rate_type: str,
                                                  fees: int) -> None:
    q = quote(loan, rate, term, rate_type=rate_type, upfront_fees=fees)
    payment = estimate_payment(loan, float(rate), term, RateType(rate_type))
    assert abs(payment - float(q.monthly_payment)) < 0.02
    assert abs(estimate_apr(loan - fees, payment, term) - float(q.apr)) < 2e-4
