"""The matcher's contract: the customer profile, the house policy, offers, results and reasons (pydantic)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain.catalogue import BodyType, EnergyType, Grade, ProductKind, Vehicle
from assistant.domain.limits import (
    MAX_MILEAGE_KM,
    MAX_MONTHLY_YUAN,
    MAX_PERSON_AGE,
    MAX_VEHICLE_AGE_YEARS,
    AmountYuan,
    AskedTermMonths,
    FiniteDecimal,
    Int,
    LoanYuan,
    MonthlyYuan,
    PriceYuan,
    WealthYuan,
)
from assistant.domain.money import Money, Rate
from assistant.domain.regulation import Condition, LenderCaps, Regime, Use
from assistant.domain.schedule import RateType

# ---- defaults for what a profile leaves out (reported back in ``assumed``) -----------------------
DEFAULT_TERM_MONTHS = 36
DEFAULT_DOWN_PAYMENT_RATIO = Decimal("0.30")
DEFAULT_GRADE = Grade.C  # the middle grade: quotes neither flatter nor scare (final rate after approval)
DELINQUENT_GRADE = Grade.D  # a customer who says they have arrears on record
DEFAULT_AGE = 35
DEFAULT_USED_AGE_YEARS = Decimal("3")
DEFAULT_KM_PER_YEAR = 20_000  # typical Chinese private-car mileage
DEFAULT_MAX_OFFERS = 5
UsedPricer = Callable[[Vehicle, Decimal, int], Decimal]


class MatchProfile(BaseModel):
    """What the customer told us (contract slot names); every field may be missing."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    budget: AmountYuan | None = Field(default=None, description="car budget, yuan")
    vehicle_price: PriceYuan | None = Field(default=None, description="price of the car they want, yuan")
    down_payment: AmountYuan | None = Field(default=None, description="down payment, yuan")
    down_payment_ratio: FiniteDecimal | None = Field(default=None, ge=0, le=1)
    loan_amount: LoanYuan | None = Field(default=None, description="amount they want to borrow, yuan")
    term_months: AskedTermMonths | None = None
    monthly_income: MonthlyYuan | None = None
    monthly_debt_payments: MonthlyYuan | None = Field(default=None, description="existing monthly repayments")
    debt: WealthYuan | None = Field(default=None, description="outstanding debt elsewhere, yuan")
    body_type: BodyType | None = None
    energy_type: EnergyType | None = None
    vehicle_condition: Condition | None = None
    brand: str | None = None
    seats: Int | None = Field(default=None, ge=2, le=9, description="minimum seats")
    vehicle: str | None = Field(default=None, description="a specific car: catalogue id or 'brand series'")
    age: Int | None = Field(default=None, ge=0, le=MAX_PERSON_AGE)
    vehicle_age_years: FiniteDecimal | None = Field(default=None, ge=0, le=MAX_VEHICLE_AGE_YEARS)
    mileage_km: Int | None = Field(default=None, ge=0, le=MAX_MILEAGE_KM)
    has_delinquency: bool | None = None
    risk_grade: Grade | None = None
    use: Use | None = None
    product_id: str | None = Field(default=None, description="a preferred finance product id")
    city: str | None = None
    max_monthly_payment: FiniteDecimal | None = Field(default=None, gt=0, le=MAX_MONTHLY_YUAN,
                                                description="the customer's own monthly-payment cap, yuan")
    budget_min: AmountYuan | None = Field(default=None, description="lower end of a price range, yuan")
    employment_type: Literal["fixed", "freelance", "part_time", "self_employed", "other"] | None = Field(
        default=None, description="how the applicant earns: it decides the income proof asked for")
    income_in_cash: bool | None = Field(default=None, description="wages paid in cash (no bank-statement income)")
    exclude_energy_types: tuple[EnergyType, ...] = Field(default=(), description="energy types ruled out (不要插混)")
    exclude_brands: tuple[str, ...] = Field(default=(), description="brands ruled out")
    exclude_body_types: tuple[BodyType, ...] = Field(default=(), description="body types ruled out")


class MatchPolicy(BaseModel):
    """House and regulatory settings the matcher applies."""

    model_config = ConfigDict(frozen=True)

    affordability_share: Decimal = Decimal("0.5")
    caps: LenderCaps = Field(default_factory=LenderCaps)
    regime: Regime = Regime.R2024
    max_offers: int = DEFAULT_MAX_OFFERS


class Reason(BaseModel):
    """One short explanation, Chinese and English, with a stable code."""

    model_config = ConfigDict(frozen=True)

    code: str
    zh: str
    en: str
    source: str | None = None


class OfferVehicle(BaseModel):
    """The car of an offer."""

    id: str
    brand: str
    brand_en: str
    series: str
    body_type: BodyType
    energy_type: EnergyType
    condition: Condition
    seats: int
    segment: str
    msrp_min: Money
    msrp_max: Money
    age_years: Rate | None = None
    mileage_km: int | None = None
    price_is_estimate: bool = False


class OfferProduct(BaseModel):
    """The finance product of an offer."""

    id: str
    name: str
    name_en: str
    kind: ProductKind
    rate_type: RateType
    quoted_rate: Rate
    risk_grade: Grade
    ownership_zh: str
    ownership_en: str


class Offer(BaseModel):
    """A car + a finance plan, priced by the money core."""

    vehicle: OfferVehicle
    product: OfferProduct
    vehicle_price: Money
    down_payment: Money
    loan_amount: Money
    term_months: int
    monthly_payment: Money
    apr: Rate
    apr_percent: str
    total_interest: Money
    upfront_fees: Money
    total_cost_of_credit: Money
    total_paid: Money
    required_monthly_income: Money
    ltv: Rate
    ltv_cap: Rate
    score: float
    reasons: list[Reason]
    apr_convention: str


class Alternative(BaseModel):
    """A nearest feasible option: what had to change, and the offer that results."""

    change: Reason
    offer: Offer


class MatchResult(BaseModel):
    """Offers (ranked), the defaults assumed, and — when nothing fits — why and what would."""

    offers: list[Offer]
    assumed: dict[str, object]
    notes: list[Reason] = Field(default_factory=list)
    explanation: Reason | None = None
    alternatives: list[Alternative] = Field(default_factory=list)
    excluded: dict[str, int] = Field(default_factory=dict)


class WhyNot(BaseModel):
    """Answer to "why not X?" for a car or a product."""

    target: str
    target_kind: str  # vehicle | product | unknown
    target_id: str | None = None
    feasible: bool
    in_offers: bool = False
    rules: list[Reason]
    best_offer: Offer | None = None
    summary_zh: str
    summary_en: str
