"""Hard constraints: regulation (2017 / 2024 LTV, term caps), product eligibility, affordability, budget."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from assistant.domain.catalogue import EnergyType
from assistant.domain.matching import MatchPolicy, MatchResult, Offer
from assistant.domain.quote import quote
from assistant.domain.regulation import Condition, LenderCaps, LoanProposal, Regime, Use, check_loan

CONTRACT_EXAMPLE = {"budget": 150000, "body_type": "suv", "down_payment_ratio": 0.3, "term_months": 36,
                    "monthly_income": 15000}
Run = Callable[..., MatchResult]


def assert_legal(offer: Offer, policy: MatchPolicy, use: Use = Use.SELF) -> None:
    verdict = check_loan(LoanProposal(vehicle_price=offer.vehicle_price, loan_amount=offer.loan_amount,
                                      term_months=offer.term_months, condition=offer.vehicle.condition,
                                      energy_type=offer.vehicle.energy_type.value, use=use),
                         policy.caps, policy.regime)
    assert verdict.allowed, verdict.violations
    assert offer.down_payment + offer.loan_amount == offer.vehicle_price


def test_contract_example_returns_real_offers(run: Run, policy: MatchPolicy) -> None:
    result = run(**CONTRACT_EXAMPLE)
    assert len(result.offers) >= 3
    for offer in result.offers:
        assert offer.vehicle.body_type == "suv"
        assert offer.vehicle_price <= 150000
        assert offer.term_months == 36
        assert offer.down_payment >= offer.vehicle_price * Decimal("0.3") - Decimal("0.01")
        assert offer.monthly_payment <= 7500
        assert offer.apr > 0 or offer.product.quoted_rate == 0
        assert_legal(offer, policy)
    assert len({o.vehicle.id for o in result.offers}) >= 3
    assert len({o.product.id for o in result.offers}) >= 2
    assert "term_months" not in result.assumed and "down_payment_ratio" not in result.assumed


def test_every_offer_is_priced_by_the_money_core(run: Run, services) -> None:
    for offer in run(**CONTRACT_EXAMPLE).offers + run(budget=120000, brand="丰田").offers:
        product = services.catalogue.product(offer.product.id)
        q = quote(offer.loan_amount, offer.product.quoted_rate, offer.term_months, rate_type=product.rate_type,
                  upfront_fees=product.upfront_fees(offer.loan_amount, offer.term_months))
        assert (q.monthly_payment, q.apr, q.total_interest) == (offer.monthly_payment, offer.apr, offer.total_interest)
        assert offer.upfront_fees == q.upfront_fees


def test_2017_rule_caps_fuel_cars_at_80_percent(run: Run, policy: MatchPolicy) -> None:
    profile = {"budget": 200000, "body_type": "sedan", "energy_type": "ice", "down_payment_ratio": 0.15,
               "monthly_income": 30000}
    old = run(policy_override=policy.model_copy(update={"regime": Regime.R2017}), **profile)
    assert old.offers == []
    assert old.explanation is not None and old.explanation.code == "ltv_cap"
    # 2024 notice: the lender sets the self-use cap; a lender that allows 85 % makes 15 % down legal.
    generous = policy.model_copy(update={"caps": LenderCaps(self_use_ice=Decimal("0.85"))})
    new = run(policy_override=generous, **profile)
    assert new.offers and all(o.ltv == Decimal("0.85") for o in new.offers)
    for offer in new.offers:
        assert_legal(offer, generous)


def test_house_cap_applies_under_2024_rule(run: Run, policy: MatchPolicy) -> None:
    house = policy.model_copy(update={"caps": LenderCaps(self_use_ice=Decimal("0.80"), self_use_nev=Decimal("0.85"))})
    result = run(policy_override=house, budget=200000, energy_type="ice", down_payment_ratio=0.15,
                 monthly_income=30000)
    assert result.offers == [] and result.explanation.code == "ltv_cap"
    assert any(a.change.code == "higher_down_payment" for a in result.alternatives)
    # The same 15 % down is fine for a new-energy car (NEV cap 85 %).
    nev = run(policy_override=house, budget=200000, energy_type="bev", down_payment_ratio=0.15,
              monthly_income=30000)
    assert nev.offers
    for offer in nev.offers:
        assert offer.ltv == Decimal("0.85") and offer.ltv_cap == Decimal("0.85")
        assert_legal(offer, house)


def test_product_cap_binds_below_the_house_cap(run: Run, policy: MatchPolicy) -> None:
    assert policy.caps.self_use_nev >= Decimal("0.85")
    result = run(budget=200000, energy_type="bev", monthly_income=30000, down_payment_ratio=0.10)
    # No product lends more than 85 %, whatever the house allows.
    assert result.offers == [] and result.excluded.get("min_down_payment")


def test_commercial_use_caps(run: Run, policy: MatchPolicy) -> None:
    assert run(budget=200000, energy_type="ice", use="commercial", down_payment_ratio=0.25,
               monthly_income=30000).offers == []
    result = run(budget=200000, energy_type="ice", use="commercial", monthly_income=30000)
    assert result.offers
    for offer in result.offers:
        assert offer.ltv <= Decimal("0.70")
        assert_legal(offer, policy, Use.COMMERCIAL)


def test_used_car_term_is_capped_at_36_months(run: Run) -> None:
    result = run(vehicle_condition="used", budget=100000, term_months=48, monthly_income=20000)
    assert result.offers == []
    assert result.explanation.code == "term_cap" and "36" in result.explanation.zh
    assert result.alternatives and all(a.offer.term_months <= 36 for a in result.alternatives)


def test_used_car_offers_respect_used_rules(run: Run, policy: MatchPolicy) -> None:
    result = run(vehicle_condition="used", budget=100000, monthly_income=20000, vehicle_age_years=3,
                 mileage_km=60000)
    assert len(result.offers) >= 3
    for offer in result.offers:
        assert offer.vehicle.condition == Condition.USED
        assert offer.term_months <= 36 and offer.ltv <= Decimal("0.70")
        assert offer.vehicle.price_is_estimate
        assert any(r.code == "used_price_estimate" for r in offer.reasons)
        assert_legal(offer, policy)


def test_new_car_term_is_capped_at_60_months(run: Run) -> None:
    result = run(budget=150000, term_months=72, monthly_income=20000)
    assert result.offers == [] and result.explanation.code == "term_cap"
    assert result.alternatives[0].change.code == "term" and result.alternatives[0].offer.term_months == 60


def test_vehicle_age_plus_term(run: Run) -> None:
    base = {"vehicle_condition": "used", "budget": 100000, "monthly_income": 20000, "vehicle_age_years": 7.5,
            "mileage_km": 90000}
    assert not any(o.product.id == "used_car_loan" for o in run(term_months=36, **base).offers)  # 7.5 + 3 > 10
    assert any(o.product.id == "used_car_loan" for o in run(term_months=24, **base).offers)  # 7.5 + 2 ≤ 10


def test_vehicle_age_and_mileage_limits(run: Run) -> None:
    too_old = run(vehicle_condition="used", budget=100000, monthly_income=20000, vehicle_age_years=9,
                  mileage_km=90000)
    assert too_old.offers == [] and too_old.excluded.get("vehicle_age")
    too_far = run(vehicle_condition="used", budget=100000, monthly_income=20000, vehicle_age_years=4,
                  mileage_km=180000)
    assert too_far.offers == [] and too_far.excluded.get("mileage")


def test_affordability_after_existing_debt(run: Run) -> None:
    result = run(budget=150000, monthly_income=8000, monthly_debt_payments=1500)
    assert result.offers
    for offer in result.offers:
        assert offer.monthly_payment <= Decimal(8000) * Decimal("0.5") - 1500
        assert offer.required_monthly_income <= 8000


def test_affordability_share_is_configurable(run: Run, policy: MatchPolicy) -> None:
    strict = policy.model_copy(update={"affordability_share": Decimal("0.3")})
    result = run(policy_override=strict, budget=150000, monthly_income=8000)
    assert result.offers and all(o.monthly_payment <= 2400 for o in result.offers)


def test_product_eligibility_age_grade_and_arrears(run: Run) -> None:
    older = run(budget=150000, monthly_income=20000, age=64)
    assert older.offers and not {"bank_auto_loan", "nev_promo_loan", "zero_interest_fee"} & {
        o.product.id for o in older.offers}
    # Age at maturity: a 62-year-old may take the bank loan over 36 months (65 at the end), not 60.
    assert "bank_auto_loan" in {o.product.id for o in run(vehicle="丰田 卡罗拉", monthly_income=20000, age=62,
                                                            term_months=36, max_offers=10).offers}
    long = run(vehicle="丰田 卡罗拉", monthly_income=20000, age=62, term_months=60, max_offers=10)
    assert long.offers and "bank_auto_loan" not in {o.product.id for o in long.offers}
    assert long.excluded.get("age_at_maturity")
    arrears = run(budget=150000, monthly_income=20000, has_delinquency=True)
    assert arrears.assumed["risk_grade"] == "D"
    ids = {o.product.id for o in arrears.offers}
    assert arrears.offers and not ids & {"bank_auto_loan", "zero_interest_fee", "credit_card_installment"}
    low_income = run(budget=100000, monthly_income=4500)
    assert "bank_auto_loan" not in {o.product.id for o in low_income.offers}  # needs 5,000 a month


def test_nev_promotion_only_for_plug_in_cars(run: Run) -> None:
    for offer in run(budget=200000, monthly_income=30000).offers + run(budget=300000, monthly_income=50000).offers:
        if offer.product.id == "nev_promo_loan":
            assert offer.vehicle.energy_type in (EnergyType.BEV, EnergyType.PHEV)
    assert not any(o.product.id == "nev_promo_loan" for o in run(budget=200000, energy_type="ice").offers)


def test_title_loans_never_finance_a_purchase(run: Run) -> None:
    for profile in ({"budget": 150000}, {"vehicle_condition": "used", "budget": 80000}):
        assert all(o.product.id != "car_title_loan" for o in run(**profile).offers)


def test_budget_and_preferences_are_honoured(run: Run) -> None:
    result = run(budget=250000, energy_type="nev", seats=7, monthly_income=40000)
    assert result.offers
    for offer in result.offers:
        assert offer.vehicle_price <= 250000
        assert offer.vehicle.energy_type in (EnergyType.BEV, EnergyType.PHEV)
        assert offer.vehicle.seats >= 7
    byd = run(budget=150000, brand="BYD")
    assert byd.offers and all(o.vehicle.brand == "比亚迪" for o in byd.offers)
    priced = run(vehicle_price=200000, body_type="suv", monthly_income=30000)
    assert priced.offers and all(o.vehicle_price == 200000 for o in priced.offers)
    assert all(o.vehicle.msrp_min <= 200000 <= o.vehicle.msrp_max for o in priced.offers)


def test_stated_down_payment_in_yuan(run: Run) -> None:
    result = run(budget=150000, down_payment=50000, monthly_income=20000)
    assert result.offers and all(o.down_payment == 50000 for o in result.offers)
