"""Money core: reference values, invariants (hypothesis) and bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.domain.quote import quote
from assistant.domain.schedule import Method, RateType
from assistant.errors import InvalidInput

principals = st.integers(min_value=1_000, max_value=2_000_000).map(Decimal)
rates = st.integers(min_value=1, max_value=2400).map(lambda bp: Decimal(bp) / 10000)  # 0.01 %–24 %
terms = st.integers(min_value=1, max_value=60)


def test_reference_equal_installment() -> None:
    q = quote(100000, "0.04", 36)
    assert q.monthly_payment == Decimal("2952.40")
    assert q.total_interest == Decimal("6286.35")
    assert q.apr == Decimal("0.040000")


def test_contract_smoke_value() -> None:
    assert quote(50000, "0.05", 12).monthly_payment == Decimal("4280.37")


def test_flat_rate_apr_near_6_60() -> None:
    q = quote(100000, "0.035", 36, rate_type="flat")
    assert q.monthly_payment == Decimal("3069.44")
    assert q.total_interest == Decimal("10500.00")
    assert abs(q.apr - Decimal("0.0660")) < Decimal("0.0005")


def test_zero_interest_with_fee_apr_near_5_49() -> None:
    q = quote(100000, "0", 36, upfront_fees=8000)
    assert q.total_interest == 0
    assert q.total_cost_of_credit == Decimal("8000.00")
    assert abs(q.apr - Decimal("0.0549")) < Decimal("0.0005")


def test_zero_rate_no_fee_is_zero_apr() -> None:
    q = quote(36000, "0", 36)
    assert q.apr == 0
    assert all(row.payment == Decimal("1000.00") for row in q.schedule)


def test_equal_principal_payments_fall() -> None:
    q = quote(120000, "0.05", 24, method=Method.EQUAL_PRINCIPAL)
    payments = [row.payment for row in q.schedule]
    assert payments == sorted(payments, reverse=True)
    assert q.schedule[0].principal == Decimal("5000.00")


@settings(max_examples=200, deadline=None)
@given(principals, rates, terms, st.sampled_from(list(Method)), st.sampled_from(list(RateType)))
def test_schedule_sums_to_principal_and_ends_at_zero(
    principal: Decimal, rate: Decimal, term: int, method: Method, rate_type: RateType
) -> None:
    q = quote(principal, rate, term, method=method, rate_type=rate_type)
    assert sum(row.principal for row in q.schedule) == principal
    assert q.schedule[-1].balance == 0
    assert len(q.schedule) == term
    for row in q.schedule:
        assert row.payment == row.principal + row.interest
        assert row.payment == row.payment.quantize(Decimal("0.01"))
        assert row.balance >= 0


@settings(max_examples=200, deadline=None)
@given(principals, rates, st.integers(min_value=2, max_value=60))
def test_equal_principal_costs_no_more_interest(principal: Decimal, rate: Decimal, term: int) -> None:
    installment = quote(principal, rate, term, method=Method.EQUAL_INSTALLMENT)
    principal_first = quote(principal, rate, term, method=Method.EQUAL_PRINCIPAL)
    assert principal_first.total_interest <= installment.total_interest


@settings(max_examples=200, deadline=None)
@given(principals, rates, terms, st.integers(min_value=1, max_value=500).map(lambda x: Decimal(x) / 100))
def test_apr_at_least_nominal_when_fees(principal: Decimal, rate: Decimal, term: int, fee_pct: Decimal) -> None:
    fees = (principal * fee_pct / 100).quantize(Decimal("0.01"))
    if fees <= 0:
        fees = Decimal("0.01")
    q = quote(principal, rate, term, upfront_fees=fees)
    assert q.apr >= rate


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=10_000, max_value=1_000_000).map(Decimal),
    st.integers(min_value=50, max_value=800).map(lambda bp: Decimal(bp) / 10000),  # flat 0.5 %–8 %
    st.integers(min_value=12, max_value=60),
)
def test_flat_rate_apr_between_1_7_and_2_times(principal: Decimal, flat: Decimal, term: int) -> None:
    q = quote(principal, flat, term, rate_type=RateType.FLAT)
    assert Decimal("1.7") * flat <= q.apr <= 2 * flat


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": 0, "annual_rate": "0.04", "term_months": 36}, "principal"),
        ({"principal": -100, "annual_rate": "0.04", "term_months": 36}, "principal"),
        ({"principal": 100000, "annual_rate": "0.04", "term_months": 0}, "term_months"),
        ({"principal": 100000, "annual_rate": "0.04", "term_months": 61}, "term_months"),
        ({"principal": 100000, "annual_rate": "-0.01", "term_months": 36}, "annual_rate"),
        ({"principal": 100000, "annual_rate": "0.36", "term_months": 36}, "annual_rate"),
        ({"principal": 100000, "annual_rate": "4.5", "term_months": 36}, "annual_rate"),
        ({"principal": 100000, "annual_rate": "0.04", "term_months": 36, "upfront_fees": -1}, "upfront_fees"),
        ({"principal": 100000, "annual_rate": "0.04", "term_months": 36, "upfront_fees": 100000}, "upfront_fees"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        quote(kwargs.pop("principal"), kwargs.pop("annual_rate"), kwargs.pop("term_months"), **kwargs)
    assert info.value.field == field
    assert "/" in info.value.message  # Chinese first, English after
