"""What the customer rules in and out: a monthly-payment cap, a price range, exclusions, who they are."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from assistant.domain.matching import MatchResult

Run = Callable[..., MatchResult]


def test_every_offer_honours_the_monthly_payment_cap(run: Run) -> None:
    result = run(budget=200000, max_monthly_payment=3000)
    assert result.offers
    assert all(o.monthly_payment <= 3000 for o in result.offers)
    uncapped = run(budget=200000)
    assert any(o.monthly_payment > 3000 for o in uncapped.offers)  # the cap really binds here


def test_the_cap_and_income_together_use_the_tighter_limit(run: Run) -> None:
    # Half of 8,000 less 2,500 of debts leaves 1,500: tighter than the 3,000 cap.
    result = run(budget=150000, monthly_income=8000, monthly_debt_payments=2500, max_monthly_payment=3000)
    assert all(o.monthly_payment <= 1500 for o in result.offers)


def test_a_cap_no_car_can_meet_is_explained_as_the_cap(run: Run) -> None:
    result = run(budget=300000, max_monthly_payment=500)
    assert not result.offers
    assert result.explanation is not None
    assert "月供上限" in result.explanation.zh and "年化" in result.explanation.zh  # the payment with its APR


def test_a_price_range_keeps_offers_inside_it(run: Run) -> None:
    result = run(budget=180000, budget_min=150000)
    assert result.offers
    assert all(Decimal(150000) <= o.vehicle_price <= Decimal(180000) for o in result.offers)


def test_excluded_values_never_appear(run: Run) -> None:
    result = run(budget=200000, exclude_energy_types=("phev", "bev"), exclude_brands=("丰田",))
    assert result.offers
    for offer in result.offers:
        assert offer.vehicle.energy_type not in ("phev", "bev")
        assert offer.vehicle.brand != "丰田"


def test_how_the_customer_earns_decides_the_income_proof(run: Run) -> None:
    freelance = run(budget=150000, employment_type="freelance")
    cash = run(budget=150000, employment_type="fixed", income_in_cash=True)
    plain = run(budget=150000)
    proof = {r.code: r.zh for r in freelance.notes}
    assert "平台" in proof["income_proof"]
    assert "现金" in {r.code: r.zh for r in cash.notes}["income_proof"]
    assert "income_proof" not in {r.code for r in plain.notes}
