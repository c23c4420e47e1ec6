"""Infeasible or conflicting input: a clear explanation and the nearest feasible alternatives."""

from __future__ import annotations

from collections.abc import Callable

from assistant.domain.matching import MatchResult, why_not

Run = Callable[..., MatchResult]


def assert_explained(result: MatchResult, code: str) -> None:
    assert result.offers == []
    assert result.explanation is not None and result.explanation.code == code
    assert result.explanation.zh and result.explanation.en
    assert result.alternatives, "infeasible input must come with alternatives"
    for alt in result.alternatives:
        assert alt.change.zh and alt.change.en and alt.offer.monthly_payment > 0


def test_budget_below_the_cheapest_car(run: Run) -> None:
    result = run(budget=20000, monthly_income=8000)
    assert_explained(result, "budget_too_low")
    assert "32,800" in result.explanation.zh  # the cheapest car in the catalogue
    assert result.alternatives[0].change.code == "budget"
    assert result.alternatives[0].offer.vehicle_price == 32800


def test_budget_below_cheapest_matching_car_names_the_preference(run: Run) -> None:
    result = run(budget=60000, body_type="suv", monthly_income=8000)
    assert_explained(result, "budget_too_low")
    assert "98,900" in result.explanation.zh  # the cheapest SUV, not the cheapest car
    assert all(a.offer.vehicle.body_type == "suv" for a in result.alternatives if a.change.code == "budget")


def test_zero_income(run: Run) -> None:
    result = run(budget=100000, monthly_income=0)
    assert_explained(result, "no_income")
    assert all(a.change.code == "income" for a in result.alternatives)
    assert all(a.offer.required_monthly_income > 0 for a in result.alternatives)


def test_income_too_low_for_the_budget(run: Run) -> None:
    result = run(budget=300000, vehicle_price=300000, monthly_income=3000)
    assert result.offers == [] and result.explanation is not None
    assert result.alternatives


def test_term_beyond_the_legal_maximum(run: Run) -> None:
    result = run(budget=150000, term_months=200, monthly_income=15000)
    assert_explained(result, "term_cap")
    assert result.explanation.source and "2017" in result.explanation.source
    assert all(a.offer.term_months == 60 for a in result.alternatives)


def test_down_payment_larger_than_the_price(run: Run) -> None:
    result = run(vehicle_price=100000, down_payment=120000, monthly_income=15000)
    assert_explained(result, "down_payment_conflict")
    assert all(a.offer.down_payment < a.offer.vehicle_price for a in result.alternatives)


def test_down_payment_larger_than_the_budget(run: Run) -> None:
    assert_explained(run(budget=100000, down_payment=150000, monthly_income=15000), "down_payment_conflict")


def test_existing_debt_uses_all_the_income(run: Run) -> None:
    result = run(budget=100000, monthly_income=10000, monthly_debt_payments=5000)
    assert result.offers == [] and result.explanation.code == "affordability"
    assert result.alternatives


def test_no_car_matches_the_preferences(run: Run) -> None:
    result = run(budget=500000, body_type="pickup", seats=7)
    assert_explained(result, "no_matching_vehicle")
    assert {a.change.code for a in result.alternatives} & {"body_type", "seats"}


def test_why_not_a_car_over_budget(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    answer = why_not("宝马 5系", MatchProfile(budget=150000), services.catalogue, policy, pricer)
    assert answer.target_kind == "vehicle" and answer.target_id == "bmw-5-series"
    assert not answer.feasible and answer.rules[0].code == "over_budget"


def test_why_not_a_car_of_another_body_type(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    answer = why_not("丰田 卡罗拉", MatchProfile(budget=150000, body_type="suv"), services.catalogue, policy, pricer)
    assert not answer.feasible and answer.rules[0].code == "body_type"


def test_why_not_an_unaffordable_car(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    answer = why_not("特斯拉 Model Y", MatchProfile(budget=300000, monthly_income=6000), services.catalogue,
                     policy, pricer)
    assert not answer.feasible
    assert "affordability" in {r.code for r in answer.rules}
    assert "特斯拉" in answer.summary_zh


def test_why_not_a_feasible_car_gives_its_best_plan(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    answer = why_not("丰田 卡罗拉", MatchProfile(budget=150000, monthly_income=20000), services.catalogue, policy,
                     pricer)
    assert answer.feasible and answer.best_offer is not None
    assert answer.best_offer.vehicle.id == "toyota-corolla"


def test_why_not_a_product(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    nev = why_not("nev_promo_loan", MatchProfile(budget=150000, energy_type="ice"), services.catalogue, policy,
                  pricer)
    assert nev.target_kind == "product" and not nev.feasible
    assert "product_energy" in {r.code for r in nev.rules}
    bank = why_not("银行汽车贷款", MatchProfile(budget=150000, has_delinquency=True), services.catalogue, policy,
                   pricer)
    assert not bank.feasible and [r.code for r in bank.rules] == ["delinquency"]
    used = why_not("used_car_loan", MatchProfile(vehicle_condition="used", vehicle_age_years=9, budget=80000),
                   services.catalogue, policy, pricer)
    assert "vehicle_age" in {r.code for r in used.rules}
    title = why_not("car_title_loan", MatchProfile(budget=150000), services.catalogue, policy, pricer)
    assert "purpose" in {r.code for r in title.rules}


def test_why_not_something_unknown(services, policy, pricer) -> None:
    from assistant.domain.matching import MatchProfile

    answer = why_not("飞行汽车", MatchProfile(), services.catalogue, policy, pricer)
    assert answer.target_kind == "unknown" and not answer.feasible
