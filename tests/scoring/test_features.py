"""Applicant fields → model features: ratios, defaults, category mapping, and parity with training."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assistant.scoring.features import (
    DEFAULTS,
    EXPENSES_SHARE_DEFAULT,
    FEATURES,
    Applicant,
    applicant_features,
    credit_data_features,
)


def test_ratios_from_stated_fields() -> None:
    a = Applicant(monthly_income=10000, monthly_expenses=3000, loan_amount=120000, vehicle_price=150000,
                  term_months=24, age=30, employment_years=2.5, employment_type="fixed", home_status="rent",
                  has_delinquency=True, assets=60000, debt=24000)
    features, assumed = applicant_features(a)
    assert assumed == {}
    assert set(features) == set(FEATURES)
    assert features["ltv"] == pytest.approx(0.8)
    assert features["payment_to_income"] == pytest.approx(120000 / 24 / 10000)
    assert features["expenses_to_income"] == pytest.approx(0.3)
    assert features["debt_to_income"] == pytest.approx(24000 / 120000)
    assert features["assets_to_loan"] == pytest.approx(0.5)
    assert (features["term_months"], features["age"], features["employment_years"]) == (24.0, 30.0, 2.5)
    assert (features["arrears"], features["home"], features["job"]) == (1.0, "rent", "fixed")


def test_ratios_are_scale_free() -> None:
    small = Applicant(monthly_income=500, monthly_expenses=200, loan_amount=5000, vehicle_price=8000,
                      term_months=36, assets=1000, debt=300)
    large = Applicant(monthly_income=50000, monthly_expenses=20000, loan_amount=500000, vehicle_price=800000,
                      term_months=36, assets=100000, debt=30000)
    assert applicant_features(small)[0] == pytest.approx(applicant_features(large)[0])


def test_missing_optional_fields_take_documented_defaults_and_are_reported() -> None:
    features, assumed = applicant_features(Applicant(monthly_income=10000, loan_amount=80000,
                                                     vehicle_price=100000, term_months=36))
    assert assumed == {**DEFAULTS, "monthly_expenses": round(EXPENSES_SHARE_DEFAULT * 10000)}
    assert features["expenses_to_income"] == pytest.approx(EXPENSES_SHARE_DEFAULT)
    assert features["age"] == DEFAULTS["age"]
    assert features["arrears"] == 0.0
    assert (features["home"], features["job"]) == ("other", "other")
    assert features["assets_to_loan"] == 0.0 and features["debt_to_income"] == 0.0


def test_employment_types_map_onto_the_training_categories() -> None:
    def job(kind: str) -> object:
        a = Applicant(monthly_income=1, loan_amount=1, vehicle_price=1, term_months=12, employment_type=kind)
        return applicant_features(a)[0]["job"]

    assert job("self_employed") == "freelance"  # the data's "freelance" is the self-employed (autónomo)
    assert job("freelance") == "freelance"
    assert job("part_time") == "part_time"
    assert job("other") == "other"


def test_marital_status_is_accepted_but_not_used() -> None:
    base = {"monthly_income": 9000, "loan_amount": 50000, "vehicle_price": 90000, "term_months": 24}
    married = applicant_features(Applicant(**base, marital_status="married"))
    single = applicant_features(Applicant(**base, marital_status="single"))
    assert married == single


def test_training_mapping_matches_serving_mapping() -> None:
    """The credit_data rows and the equivalent applicants give identical features."""
    frame = pd.DataFrame({
        "Amount": [800, 2000], "Price": [1000, 2500], "Time": [36, 60], "Income": [150.0, 90.0],
        "Expenses": [45, 60], "Debt": [0.0, 500.0], "Assets": [3000.0, 0.0], "Age": [40, 22],
        "Seniority": [10, 0], "Records": ["no", "yes"], "Home": ["priv", "owner"], "Job": ["partime", "freelance"],
    })
    trained = credit_data_features(frame)
    served = [
        applicant_features(Applicant(monthly_income=150, monthly_expenses=45, loan_amount=800, vehicle_price=1000,
                                     term_months=36, age=40, employment_years=10, employment_type="part_time",
                                     home_status="other", has_delinquency=False, assets=3000, debt=0))[0],
        applicant_features(Applicant(monthly_income=90, monthly_expenses=60, loan_amount=2000, vehicle_price=2500,
                                     term_months=60, age=22, employment_years=0, employment_type="self_employed",
                                     home_status="owner", has_delinquency=True, assets=0, debt=500))[0],
    ]
    for i, features in enumerate(served):
        for name in FEATURES:
            got = trained[name][i]
            if isinstance(got, float):
                assert math.isclose(got, features[name], rel_tol=1e-12), name
            else:
                assert got == features[name], name


def test_training_mapping_keeps_missing_income_as_nan() -> None:
    frame = pd.DataFrame({
        "Amount": [800], "Price": [1000], "Time": [36], "Income": [float("nan")], "Expenses": [45],
        "Debt": [0.0], "Assets": [float("nan")], "Age": [40], "Seniority": [10], "Records": ["no"],
        "Home": [None], "Job": [None],
    })
    trained = credit_data_features(frame)
    assert math.isnan(trained["payment_to_income"][0]) and math.isnan(trained["assets_to_loan"][0])
    assert trained["home"][0] == "other" and trained["job"][0] == "other"
