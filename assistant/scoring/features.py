"""The contract's applicant fields → the scale-free features the risk models use.

The training data (``modeldata::credit_data``: 4,454 consumer loans for a priced good, amounts in an
undocumented currency, certainly not yuan) cannot teach the model what 8,000 yuan a month means, so
every money field enters only as a ratio of two amounts in the same currency:

=====================  ===============================================  ==============================
feature                from the applicant                                from credit_data
=====================  ===============================================  ==============================
``ltv``                loan_amount / vehicle_price                       Amount / Price
``payment_to_income``  loan_amount / term_months / monthly_income        Amount / Time / Income
``expenses_to_income`` monthly_expenses / monthly_income                 Expenses / Income
``debt_to_income``     debt / (12 × monthly_income)                      Debt / (12 × Income)
``assets_to_loan``     assets / loan_amount                              Assets / Amount
``term_months``        term_months                                       Time
``age``                age                                               Age
``employment_years``   employment_years                                  Seniority
``home``               home_status (owner/rent/parents/other)            Home (priv, ignore → other)
``job``                employment_type (self_employed → freelance)      Job (partime → part_time)
``arrears``            has_delinquency (1/0)                             Records (yes/no)
=====================  ===============================================  ==============================

``payment_to_income`` uses principal per month (no interest): the training data has no rate, so the
same definition is used on both sides. ``marital_status`` is accepted but not used (it is not a fair
basis for a credit decision and adds no accuracy here).

Defaults for optional fields (the reply lists which were assumed): the training population's typical
value — monthly_expenses 42 % of income (median expenses/income), age 36 (median), employment_years 5
(median), debt 0 (median), has_delinquency false (most common; the credit-bureau check verifies it) —
except assets, 0 (undeclared assets earn no credit), and the categorical fields, ``other`` (not stated).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from assistant.domain.limits import MAX_LOAN_YUAN, MAX_MONTHLY_YUAN, MAX_PRICE_YUAN, MAX_WEALTH_YUAN, Int
from assistant.errors import InvalidInput


class EmploymentType(StrEnum):
    """Contract values of ``employment_type``."""

    FIXED = "fixed"
    FREELANCE = "freelance"
    PART_TIME = "part_time"
    SELF_EMPLOYED = "self_employed"
    OTHER = "other"


class HomeStatus(StrEnum):
    """Contract values of ``home_status``."""

    OWNER = "owner"
    RENT = "rent"
    PARENTS = "parents"
    OTHER = "other"


class MaritalStatus(StrEnum):
    """Contract values of ``marital_status`` (accepted, not used by the models)."""

    SINGLE = "single"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"
    OTHER = "other"


def _range(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    # Ranges are documented in the JSON schema (for LLMs and API docs) but enforced by
    # validate_applicant, which names the field in a bilingual message.
    extra: dict[str, Any] = {}
    if low is not None:
        extra["minimum"] = low
    if high is not None:
        extra["maximum"] = high
    return extra


class Applicant(BaseModel):
    """The contract's applicant fields. Money in whole yuan; only the first four are required."""

    monthly_income: Int = Field(description="Net monthly income, yuan (税后月收入), > 0",
                                json_schema_extra=_range(1, MAX_MONTHLY_YUAN))
    loan_amount: Int = Field(description="Amount to borrow, yuan (贷款金额)",
                             json_schema_extra=_range(1, MAX_LOAN_YUAN))
    vehicle_price: Int = Field(description="Price of the car, yuan (车价)", json_schema_extra=_range(1, MAX_PRICE_YUAN))
    term_months: Int = Field(description="Loan term in months, 6-60 (期数)", json_schema_extra=_range(6, 60))
    monthly_expenses: Int | None = Field(default=None, description="Regular monthly spending, yuan (月支出)",
                                         json_schema_extra=_range(0, MAX_MONTHLY_YUAN))
    age: Int | None = Field(default=None, description="Age in years, 18-75", json_schema_extra=_range(18, 75))
    employment_years: float | None = Field(default=None, description="Years with current employer/business",
                                           json_schema_extra=_range(0, 60), allow_inf_nan=False)
    employment_type: EmploymentType | None = Field(default=None, description="fixed|freelance|part_time|"
                                                   "self_employed|other")
    home_status: HomeStatus | None = Field(default=None, description="owner|rent|parents|other")
    marital_status: MaritalStatus | None = Field(default=None, description="single|married|divorced|widowed|"
                                                 "other (not used by the model)")
    has_delinquency: bool | None = Field(default=None, description="Any record of arrears (征信逾期记录)")
    assets: Int | None = Field(default=None, description="Savings and other assets, yuan (资产)",
                               json_schema_extra=_range(0, MAX_WEALTH_YUAN))
    debt: Int | None = Field(default=None, description="Outstanding debt elsewhere, yuan (其他负债)",
                             json_schema_extra=_range(0, MAX_WEALTH_YUAN))


# Defaults for optional fields (see the module docstring for where each comes from).
EXPENSES_SHARE_DEFAULT = 0.42
DEFAULTS: dict[str, Any] = {
    "age": 36,
    "employment_years": 5.0,
    "employment_type": "other",
    "home_status": "other",
    "has_delinquency": False,
    "assets": 0,
    "debt": 0,
}

NUMERIC_FEATURES: tuple[str, ...] = (
    "ltv", "payment_to_income", "expenses_to_income", "debt_to_income", "assets_to_loan",
    "term_months", "age", "employment_years", "arrears",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("home", "job")
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

# Category → integer code for LightGBM (fixed so that training and serving agree without pandas).
CATEGORY_CODES: dict[str, dict[str, int]] = {
    "home": {"owner": 0, "rent": 1, "parents": 2, "other": 3},
    "job": {"fixed": 0, "freelance": 1, "part_time": 2, "other": 3},
}
_JOB_FROM_EMPLOYMENT = {"fixed": "fixed", "freelance": "freelance", "self_employed": "freelance",
                        "part_time": "part_time", "other": "other"}
# Which applicant field each feature comes from (to mark reasons built on an assumed default).
SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "ltv": ("loan_amount", "vehicle_price"),
    "payment_to_income": ("loan_amount", "term_months", "monthly_income"),
    "expenses_to_income": ("monthly_expenses", "monthly_income"),
    "debt_to_income": ("debt", "monthly_income"),
    "assets_to_loan": ("assets", "loan_amount"),
    "term_months": ("term_months",),
    "age": ("age",),
    "employment_years": ("employment_years",),
    "arrears": ("has_delinquency",),
    "home": ("home_status",),
    "job": ("employment_type",),
}

# Optional money fields: (Chinese name, the plausible maximum).
_MONEY_FIELDS = {"monthly_expenses": ("月支出", MAX_MONTHLY_YUAN), "assets": ("资产", MAX_WEALTH_YUAN),
                 "debt": ("其他负债", MAX_WEALTH_YUAN)}
# Required money fields: (Chinese name, the plausible maximum). Beyond it no real applicant exists, and the
# ratios the model reads would be meaningless.
_REQUIRED_MONEY = {"monthly_income": ("月收入", MAX_MONTHLY_YUAN), "loan_amount": ("贷款金额", MAX_LOAN_YUAN),
                   "vehicle_price": ("车价", MAX_PRICE_YUAN)}


def _bad(field: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, field=field)


def validate_applicant(a: Applicant) -> None:
    """Refuse values outside a plausible range with a bilingual error naming the field."""
    if a.monthly_income <= 0:
        raise _bad("monthly_income", "月收入必须大于0元", "monthly_income must be more than 0 yuan")
    if a.loan_amount <= 0:
        raise _bad("loan_amount", "贷款金额必须大于0元", "loan_amount must be more than 0 yuan")
    if a.vehicle_price <= 0:
        raise _bad("vehicle_price", "车价必须大于0元", "vehicle_price must be more than 0 yuan")
    for name, (zh, high) in _REQUIRED_MONEY.items():
        if getattr(a, name) > high:
            raise _bad(name, f"{zh}超出可受理范围（最多{high:,}元）", f"{name} is beyond the plausible range (at most "
                       f"{high:,} yuan)")
    if a.loan_amount > a.vehicle_price:
        raise _bad("loan_amount", "贷款金额不能超过车价", "loan_amount cannot exceed vehicle_price")
    if not 6 <= a.term_months <= 60:
        raise _bad("term_months", "期数需在6到60个月之间", "term_months must be between 6 and 60")
    if a.age is not None and not 18 <= a.age <= 75:
        raise _bad("age", "年龄需在18到75岁之间", "age must be between 18 and 75")
    if a.employment_years is not None and not (math.isfinite(a.employment_years)
                                               and 0 <= a.employment_years <= 60):
        raise _bad("employment_years", "工作年限需在0到60年之间", "employment_years must be between 0 and 60")
    for name, (zh, high) in _MONEY_FIELDS.items():
        value = getattr(a, name)
        if value is not None and value < 0:
            raise _bad(name, f"{zh}（{name}）不能为负数", f"{name} cannot be negative")
        if value is not None and value > high:
            raise _bad(name, f"{zh}（{name}）超出可受理范围（最多{high:,}元）",
                       f"{name} is beyond the plausible range (at most {high:,} yuan)")


def ratios(amount: Any, price: Any, term: Any, income: Any, expenses: Any, debt: Any, assets: Any) -> dict[str, Any]:
    """The money ratios, one definition for serving (floats) and training (numpy arrays)."""
    return {
        "ltv": amount / price,
        "payment_to_income": amount / term / income,
        "expenses_to_income": expenses / income,
        "debt_to_income": debt / (12 * income),
        "assets_to_loan": assets / amount,
    }


def applicant_features(a: Applicant) -> tuple[dict[str, float | str], dict[str, Any]]:
    """Model features for a validated applicant, and the defaults assumed for fields it lacked."""
    assumed: dict[str, Any] = {}

    def pick(name: str) -> Any:
        value = getattr(a, name)
        if value is None:
            value = DEFAULTS[name]
            assumed[name] = value
        return value

    income = float(a.monthly_income)
    if a.monthly_expenses is None:
        expenses = round(EXPENSES_SHARE_DEFAULT * income)
        assumed["monthly_expenses"] = expenses
    else:
        expenses = a.monthly_expenses
    features: dict[str, float | str] = ratios(
        float(a.loan_amount), float(a.vehicle_price), float(a.term_months), income, float(expenses),
        float(pick("debt")), float(pick("assets")),
    )
    features["term_months"] = float(a.term_months)
    features["age"] = float(pick("age"))
    features["employment_years"] = float(pick("employment_years"))
    features["arrears"] = 1.0 if pick("has_delinquency") else 0.0
    features["home"] = str(pick("home_status"))
    features["job"] = _JOB_FROM_EMPLOYMENT[str(pick("employment_type"))]
    return features, assumed


def credit_data_features(df: Any) -> dict[str, Any]:
    """The same features for the ``modeldata::credit_data`` frame (training only; numpy arrays).

    Missing values stay NaN (own bin in the scorecard, native in LightGBM); they cannot occur at
    serving time because income is required and the rest have defaults.
    """
    import numpy as np

    def col(name: str) -> Any:
        return df[name].to_numpy(dtype=float, na_value=np.nan)

    features = ratios(col("Amount"), col("Price"), col("Time"), col("Income"), col("Expenses"), col("Debt"),
                      col("Assets"))
    features["term_months"] = col("Time")
    features["age"] = col("Age")
    features["employment_years"] = col("Seniority")
    features["arrears"] = (df["Records"].to_numpy() == "yes").astype(float)
    home = df["Home"].astype(object).to_numpy()
    features["home"] = np.array([h if h in ("owner", "rent", "parents") else "other" for h in home], dtype=object)
    job = df["Job"].astype(object).to_numpy()
    job_map = {"fixed": "fixed", "freelance": "freelance", "partime": "part_time"}
    features["job"] = np.array([job_map.get(j, "other") for j in job], dtype=object)
    return features
