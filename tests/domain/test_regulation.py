"""LTV and term rules (2017 Measures, 2024 notice)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.domain.regulation import Condition, LenderCaps, LoanProposal, Regime, Use, check_loan


def proposal(**kw: object) -> LoanProposal:
    base: dict[str, object] = {"vehicle_price": Decimal(200000), "loan_amount": Decimal(160000), "term_months": 36}
    base.update(kw)
    return LoanProposal(**base)


@pytest.mark.parametrize(
    ("energy", "use", "regime", "cap"),
    [
        ("ice", Use.SELF, Regime.R2017, "0.80"),
        ("bev", Use.SELF, Regime.R2017, "0.85"),
        ("ice", Use.COMMERCIAL, Regime.R2017, "0.70"),
        ("phev", Use.COMMERCIAL, Regime.R2017, "0.75"),
        ("ice", Use.COMMERCIAL, Regime.R2024, "0.70"),
        ("nev", Use.COMMERCIAL, Regime.R2024, "0.75"),
    ],
)
def test_statutory_caps(energy: str, use: Use, regime: Regime, cap: str) -> None:
    limit = Decimal(200000) * Decimal(cap)
    assert check_loan(proposal(energy_type=energy, use=use, loan_amount=limit), regime=regime).allowed
    verdict = check_loan(proposal(energy_type=energy, use=use, loan_amount=limit + 1), regime=regime)
    assert not verdict.allowed
    assert verdict.violations[0].code == "ltv_cap"
    assert verdict.ltv_cap == Decimal(cap)


def test_2024_self_use_cap_is_the_lenders() -> None:
    caps = LenderCaps(self_use_ice=Decimal("1.00"), self_use_nev=Decimal("0.90"))
    assert check_loan(proposal(loan_amount=Decimal(200000)), caps).allowed  # 零首付 allowed by this lender
    assert not check_loan(proposal(loan_amount=Decimal(190000), energy_type="bev"), caps).allowed
    assert not check_loan(proposal(loan_amount=Decimal(190000)), caps, Regime.R2017).allowed


def test_hev_counts_as_ice() -> None:
    assert check_loan(proposal(energy_type="hev", loan_amount=Decimal(170000))).violations[0].code == "ltv_cap"


def test_used_car_cap_and_term() -> None:
    verdict = check_loan(proposal(condition=Condition.USED, loan_amount=Decimal(150000), term_months=48))
    codes = {v.code for v in verdict.violations}
    assert codes == {"ltv_cap", "term_cap"}
    assert verdict.max_term_months == 36
    assert all(v.source for v in verdict.violations)
    assert check_loan(proposal(condition=Condition.USED, loan_amount=Decimal(140000), term_months=36)).allowed


def test_new_car_term_cap() -> None:
    assert check_loan(proposal(term_months=60)).allowed
    verdict = check_loan(proposal(term_months=72))
    assert [v.code for v in verdict.violations] == ["term_cap"]
    assert "5年" in verdict.violations[0].zh
