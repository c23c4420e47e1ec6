"""Monotone sanity of both models over random applicants (hypothesis) and grids.

More income never raises the PD; a record of arrears raises it; a higher LTV, more debt or more
expenses never lower it; more assets or a longer employment never raise it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

VARIANTS = ("champion", "challenger")
EPS = 1e-12

applicants = st.fixed_dictionaries(
    {
        "monthly_income": st.integers(2000, 80000),
        "vehicle_price": st.integers(40000, 800000),
        "ltv": st.floats(0.1, 1.0),
        "term_months": st.sampled_from([6, 12, 18, 24, 36, 48, 60]),
        "monthly_expenses": st.integers(0, 40000),
        "age": st.integers(18, 75),
        "employment_years": st.floats(0, 40),
        "employment_type": st.sampled_from(["fixed", "freelance", "part_time", "self_employed", "other"]),
        "home_status": st.sampled_from(["owner", "rent", "parents", "other"]),
        "has_delinquency": st.booleans(),
        "assets": st.integers(0, 2_000_000),
        "debt": st.integers(0, 1_000_000),
    }
)


def fields(draw: dict) -> dict:
    out = dict(draw)
    out["loan_amount"] = max(1, int(out.pop("ltv") * out["vehicle_price"]))
    return out


@settings(max_examples=150, deadline=None)
@given(a=applicants, factor=st.floats(1.01, 5.0))
@pytest.mark.parametrize("variant", VARIANTS)
def test_more_income_never_raises_pd(pd_for: Callable[..., float], variant: str, a: dict, factor: float) -> None:
    f = fields(a)
    richer = {**f, "monthly_income": int(f["monthly_income"] * factor) + 1}
    assert pd_for(variant, **richer) <= pd_for(variant, **f) + EPS


@settings(max_examples=150, deadline=None)
@given(a=applicants)
@pytest.mark.parametrize("variant", VARIANTS)
def test_arrears_never_lower_pd(pd_for: Callable[..., float], variant: str, a: dict) -> None:
    f = fields(a)
    assert pd_for(variant, **{**f, "has_delinquency": True}) >= pd_for(variant, **{**f, "has_delinquency": False})


@settings(max_examples=150, deadline=None)
@given(a=applicants)
def test_arrears_strictly_raise_the_champions_pd(pd_for: Callable[..., float], a: dict) -> None:
    f = fields(a)
    assert pd_for("champion", **{**f, "has_delinquency": True}) > pd_for("champion", **{**f, "has_delinquency": False})


@settings(max_examples=150, deadline=None)
@given(a=applicants, more=st.floats(0.0, 1.0))
@pytest.mark.parametrize("variant", VARIANTS)
def test_higher_ltv_never_lowers_pd(pd_for: Callable[..., float], variant: str, a: dict, more: float) -> None:
    f = fields(a)
    bigger = {**f, "loan_amount": f["loan_amount"] + int(more * (f["vehicle_price"] - f["loan_amount"]))}
    assert pd_for(variant, **bigger) >= pd_for(variant, **f) - EPS
    cheaper_car = {**f, "vehicle_price": max(f["loan_amount"], int(f["vehicle_price"] * (1 - more / 2)))}
    assert pd_for(variant, **cheaper_car) >= pd_for(variant, **f) - EPS


@settings(max_examples=150, deadline=None)
@given(a=applicants, extra=st.integers(1, 2_000_000))
@pytest.mark.parametrize("variant", VARIANTS)
def test_more_debt_or_expenses_never_lower_pd(pd_for: Callable[..., float], variant: str, a: dict,
                                              extra: int) -> None:
    f = fields(a)
    assert pd_for(variant, **{**f, "debt": f["debt"] + extra}) >= pd_for(variant, **f) - EPS
    assert pd_for(variant, **{**f, "monthly_expenses": f["monthly_expenses"] + extra}) >= pd_for(variant, **f) - EPS


@settings(max_examples=150, deadline=None)
@given(a=applicants, extra=st.integers(1, 2_000_000), years=st.floats(0.1, 20))
@pytest.mark.parametrize("variant", VARIANTS)
def test_more_assets_or_tenure_never_raise_pd(pd_for: Callable[..., float], variant: str, a: dict, extra: int,
                                              years: float) -> None:
    f = fields(a)
    assert pd_for(variant, **{**f, "assets": f["assets"] + extra}) <= pd_for(variant, **f) + EPS
    longer = {**f, "employment_years": min(60.0, f["employment_years"] + years)}
    assert pd_for(variant, **longer) <= pd_for(variant, **f) + EPS


@pytest.mark.parametrize("variant", VARIANTS)
def test_income_grid_is_non_increasing(pd_for: Callable[..., float], variant: str) -> None:
    incomes = [3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000, 30000, 50000]
    pds = [pd_for(variant, monthly_income=i, debt=30000, monthly_expenses=2500) for i in incomes]
    assert all(b <= a + EPS for a, b in itertools.pairwise(pds))
    assert pds[-1] < pds[0]  # and income does matter


@pytest.mark.parametrize("variant", VARIANTS)
def test_ltv_grid_is_non_decreasing(pd_for: Callable[..., float], variant: str) -> None:
    loans = [20000, 50000, 80000, 100000, 120000, 140000, 160000, 180000]
    pds = [pd_for(variant, loan_amount=x, vehicle_price=180000) for x in loans]
    assert all(b >= a - EPS for a, b in itertools.pairwise(pds))
    assert pds[-1] > pds[0]
