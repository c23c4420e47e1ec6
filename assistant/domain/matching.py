"""Matching a customer profile to cars and finance plans they could actually get (pure domain code).

Order of work, as the lending rules demand:

1. **Hard constraints** — preferences the customer stated (body, energy, brand, seats, condition) and
   the budget select the cars; each (car, product) pair must then pass the product's eligibility (age,
   income, grade, delinquency, vehicle age + term, mileage, terms, minimum down payment, LTV cap, loan
   size), the regulatory LTV / term rules (:mod:`assistant.domain.regulation` with the lender's caps),
   and affordability: monthly payment ≤ ``affordability_share`` × income − existing debt payments.
2. **Ranking** of what is left: budget fit, stated product preference, APR and total cost of credit,
   then a greedy pick that prefers new cars and new products over repeats (diversity).
3. **Pricing** of the offers shown with :func:`assistant.domain.quote.build_quote` (the one money core),
   and a final :func:`assistant.domain.regulation.check_loan` on every offer.

Nothing here reads files or settings: the catalogue, the policy (share, caps) and — for used cars —
a pricing function are passed in. Screening uses float estimates of the payment and APR for speed; the
offers returned carry the exact quote and are re-checked against the rules with the exact payment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain.catalogue import (
    BODY_ZH,
    ENERGY_ZH,
    BodyType,
    Catalogue,
    Eligibility,
    EnergyType,
    FinanceProduct,
    Grade,
    ProductKind,
    Purpose,
    Vehicle,
)
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
from assistant.domain.money import ZERO, Money, Rate, fen, percent_str, yuan_str
from assistant.domain.quote import MAX_TERM_MONTHS, Quote, QuoteRequest, build_quote
from assistant.domain.regulation import (
    SOURCE_2017,
    Condition,
    LenderCaps,
    LoanProposal,
    Regime,
    Use,
    check_loan,
    ltv_cap,
    max_term,
)
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

# ---- ranking weights (documented in knowledge_base/catalogue/README.md) ----------------------------
W_BUDGET_FIT = 1.0
W_PREFERRED_PRODUCT = 0.5
W_APR = 4.0  # per unit of APR: 5 % APR costs 0.2 points
W_COST_SHARE = 1.0  # per unit of (interest + fees) / price
BUDGET_SWEET_SPOT = 0.75  # a car using ≥ 75 % of the budget fits fully
PENALTY_SAME_VEHICLE = 0.6
PENALTY_SAME_PRODUCT = 0.25
PENALTY_SAME_BRAND = 0.1
SHORTLIST = 24  # candidates priced exactly before the diverse pick

UsedPricer = Callable[[Vehicle, Decimal, int], Decimal]


# =================================================================================================
# models
# =================================================================================================
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


# =================================================================================================
# resolving the profile
# =================================================================================================
@dataclass
class Resolved:
    """A profile with every field decided, and what was assumed to get there."""

    profile: MatchProfile
    condition: Condition
    use: Use
    grade: Grade
    age: int
    term: int
    term_given: bool
    down_ratio: Decimal
    down_ratio_given: bool
    down_payment: Decimal | None
    income: Decimal | None
    debt_payments: Decimal
    budget: Decimal | None
    vehicle_age: Decimal
    mileage: int
    share: Decimal
    assumed: dict[str, object] = field(default_factory=dict)
    notes: list[Reason] = field(default_factory=list)

    @property
    def affordable_payment(self) -> Decimal | None:
        """The most this customer can afford a month by income after debts (None when income is unknown)."""
        return None if self.income is None else self.share * self.income - self.debt_payments

    @property
    def max_payment(self) -> Decimal | None:
        """The most this customer may pay a month: affordability and their own cap, the lower (None: no limit)."""
        limits = [x for x in (self.affordable_payment, self.profile.max_monthly_payment) if x is not None]
        return min(limits) if limits else None

    @property
    def cap_binds(self) -> bool:
        """True when the customer's own cap, not income, sets the monthly limit."""
        cap = self.profile.max_monthly_payment
        affordable = self.affordable_payment
        return cap is not None and (affordable is None or cap < affordable)


def resolve(profile: MatchProfile, policy: MatchPolicy) -> Resolved:
    """Fill in defaults (recording them in ``assumed``) without changing anything the customer said."""
    assumed: dict[str, object] = {}
    notes: list[Reason] = []
    condition = profile.vehicle_condition
    if condition is None:
        condition = Condition.USED if (profile.vehicle_age_years or profile.mileage_km) else Condition.NEW
        assumed["vehicle_condition"] = condition.value
    use = profile.use or Use.SELF
    if profile.use is None:
        assumed["use"] = use.value
    if profile.risk_grade is not None:
        grade = profile.risk_grade
    elif profile.has_delinquency:
        grade = DELINQUENT_GRADE
        assumed["risk_grade"] = grade.value
    else:
        grade = DEFAULT_GRADE
        assumed["risk_grade"] = grade.value
        notes.append(Reason(code="grade_assumed", zh="未评估信用等级，按C级（中等）利率估算，最终利率以审批结果为准",
                            en="no credit grade yet: rates shown are for grade C (middle); approval sets the "
                               "final rate"))
    age = profile.age if profile.age is not None else DEFAULT_AGE
    if profile.age is None:
        assumed["age"] = age
    term = profile.term_months if profile.term_months is not None else DEFAULT_TERM_MONTHS
    if profile.term_months is None:
        assumed["term_months"] = term
    down_ratio = profile.down_payment_ratio
    if down_ratio is None:
        down_ratio = DEFAULT_DOWN_PAYMENT_RATIO
        if profile.down_payment is None and profile.loan_amount is None:
            assumed["down_payment_ratio"] = float(down_ratio)
    debt_payments = profile.monthly_debt_payments
    if debt_payments is None:
        # Outstanding debt without its instalment: assume it is repaid over 36 months.
        debt_payments = fen(profile.debt / 36) if profile.debt else ZERO
        assumed["monthly_debt_payments"] = float(debt_payments)
    budget = profile.budget
    if budget is None and profile.vehicle_price is not None:
        budget = profile.vehicle_price
    if budget is None:
        assumed["budget"] = None
        notes.append(Reason(code="no_budget", zh="未提供预算，不限车价，按月供可负担程度推荐",
                            en="no budget given: any price, ranked by affordability"))
    proof = income_proof(profile.employment_type, profile.income_in_cash)
    if proof is not None:
        notes.append(proof)
    if profile.monthly_income is None:
        assumed["monthly_income"] = None
        notes.append(Reason(code="no_income",
                            zh="未提供月收入，未做还款能力校验；每个方案给出所需的最低月收入",
                            en="no income given: affordability not checked; each offer shows the income it needs"))
    vehicle_age = profile.vehicle_age_years
    mileage = profile.mileage_km
    if condition is Condition.USED:
        if vehicle_age is None:
            vehicle_age = DEFAULT_USED_AGE_YEARS
            assumed["vehicle_age_years"] = float(vehicle_age)
        if mileage is None:
            mileage = int(vehicle_age * DEFAULT_KM_PER_YEAR)
            assumed["mileage_km"] = mileage
    resolved = Resolved(
        profile=profile, condition=condition, use=use, grade=grade, age=age, term=term,
        term_given=profile.term_months is not None, down_ratio=down_ratio,
        down_ratio_given=profile.down_payment_ratio is not None, down_payment=profile.down_payment,
        income=profile.monthly_income, debt_payments=debt_payments, budget=budget,
        vehicle_age=vehicle_age or ZERO, mileage=mileage or 0, share=policy.affordability_share,
        assumed=assumed, notes=notes,
    )
    return resolved


# =================================================================================================
# listings (cars at a price) and vehicle-level filters
# =================================================================================================
@dataclass(frozen=True)
class Listing:
    """A car as it would be bought: condition, price, and (used) age and mileage."""

    vehicle: Vehicle
    condition: Condition
    price: Decimal
    age_years: Decimal | None = None
    mileage_km: int | None = None
    price_is_estimate: bool = False


def make_listing(vehicle: Vehicle, r: Resolved, used_pricer: UsedPricer | None) -> Listing | None:
    """Price a catalogue car for this profile; None when a used price cannot be estimated."""
    p = r.profile
    if r.condition is Condition.USED:
        if p.vehicle_price is not None and p.vehicle is not None:
            return Listing(vehicle, Condition.USED, p.vehicle_price, r.vehicle_age, r.mileage)
        if used_pricer is None:
            return None
        price = used_pricer(vehicle, r.vehicle_age, r.mileage)
        return Listing(vehicle, Condition.USED, price, r.vehicle_age, r.mileage, price_is_estimate=True)
    if p.vehicle_price is not None and (p.vehicle is not None or vehicle.msrp_min <= p.vehicle_price
                                        <= vehicle.msrp_max):
        return Listing(vehicle, Condition.NEW, p.vehicle_price)
    return Listing(vehicle, Condition.NEW, vehicle.msrp_min)


def vehicle_exclusions(vehicle: Vehicle, r: Resolved, target: Vehicle | None) -> list[Reason]:
    """Stated preferences a car does not meet (hard filters)."""
    p = r.profile
    out: list[Reason] = []
    if target is not None and vehicle.id != target.id:
        out.append(Reason(code="not_requested_vehicle", zh="不是指定车型", en="not the car asked for"))
    if p.body_type is not None and vehicle.body_type is not p.body_type:
        out.append(Reason(code="body_type",
                          zh=f"车身类型为{BODY_ZH[vehicle.body_type]}，不是您要的{BODY_ZH[p.body_type]}",
                          en=f"body type is {vehicle.body_type.value}, not {p.body_type.value}"))
    if p.energy_type is not None and not vehicle.accepts_energy(p.energy_type):
        out.append(Reason(code="energy_type",
                          zh=f"动力类型为{ENERGY_ZH[vehicle.energy_type]}，不是您要的{ENERGY_ZH[p.energy_type]}",
                          en=f"energy type is {vehicle.energy_type.value}, not {p.energy_type.value}"))
    if p.brand and not _brand_matches(vehicle, p.brand):
        out.append(Reason(code="brand", zh=f"品牌为{vehicle.brand}，不是{p.brand}",
                          en=f"brand is {vehicle.brand_en}, not {p.brand}"))
    if vehicle.energy_type in p.exclude_energy_types:
        out.append(Reason(code="energy_excluded", zh=f"您不考虑{ENERGY_ZH[vehicle.energy_type]}车型",
                          en=f"you ruled out {vehicle.energy_type.value} cars"))
    if vehicle.body_type in p.exclude_body_types:
        out.append(Reason(code="body_excluded", zh=f"您不考虑{BODY_ZH[vehicle.body_type]}",
                          en=f"you ruled out {vehicle.body_type.value} cars"))
    if any(_brand_matches(vehicle, b) for b in p.exclude_brands):
        out.append(Reason(code="brand_excluded", zh=f"您不考虑{vehicle.brand}", en=f"you ruled out {vehicle.brand_en}"))
    if p.seats is not None and vehicle.seats < p.seats:
        out.append(Reason(code="seats", zh=f"只有{vehicle.seats}座，少于需要的{p.seats}座",
                          en=f"{vehicle.seats} seats, fewer than the {p.seats} wanted"))
    if (p.vehicle_price is not None and p.vehicle is None and r.condition is Condition.NEW
            and not vehicle.msrp_min <= p.vehicle_price <= vehicle.msrp_max):
        out.append(Reason(code="price_range",
                          zh=f"指导价{yuan_str(vehicle.msrp_min)}–{yuan_str(vehicle.msrp_max)}元，不含{yuan_str(p.vehicle_price)}元",
                          en=f"guide price range {vehicle.msrp_min}–{vehicle.msrp_max} does not include "
                             f"{p.vehicle_price}"))
    return out


def _brand_matches(vehicle: Vehicle, brand: str) -> bool:
    key = brand.strip().lower()
    return key in (vehicle.brand.lower(), vehicle.brand_en.lower()) or key in vehicle.brand_en.lower().split()


def budget_exclusion(listing: Listing, r: Resolved) -> Reason | None:
    """The car costs more than the budget."""
    if r.budget is not None and listing.price > r.budget:
        return Reason(code="over_budget", zh=f"车价{yuan_str(listing.price)}元，超出预算{yuan_str(r.budget)}元",
                      en=f"price {listing.price} is over the budget of {r.budget}")
    return None


# =================================================================================================
# product-level and pair-level rules
# =================================================================================================
def person_exclusions(product: FinanceProduct, r: Resolved) -> list[Reason]:
    """Product rules about the customer (not the car): purpose, use, grade, arrears, age, income."""
    e = product.eligibility
    out: list[Reason] = []
    if e.purpose is not Purpose.PURCHASE:
        out.append(Reason(code="purpose", zh=f"{product.name}用于以已有车辆抵押借款，不用于购车",
                          en=f"{product.name_en} lends against a car you already own; it does not finance a purchase"))
    if r.use not in e.uses:
        out.append(Reason(code="use", zh=f"{product.name}不适用于该用车性质",
                          en=f"{product.name_en} excludes this use"))
    if product.rate_for(r.grade) is None or r.grade not in e.grades:
        offered = "、".join(g.value for g in product.grades)
        out.append(Reason(code="grade", zh=f"{product.name}只面向{offered}级客户，当前按{r.grade.value}级评估",
                          en=f"{product.name_en} is for grades {', '.join(product.grades)}; "
                             f"this profile is {r.grade.value}"))
    if r.profile.has_delinquency and not e.allow_delinquency:
        out.append(Reason(code="delinquency", zh=f"{product.name}要求近两年无逾期记录",
                          en=f"{product.name_en} requires no arrears on record"))
    if not e.min_age <= r.age <= e.max_age:
        out.append(Reason(code="age", zh=f"{product.name}申请年龄为{e.min_age}–{e.max_age}周岁",
                          en=f"{product.name_en} is for ages {e.min_age}–{e.max_age}"))
    if r.income is not None and r.income < e.min_monthly_income:
        out.append(Reason(code="min_income",
                          zh=f"{product.name}要求月收入不低于{yuan_str(e.min_monthly_income)}元",
                          en=f"{product.name_en} needs a monthly income of at least {e.min_monthly_income}"))
    return out


@dataclass(eq=False)  # identity: pairs are compared as objects, never by value
class Terms:
    """A screened (car, product) pair with its loan terms and float estimates for ranking."""

    listing: Listing
    product: FinanceProduct
    rate: Decimal
    term: int
    down: Decimal
    loan: Decimal
    fees: Decimal
    cap: Decimal
    cap_source: str


def choose_term(product: FinanceProduct, r: Resolved, condition: Condition) -> int:
    """The customer's term when stated; otherwise the product's term nearest the default, within the law."""
    if r.term_given:
        return r.term
    legal = [t for t in product.term_options if t <= max_term(condition)] or product.term_options
    return min(legal, key=lambda t: (abs(t - r.term), t))


def product_terms(product: FinanceProduct, r: Resolved) -> tuple[int, list[Reason]]:
    """The term this product would run for this profile, and the rules that fail before any car is chosen:
    new/used, terms offered, age at maturity and the regulatory term cap."""
    e = product.eligibility
    out: list[Reason] = []
    if r.condition not in e.conditions:
        kind = "新车" if r.condition is Condition.NEW else "二手车"
        out.append(Reason(code="condition", zh=f"{product.name}不适用于{kind}",
                          en=f"{product.name_en} is not for {r.condition.value} cars"))
    term = choose_term(product, r, r.condition)
    if term not in product.term_options:
        opts = "/".join(str(t) for t in product.term_options)
        out.append(Reason(code="term_not_offered", zh=f"{product.name}只提供{opts}期",
                          en=f"{product.name_en} offers {opts} months only"))
    if e.max_age_at_maturity is not None and r.age + Decimal(term) / 12 > e.max_age_at_maturity:
        out.append(Reason(code="age_at_maturity", zh=f"贷款到期时年龄将超过{e.max_age_at_maturity}周岁",
                          en=f"age at maturity would exceed {e.max_age_at_maturity}"))
    legal_term = max_term(r.condition)
    if term > legal_term:
        kind = "二手车贷款" if r.condition is Condition.USED else "汽车贷款"
        out.append(Reason(code="term_cap", zh=f"{kind}期限（含展期）不得超过{legal_term}期",
                          en=f"{r.condition.value}-car loan terms are capped at {legal_term} months",
                          source=SOURCE_2017))
    return term, out


@lru_cache(maxsize=256)
def _cap(condition: Condition, energy: str, use: Use, caps: LenderCaps, regime: Regime) -> tuple[Decimal, str]:
    return ltv_cap(condition, energy, use, caps, regime)


def pair_terms(listing: Listing, product: FinanceProduct, term: int, r: Resolved, policy: MatchPolicy
               ) -> tuple[Terms | None, list[Reason]]:
    """Apply the car-dependent rules to one pair (``term`` from :func:`product_terms`): product energy,
    used-car age and mileage, down payment, LTV, loan size and affordability."""
    e = product.eligibility
    v = listing.vehicle
    out: list[Reason] = []
    if e.energy_types is not None and v.energy_type not in e.energy_types:
        out.append(Reason(code="product_energy", zh=f"{product.name}仅限纯电、插混/增程车型",
                          en=f"{product.name_en} is only for {', '.join(sorted(e.energy_types))} cars"))
    if listing.condition is Condition.USED:
        age = listing.age_years or ZERO
        if e.max_vehicle_age_years is not None and age > e.max_vehicle_age_years:
            out.append(Reason(code="vehicle_age", zh=f"车龄{age}年，超过{product.name}上限{e.max_vehicle_age_years}年",
                              en=f"vehicle age {age} years is over the {e.max_vehicle_age_years}-year limit"))
        if (e.max_vehicle_age_plus_term_years is not None
                and age + Decimal(term) / 12 > e.max_vehicle_age_plus_term_years):
            out.append(Reason(code="vehicle_age_plus_term",
                              zh=f"车龄加贷款期限超过{e.max_vehicle_age_plus_term_years}年",
                              en=f"vehicle age plus term exceeds {e.max_vehicle_age_plus_term_years} years"))
        if e.max_mileage_km is not None and (listing.mileage_km or 0) > e.max_mileage_km:
            out.append(Reason(code="mileage", zh=f"里程超过{e.max_mileage_km:,}公里",
                              en=f"mileage is over {e.max_mileage_km:,} km"))
    price = listing.price
    cap, source = _cap(listing.condition, v.energy_type.value, r.use, policy.caps, policy.regime)
    cap = min(cap, product.ltv_cap)
    # Down payment: what the customer said (yuan, or a loan amount, or a ratio); an assumed ratio is
    # raised to whatever this product and the caps require, a stated one is not.
    p = r.profile
    if r.down_payment is not None:
        down = r.down_payment
    elif p.loan_amount is not None:
        down = max(price - p.loan_amount, ZERO)
    else:
        ratio = r.down_ratio
        if not r.down_ratio_given:
            ratio = max(ratio, product.min_down_payment_ratio, 1 - cap)
        down = fen(price * ratio)
    if down >= price:
        out.append(Reason(code="no_loan_needed", zh="首付已覆盖车价，无需贷款",
                          en="the down payment covers the price: no loan needed"))
        return None, out
    loan = price - down
    if down < fen(price * product.min_down_payment_ratio):
        out.append(Reason(code="min_down_payment",
                          zh=f"{product.name}首付至少{percent_str(product.min_down_payment_ratio, 0)}"
                             f"（{yuan_str(fen(price * product.min_down_payment_ratio))}元）",
                          en=f"{product.name_en} needs at least {percent_str(product.min_down_payment_ratio, 0)} down"))
    if loan > price * cap:
        out.append(Reason(code="ltv_cap",
                          zh=f"贷款占车价{percent_str(loan / price, 0)}，超过上限{percent_str(cap, 0)}"
                             f"（首付至少{yuan_str(fen(price * (1 - cap)))}元）",
                          en=f"loan-to-value {percent_str(loan / price, 0)} exceeds the {percent_str(cap, 0)} cap",
                          source=source))
    if loan < product.min_loan:
        out.append(Reason(code="min_loan",
                          zh=f"贷款{yuan_str(loan)}元，低于{product.name}起贷金额{yuan_str(product.min_loan)}元",
                          en=f"loan {loan} is below the {product.min_loan} minimum"))
    if loan > product.max_loan:
        out.append(Reason(code="max_loan",
                          zh=f"贷款{yuan_str(loan)}元，超过{product.name}上限{yuan_str(product.max_loan)}元",
                          en=f"loan {loan} is above the {product.max_loan} maximum"))
    rate = product.rate_for(r.grade)
    if out or rate is None:
        return None, out
    fees = product.upfront_fees(loan, term)
    payment = estimate_payment(float(loan), float(rate), term, product.rate_type)
    limit = r.max_payment
    if limit is not None and payment > float(limit) + _TOLERANCE:
        apr = _unit_apr(float(rate), term, product.rate_type, round(float(fees) / float(loan), 4) if loan else 0.0)
        out.append(affordability_reason(payment, r, apr))
        return None, out
    return Terms(listing=listing, product=product, rate=rate, term=term, down=down, loan=loan, fees=fees, cap=cap,
                 cap_source=source), out


@dataclass(frozen=True)
class ProductFacts:
    """Per-screen float constants of a product, so the pair loop does no Decimal work."""

    product: FinanceProduct
    term: int
    rate: float
    fee_fixed: float
    fee_rate: float
    min_down: float
    ltv: float
    min_loan: float
    max_loan: float

    @classmethod
    def of(cls, product: FinanceProduct, term: int, grade: Grade) -> ProductFacts:
        """Facts for one product at the profile's term and grade."""
        rate = product.rate_for(grade)
        return cls(product=product, term=term, rate=float(rate if rate is not None else 0),
                   fee_fixed=float(sum((f.fixed for f in product.fees), ZERO)),
                   fee_rate=float(sum((f.rate_by_term.get(term, f.rate) for f in product.fees), ZERO)),
                   min_down=float(product.min_down_payment_ratio), ltv=float(product.ltv_cap),
                   min_loan=float(product.min_loan), max_loan=float(product.max_loan))


_TOLERANCE = 0.005  # yuan: float screening must never reject what the exact Decimal rules accept


@dataclass(eq=False)
class Candidate:
    """A pair that passed the float screen, with the estimates used for ranking."""

    listing: Listing
    facts: ProductFacts
    apr_est: float
    cost_est: float
    score: float = 0.0

    @property
    def product(self) -> FinanceProduct:
        """The finance product."""
        return self.facts.product


def pair_screen(listing: Listing, f: ProductFacts, r: Resolved, policy: MatchPolicy, reg_cap: float,
                max_payment: float | None) -> Candidate | str:
    """Float version of :func:`pair_terms` for ranking: a Candidate, or the code of the first failed rule.

    Deliberately lenient by a fraction of a fen; every offer shown is re-derived by the exact rules.
    """
    product = f.product
    e = product.eligibility
    v = listing.vehicle
    if e.energy_types is not None and v.energy_type not in e.energy_types:
        return "product_energy"
    if listing.condition is Condition.USED:
        age = float(listing.age_years or 0)
        if e.max_vehicle_age_years is not None and age > float(e.max_vehicle_age_years):
            return "vehicle_age"
        if e.max_vehicle_age_plus_term_years is not None and age + f.term / 12 > float(
                e.max_vehicle_age_plus_term_years):
            return "vehicle_age_plus_term"
        if e.max_mileage_km is not None and (listing.mileage_km or 0) > e.max_mileage_km:
            return "mileage"
    price = float(listing.price)
    cap = min(reg_cap, f.ltv)
    p = r.profile
    if r.down_payment is not None:
        down = float(r.down_payment)
    elif p.loan_amount is not None:
        down = max(price - float(p.loan_amount), 0.0)
    else:
        ratio = float(r.down_ratio)
        if not r.down_ratio_given:
            ratio = max(ratio, f.min_down, 1 - cap)
        down = round(price * ratio, 2)
    if down >= price:
        return "no_loan_needed"
    loan = price - down
    if down < price * f.min_down - _TOLERANCE:
        return "min_down_payment"
    if loan > price * cap + _TOLERANCE:
        return "ltv_cap"
    if loan < f.min_loan:
        return "min_loan"
    if loan > f.max_loan:
        return "max_loan"
    payment = estimate_payment(loan, f.rate, f.term, product.rate_type)
    if max_payment is not None and payment > max_payment + _TOLERANCE:
        return "affordability"
    fees = f.fee_fixed + loan * f.fee_rate
    apr = _unit_apr(f.rate, f.term, product.rate_type, round(fees / loan, 4))
    return Candidate(listing=listing, facts=f, apr_est=apr, cost_est=payment * f.term - loan + fees)


@lru_cache(maxsize=4096)
def _unit_apr(rate: float, term: int, rate_type: RateType, fee_share: float) -> float:
    """APR estimate per yuan borrowed: it depends only on rate, term, quoting and the fee share (cached)."""
    if fee_share == 0 and rate_type is RateType.NOMINAL:
        return rate
    return estimate_apr(1 - fee_share, estimate_payment(1.0, rate, term, rate_type), term)


INCOME_PROOF = {
    "fixed": ("收入证明：近6个月工资流水或单位盖章的收入证明",
              "income proof: 6 months of salary statements or an employer's income certificate"),
    "self_employed": ("收入证明：营业执照及近6–12个月经营流水（对公或个人账户），经营收入按流水认定",
                      "income proof: business licence and 6–12 months of business account statements"),
    "freelance": ("收入证明：平台收入记录（如网约车、外卖平台流水）及近6个月银行流水，收入不固定的按平均值认定",
                  "income proof: platform earnings records and 6 months of bank statements (irregular income is "
                  "averaged)"),
    "part_time": ("收入证明：各项兼职收入的流水记录", "income proof: statements for each part-time income"),
}
CASH_INCOME = ("收入证明：工资发现金、没有银行流水的，需单位盖章的收入证明及社保或个税缴纳记录；"
               "收入难以核实时，审批可能按较低收入认定，可考虑提高首付或增加共同借款人",
               "income proof: with wages in cash and no bank statements, an employer's income certificate and "
               "social-insurance or income-tax records are needed; unverifiable income may be counted lower, so a "
               "larger down payment or a co-borrower helps")


def income_proof(employment_type: str | None, income_in_cash: bool | None) -> Reason | None:
    """What income proof this applicant will be asked for (it depends on how they earn)."""
    if income_in_cash:
        return Reason(code="income_proof", zh=CASH_INCOME[0], en=CASH_INCOME[1])
    if employment_type in INCOME_PROOF:
        zh, en = INCOME_PROOF[employment_type]
        return Reason(code="income_proof", zh=zh, en=en)
    return None


def affordability_reason(payment: float | Decimal, r: Resolved, apr: float | Decimal | None = None) -> Reason:
    """Monthly payment over the customer's cap or the affordable share of income (with its APR: a
    payment is never said without its annualised rate)."""
    limit = r.max_payment or ZERO
    shown = yuan_str(Decimal(str(round(payment, 2))))
    apr_zh = f"（年化利率约{percent_str(Decimal(str(apr)))}）" if apr is not None else ""
    apr_en = f" (APR about {percent_str(Decimal(str(apr)))})" if apr is not None else ""
    if r.cap_binds:
        return Reason(code="payment_cap",
                      zh=f"月供约{shown}元{apr_zh}，超过您设定的月供上限{yuan_str(limit)}元",
                      en=f"monthly payment about {shown}{apr_en} is over your cap of {yuan_str(limit)}")
    share = percent_str(r.share, 0)
    debt = f"（已扣除您现有负债的还款{yuan_str(r.debt_payments)}元/月）" if r.debt_payments else ""
    return Reason(code="affordability",
                  zh=f"月供约{shown}元{apr_zh}，超过月收入的{share}{debt}"
                     f"可承受上限{yuan_str(max(limit, ZERO))}元",
                  en=f"monthly payment about {shown}{apr_en} exceeds {share} of income"
                     f"{' after other debt payments' if r.debt_payments else ''} ({yuan_str(max(limit, ZERO))})")


def estimate_payment(loan: float, rate: float, term: int, rate_type: RateType) -> float:
    """Level monthly payment in floats (screening only; offers use the exact quote)."""
    if rate_type is RateType.FLAT:
        return loan * (1 + rate * term / 12) / term
    i = rate / 12
    if i == 0:
        return loan / term
    growth = (1 + i) ** term
    return loan * i * growth / (growth - 1)


def estimate_apr(received: float, payment: float, term: int) -> float:
    """12 × the monthly IRR of a level annuity (closed-form PV, Newton steps); screening only."""
    if received <= 0:
        return 1.0
    if payment * term <= received:
        return 0.0
    i = 2 * (payment * term / received - 1) / (term + 1)  # a good first guess
    for _ in range(30):
        g = (1 + i) ** -term
        pv = payment * (1 - g) / i
        dpv = payment * (term * g / (1 + i) - (1 - g) / i) / i
        step = (pv - received) / dpv
        i -= step
        if abs(step) < 1e-12 or i <= 0:
            break
    return max(i, 0.0) * 12


# =================================================================================================
# ranking and pricing
# =================================================================================================
def rank_score(t: Candidate, r: Resolved) -> float:
    """Higher is better: budget fit + product preference − APR − cost of credit (floats: ranking only)."""
    fit = 1.0
    if r.budget:
        use = min(float(t.listing.price / r.budget), 1.0)
        fit = 1.0 - max(BUDGET_SWEET_SPOT - use, 0.0) / BUDGET_SWEET_SPOT
    preferred = 1.0 if r.profile.product_id == t.product.id else 0.0
    cost_share = t.cost_est / float(t.listing.price)
    return round(W_BUDGET_FIT * fit + W_PREFERRED_PRODUCT * preferred - W_APR * t.apr_est
                 - W_COST_SHARE * cost_share, 4)


def diverse_pick(candidates: list[Candidate]) -> Iterator[Candidate]:
    """Greedy, lazily: best score first, penalising repeats of a car, a product or a brand."""
    remaining = sorted(candidates, key=lambda t: (-t.score, t.listing.vehicle.id, t.product.id))
    seen_vehicles: set[str] = set()
    products: Counter = Counter()
    brands: set[str] = set()

    def adjusted(t: Candidate) -> float:
        return (t.score - (PENALTY_SAME_VEHICLE if t.listing.vehicle.id in seen_vehicles else 0.0)
                - PENALTY_SAME_PRODUCT * products[t.product.id]
                - (PENALTY_SAME_BRAND if t.listing.vehicle.brand in brands else 0.0))

    while remaining:
        index = max(range(len(remaining)), key=lambda k: adjusted(remaining[k]))  # ties: first in score order
        best = remaining.pop(index)
        seen_vehicles.add(best.listing.vehicle.id)
        products[best.product.id] += 1
        brands.add(best.listing.vehicle.brand)
        yield best


def price_offer(t: Terms, score: float, r: Resolved, policy: MatchPolicy) -> Offer | None:
    """Quote the pair exactly; None if the exact payment breaks affordability or the rules (re-check)."""
    q = build_quote(QuoteRequest(principal=t.loan, annual_rate=t.rate, term_months=t.term, method=t.product.method,
                                 rate_type=t.product.rate_type, upfront_fees=t.fees))
    max_payment = max(row.payment for row in q.schedule[:-1] or q.schedule)
    limit = r.max_payment
    if limit is not None and max_payment > limit:
        return None
    listing = t.listing
    verdict = check_loan(LoanProposal(vehicle_price=listing.price, loan_amount=t.loan, term_months=t.term,
                                      condition=listing.condition, energy_type=listing.vehicle.energy_type.value,
                                      use=r.use), policy.caps, policy.regime)
    if not verdict.allowed:
        return None
    return Offer(
        vehicle=_offer_vehicle(listing),
        product=_offer_product(t.product, r.grade, t.rate),
        vehicle_price=listing.price,
        down_payment=t.down,
        loan_amount=t.loan,
        term_months=t.term,
        monthly_payment=q.monthly_payment,
        apr=q.apr,
        apr_percent=percent_str(q.apr),
        total_interest=q.total_interest,
        upfront_fees=q.upfront_fees,
        total_cost_of_credit=q.total_cost_of_credit,
        total_paid=q.total_paid,
        required_monthly_income=fen((max_payment + r.debt_payments) / policy.affordability_share),
        ltv=verdict.ltv,
        ltv_cap=t.cap,
        score=score,
        reasons=offer_reasons(t, q, r, policy, max_payment),
        apr_convention=f"{q.apr_convention_zh} / {q.apr_convention_en}",
    )


def _offer_vehicle(listing: Listing) -> OfferVehicle:
    v = listing.vehicle
    return OfferVehicle(id=v.id, brand=v.brand, brand_en=v.brand_en, series=v.series, body_type=v.body_type,
                        energy_type=v.energy_type, condition=listing.condition, seats=v.seats,
                        segment=v.segment.value, msrp_min=v.msrp_min, msrp_max=v.msrp_max,
                        age_years=listing.age_years, mileage_km=listing.mileage_km,
                        price_is_estimate=listing.price_is_estimate)


def _offer_product(product: FinanceProduct, grade: Grade, rate: Decimal) -> OfferProduct:
    return OfferProduct(id=product.id, name=product.name, name_en=product.name_en, kind=product.kind,
                        rate_type=product.rate_type, quoted_rate=rate, risk_grade=grade,
                        ownership_zh=product.ownership_zh, ownership_en=product.ownership_en)


def offer_reasons(t: Terms, q: Quote, r: Resolved, policy: MatchPolicy, max_payment: Decimal) -> list[Reason]:
    """Why this offer: budget, preferences, LTV, affordability, the true APR, product specifics."""
    listing, product, p = t.listing, t.product, r.profile
    v = listing.vehicle
    out: list[Reason] = []
    if listing.price_is_estimate:
        out.append(Reason(code="used_price_estimate",
                          zh=f"{listing.age_years}年车龄、{listing.mileage_km:,}公里的估算价{yuan_str(listing.price)}元，"
                             "以持证评估师评估为准",
                          en=f"estimated price for {listing.age_years} years / {listing.mileage_km:,} km; "
                             "a licensed appraiser confirms the value"))
    elif listing.condition is Condition.NEW:
        out.append(Reason(code="price", zh=f"按指导价{yuan_str(listing.price)}元测算"
                                           f"（该车系{yuan_str(v.msrp_min)}–{yuan_str(v.msrp_max)}元）",
                          en=f"priced at {listing.price} (guide range {v.msrp_min}–{v.msrp_max})"))
    if r.budget is not None:
        out.append(Reason(code="within_budget", zh=f"车价在预算{yuan_str(r.budget)}元以内",
                          en=f"within the budget of {r.budget}"))
    prefs_zh, prefs_en = [], []
    if p.body_type:
        prefs_zh.append(BODY_ZH[v.body_type])
        prefs_en.append(v.body_type.value)
    if p.energy_type:
        prefs_zh.append(ENERGY_ZH[v.energy_type])
        prefs_en.append(v.energy_type.value)
    if p.brand:
        prefs_zh.append(v.brand)
        prefs_en.append(v.brand_en)
    if p.seats:
        prefs_zh.append(f"{v.seats}座")
        prefs_en.append(f"{v.seats} seats")
    if prefs_zh:
        out.append(Reason(code="preferences", zh="符合您的要求：" + "、".join(prefs_zh),
                          en="matches what you asked for: " + ", ".join(prefs_en)))
    out.append(Reason(code="ltv", zh=f"首付{yuan_str(t.down)}元，贷款{yuan_str(t.loan)}元，"
                                     f"成数{percent_str(t.loan / listing.price, 0)}，不超过上限{percent_str(t.cap, 0)}",
                      en=f"down {t.down}, loan {t.loan}: LTV {percent_str(t.loan / listing.price, 0)} within the "
                         f"{percent_str(t.cap, 0)} cap", source=t.cap_source))
    if r.income is not None:
        out.append(Reason(code="affordable",
                          zh=f"月供{yuan_str(max_payment)}元，占月收入{percent_str(max_payment / r.income, 0)}"
                             f"（上限{percent_str(policy.affordability_share, 0)}）" if r.income else "月供可负担",
                          en=f"payment {max_payment} is {percent_str(max_payment / r.income, 0) if r.income else '-'}"
                             f" of income (limit {percent_str(policy.affordability_share, 0)})"))
    word = "年费率" if product.rate_type is RateType.FLAT else "年利率"
    out.append(Reason(code="apr", zh=f"{word}{percent_str(t.rate)}，年化利率（IRR）{percent_str(q.apr)}，"
                                     f"总利息{yuan_str(q.total_interest)}元，前期费用{yuan_str(q.upfront_fees)}元",
                      en=f"{'flat' if product.rate_type is RateType.FLAT else 'nominal'} rate "
                         f"{percent_str(t.rate)}, APR (IRR) {percent_str(q.apr)}, interest {q.total_interest}, "
                         f"fees {q.upfront_fees}"))
    if product.rate_type is RateType.FLAT:
        out.append(Reason(code="flat_rate",
                          zh=f"注意：{word}按全部本金全期计费，真实年化约为其{_ratio(q.apr, t.rate)}倍",
                          en=f"note: a flat rate is charged on the original principal; the APR is about "
                             f"{_ratio(q.apr, t.rate)}× the quoted rate"))
    if t.rate == 0 and q.upfront_fees > 0:
        out.append(Reason(code="zero_rate_fee",
                          zh=f"宣传0息，但一次性手续费{yuan_str(q.upfront_fees)}元，实际年化{percent_str(q.apr)}",
                          en=f"advertised as 0% but the {q.upfront_fees} fee makes the APR {percent_str(q.apr)}"))
    if product.is_lease:
        out.append(Reason(code="lease_ownership", zh="融资租赁：租期内车辆所有权归出租人，付清全部租金后才过户给您",
                          en="financing lease: the lessor owns the car until the last rent is paid"))
    if p.product_id == product.id:
        out.append(Reason(code="preferred_product", zh="您指定的产品", en="the product you asked for"))
    return out


def _ratio(apr: Decimal, rate: Decimal) -> str:
    return f"{(apr / rate):.1f}" if rate else "-"


# =================================================================================================
# the matcher
# =================================================================================================
@dataclass
class Screen:
    """Everything the screening learnt: feasible pairs and why the rest were excluded."""

    feasible: list[Candidate]
    excluded: Counter
    by_vehicle: dict[str, list[Reason]]
    by_product: dict[str, list[Reason]]
    listings: list[Listing]
    facts: dict[str, ProductFacts]


def screen(catalogue: Catalogue, r: Resolved, policy: MatchPolicy, used_pricer: UsedPricer | None,
           vehicles: Iterable[Vehicle] | None = None, explain: bool = False) -> Screen:
    """Apply every hard constraint to every (car, product) pair the profile allows.

    ``explain=False`` screens pairs in floats and counts failed rules by code (fast: the hot path);
    ``explain=True`` runs the exact Decimal rules and keeps the explained reasons per car.
    """
    p = r.profile
    target = catalogue.find_vehicle(p.vehicle) if p.vehicle else None
    excluded: Counter = Counter()
    by_vehicle: dict[str, list[Reason]] = {}
    by_product: dict[str, list[Reason]] = {}
    products: list[ProductFacts] = []
    for product in catalogue.products:
        term, term_reasons = product_terms(product, r)
        reasons = person_exclusions(product, r) + term_reasons
        by_product[product.id] = reasons
        if reasons:
            excluded.update(x.code for x in reasons)
        else:
            products.append(ProductFacts.of(product, term, r.grade))
    max_payment = None if r.max_payment is None else float(r.max_payment)
    reg_caps = {e.value: float(_cap(r.condition, e.value, r.use, policy.caps, policy.regime)[0]) for e in EnergyType}
    feasible: list[Candidate] = []
    listings: list[Listing] = []
    for vehicle in vehicles if vehicles is not None else catalogue.vehicles:
        reasons = vehicle_exclusions(vehicle, r, target)
        if reasons:
            by_vehicle[vehicle.id] = reasons
            excluded.update(x.code for x in reasons)
            continue
        listing = make_listing(vehicle, r, used_pricer)
        if listing is None:
            continue
        listings.append(listing)
        over = budget_exclusion(listing, r)
        if over is not None:
            by_vehicle[vehicle.id] = [over]
            excluded[over.code] += 1
            continue
        reg_cap = reg_caps[vehicle.energy_type.value]
        pair_reasons: list[Reason] = []
        for f in products:
            if explain:
                terms, reasons = pair_terms(listing, f.product, f.term, r, policy)
                if terms is None:
                    pair_reasons.extend(reasons)
                    excluded.update(x.code for x in reasons)
                    continue
            outcome = pair_screen(listing, f, r, policy, reg_cap, max_payment)
            if isinstance(outcome, Candidate):
                feasible.append(outcome)
            elif not explain:
                excluded[outcome] += 1
        by_vehicle[vehicle.id] = pair_reasons
    return Screen(feasible, excluded, by_vehicle, by_product, listings, {f.product.id: f for f in products})


def match(profile: MatchProfile, catalogue: Catalogue, policy: MatchPolicy | None = None,
          used_pricer: UsedPricer | None = None) -> MatchResult:
    """Ranked, diverse, legal and affordable offers; when none exist, why and the nearest alternatives."""
    policy = policy or MatchPolicy()
    r = resolve(profile, policy)
    offers, s = _offers(catalogue, r, policy, used_pricer)
    result = MatchResult(offers=offers, assumed=r.assumed, notes=r.notes, excluded=dict(s.excluded.most_common()))
    if not offers:
        # Rare path: redo the screen with the exact rules so the explanation can quote them.
        s = screen(catalogue, r, policy, used_pricer, explain=True)
        result.explanation = explain_infeasible(r, s, catalogue, policy, used_pricer)
        result.alternatives = alternatives(profile, r, s, catalogue, policy, used_pricer)
    return result


def _offers(catalogue: Catalogue, r: Resolved, policy: MatchPolicy, used_pricer: UsedPricer | None,
            limit: int | None = None) -> tuple[list[Offer], Screen]:
    s = screen(catalogue, r, policy, used_pricer)
    feasible = s.feasible
    floor = r.profile.budget_min
    if floor is not None:
        # "十七八万": cars priced in the range come first; below it only when nothing in it qualifies.
        in_range = [c for c in feasible if c.listing.price >= floor]
        feasible = in_range or feasible
    return price_candidates(feasible, r, policy, limit or policy.max_offers), s


def price_candidates(feasible: list[Candidate], r: Resolved, policy: MatchPolicy, limit: int) -> list[Offer]:
    """Rank, pick diversely, and price exactly (each pick re-checked by the exact rules) up to ``limit``."""
    for c in feasible:
        c.score = rank_score(c, r)
    # Shortlist: the best plan of each car first, then their runners-up, so the pick has real choice.
    per_vehicle: dict[str, list[Candidate]] = {}
    for c in sorted(feasible, key=lambda c: -c.score):
        per_vehicle.setdefault(c.listing.vehicle.id, []).append(c)
    shortlist = [cs[0] for cs in per_vehicle.values()][:SHORTLIST]
    shortlist += [c for cs in per_vehicle.values() for c in cs[1:3]][:SHORTLIST]
    offers: list[Offer] = []
    for c in diverse_pick(shortlist):
        terms, _ = pair_terms(c.listing, c.product, c.facts.term, r, policy)
        offer = price_offer(terms, c.score, r, policy) if terms is not None else None
        if offer is not None:
            offers.append(offer)
        if len(offers) >= limit:
            break
    return offers


# =================================================================================================
# infeasible input: explanation and nearest alternatives
# =================================================================================================
def explain_infeasible(r: Resolved, s: Screen, catalogue: Catalogue, policy: MatchPolicy,
                       used_pricer: UsedPricer | None) -> Reason:
    """The main reason nothing fits, most specific first."""
    p = r.profile
    legal = max_term(r.condition)
    if r.term_given and r.term > legal:
        return Reason(code="term_cap", zh=f"{'二手车' if r.condition is Condition.USED else '汽车'}贷款期限（含展期）"
                                          f"不得超过{legal}期，{r.term}期无法办理",
                      en=f"{r.condition.value}-car loans are capped at {legal} months; {r.term} is not allowed",
                      source=SOURCE_2017)
    price = p.vehicle_price
    if price is not None and r.down_payment is not None and r.down_payment >= price:
        return Reason(code="down_payment_conflict",
                      zh=f"首付{yuan_str(r.down_payment)}元不低于车价{yuan_str(price)}元，无需贷款（两者矛盾，请核对）",
                      en=f"down payment {r.down_payment} is not below the price {price}: no loan is needed "
                         "(the two conflict; please check)")
    if r.budget is not None and r.down_payment is not None and r.down_payment >= r.budget:
        return Reason(code="down_payment_conflict",
                      zh=f"首付{yuan_str(r.down_payment)}元不低于预算{yuan_str(r.budget)}元，预算内的车可全款购买，无需贷款",
                      en=f"down payment {r.down_payment} is not below the budget {r.budget}: cars within budget "
                         "need no loan")
    if r.income is not None and r.income <= 0:
        return Reason(code="no_income", zh="月收入为0，无法满足任何贷款的还款能力要求",
                      en="a zero income cannot support any loan repayment")
    if r.max_payment is not None and r.max_payment <= 0:
        return Reason(code="affordability",
                      zh=f"您现有负债的还款{yuan_str(r.debt_payments)}元/月已达到月收入的"
                         f"{percent_str(policy.affordability_share, 0)}，"
                         "无法再承担新的月供",
                      en="existing debt payments already use the affordable share of income")
    preferred = s.listings
    if r.budget is not None and preferred and all(x.price > r.budget for x in preferred):
        cheapest = min(preferred, key=lambda x: x.price)
        return Reason(code="budget_too_low",
                      zh=f"预算{yuan_str(r.budget)}元低于符合条件的最便宜车型{cheapest.vehicle.name}"
                         f"（{yuan_str(cheapest.price)}元）",
                      en=f"the budget {r.budget} is below the cheapest matching car, {cheapest.vehicle.brand_en} "
                         f"{cheapest.vehicle.series} at {cheapest.price}")
    if not s.listings:
        return Reason(code="no_matching_vehicle", zh="车型库中没有同时满足您所有偏好的车型",
                      en="no car in the catalogue meets all the stated preferences")
    top = [code for code, _ in s.excluded.most_common()
           if code not in ("purpose", "condition", "product_energy", "over_budget", "grade")]
    code = top[0] if top else (s.excluded.most_common(1)[0][0] if s.excluded else "no_offer")
    sample = next((x for reasons in list(s.by_vehicle.values()) + list(s.by_product.values())
                   for x in reasons if x.code == code), None)
    if sample is not None:
        return Reason(code=code, zh="没有可办理的方案，主要原因：" + sample.zh,
                      en="no plan qualifies; main reason: " + sample.en, source=sample.source)
    return Reason(code="no_offer", zh="没有符合条件的方案", en="no plan qualifies")


@dataclass(frozen=True)
class Relaxation:
    """One change to the profile that may make it feasible."""

    code: str
    zh: str
    en: str
    changes: dict[str, object]
    ignore_affordability: bool = False


def relaxations(profile: MatchProfile, r: Resolved, s: Screen, catalogue: Catalogue) -> list[Relaxation]:
    """Changes to try, nearest first (each alone; the last ones combine)."""
    out: list[Relaxation] = []
    legal = max_term(r.condition)
    if r.term_given and r.term > legal:
        out.append(Relaxation("term", f"期限改为法定上限{legal}期", f"term set to the legal maximum of {legal} months",
                              {"term_months": legal}))
    conflict = r.down_payment is not None and (
        (profile.vehicle_price is not None and r.down_payment >= profile.vehicle_price)
        or (r.budget is not None and r.down_payment >= r.budget))
    if conflict:
        out.append(Relaxation("down_payment", "首付按车价的30%测算", "down payment taken as 30% of the price",
                              {"down_payment": None, "down_payment_ratio": DEFAULT_DOWN_PAYMENT_RATIO}))
    if r.budget is not None and s.listings and all(x.price > r.budget for x in s.listings):
        cheapest = min(x.price for x in s.listings)
        out.append(Relaxation("budget", f"预算提高到{yuan_str(cheapest)}元（符合条件的最低车价）",
                              f"budget raised to {cheapest} (the cheapest matching car)",
                              {"budget": cheapest, "vehicle_price": None}))
        if r.condition is Condition.NEW:
            out.append(Relaxation("used", "改看预算内的二手车", "used cars within the budget",
                                  {"vehicle_condition": Condition.USED}))
    if not s.listings or s.excluded.get("over_budget") == len(s.listings):
        for name, zh, en in (("brand", "不限品牌", "any brand"), ("energy_type", "不限动力类型", "any energy type"),
                             ("body_type", "不限车身类型", "any body type"), ("seats", "不限座位数", "any seats")):
            if getattr(profile, name) is not None:
                out.append(Relaxation(name, zh, en, {name: None}))
    if (r.income is not None or r.profile.max_monthly_payment is not None) and (
            r.max_payment is not None and r.max_payment > 0):
        longer = 60 if r.condition is Condition.NEW else 36
        if r.term < longer:
            out.append(Relaxation("longer_term", f"期限延长到{longer}期，每期还得更少",
                                  f"a longer term of {longer} months lowers the payment", {"term_months": longer}))
        out.append(Relaxation("higher_down_payment", "首付提高到50%", "down payment raised to 50%",
                              {"down_payment": None, "down_payment_ratio": Decimal("0.5"), "loan_amount": None}))
        if r.budget:
            out.append(Relaxation("cheaper_car", "选择更便宜的车型（预算减半）", "a cheaper car (half the budget)",
                                  {"budget": fen(r.budget / 2), "vehicle_price": None}))
    if r.income is not None:
        out.append(Relaxation("income", "不考虑收入限制：方案注明所需最低月收入（可增加共同借款人或提高收入证明）",
                              "ignoring income: each offer states the income it needs (add a co-borrower or proof "
                              "of more income)", {"monthly_income": None}, ignore_affordability=True))
    if r.condition is Condition.USED and (s.excluded.get("vehicle_age") or s.excluded.get("vehicle_age_plus_term")
                                          or s.excluded.get("mileage")):
        limits = [_used_limits(p.eligibility, r.term) for p in catalogue.products
                  if Condition.USED in p.eligibility.conditions and p.eligibility.purpose is Purpose.PURCHASE]
        if limits:
            age, km = max(limits)
            changes: dict[str, object] = {}
            if r.vehicle_age > age:
                changes["vehicle_age_years"] = age
            if km is not None and r.mileage > km:
                changes["mileage_km"] = km
            if changes:
                out.append(Relaxation("younger_car",
                                      f"换一辆车龄不超过{age}年、里程不超过{km or r.mileage:,}公里的二手车",
                                      f"a used car at most {age} years old with at most {km or r.mileage:,} km",
                                      changes))
    if r.grade in (Grade.D, Grade.E) or profile.has_delinquency:
        out.append(Relaxation("grade", "信用记录修复后（按C级）", "after the credit record improves (grade C)",
                              {"risk_grade": Grade.C, "has_delinquency": False}))
    # Last resort: everything above at once (keeping the customer's stated preferences where possible).
    combined: dict[str, object] = {}
    for item in out:
        combined.update(item.changes)
    if len(out) > 1:
        out.append(Relaxation("combined", "综合调整：" + "；".join(x.zh for x in out),
                              "all of: " + "; ".join(x.en for x in out), combined,
                              ignore_affordability=any(x.ignore_affordability for x in out)))
    return out


def _used_limits(e: Eligibility, term: int) -> tuple[Decimal, int | None]:
    """The oldest used car (years) and the highest mileage a product accepts at this term."""
    age = e.max_vehicle_age_years if e.max_vehicle_age_years is not None else Decimal(20)
    if e.max_vehicle_age_plus_term_years is not None:
        age = min(age, e.max_vehicle_age_plus_term_years - Decimal(term) / 12)
    return age, e.max_mileage_km


def alternatives(profile: MatchProfile, r: Resolved, s: Screen, catalogue: Catalogue, policy: MatchPolicy,
                 used_pricer: UsedPricer | None, limit: int = 3) -> list[Alternative]:
    """Up to ``limit`` nearest feasible offers, each with the one change that made it possible."""
    per_change: list[tuple[Relaxation, list[Offer]]] = []
    for relax in relaxations(profile, r, s, catalogue):
        rr = resolve(profile.model_copy(update=relax.changes), policy)
        offers, _ = _offers(catalogue, rr, policy, used_pricer, limit=limit)
        if offers:
            per_change.append((relax, offers))
    # Round-robin over the changes: different ways out first, then more offers for each.
    found: list[Alternative] = []
    seen: set[tuple[str, str]] = set()
    for rank in range(limit):
        for relax, offers in per_change:
            if rank < len(offers) and len(found) < limit:
                offer = offers[rank]
                key = (offer.vehicle.id, offer.product.id)
                if key not in seen:
                    seen.add(key)
                    found.append(Alternative(change=Reason(code=relax.code, zh=relax.zh, en=relax.en), offer=offer))
    return found


# =================================================================================================
# "why not X?"
# =================================================================================================
def why_not(target: str, profile: MatchProfile, catalogue: Catalogue, policy: MatchPolicy | None = None,
            used_pricer: UsedPricer | None = None, offers: list[Offer] | None = None) -> WhyNot:
    """Which rules exclude a car or a product for this profile (or, if it is feasible, its best offer)."""
    policy = policy or MatchPolicy()
    r = resolve(profile, policy)
    product = catalogue.find_product(target)
    vehicle = None if product is not None else catalogue.find_vehicle(target)
    if product is None and vehicle is None:
        return WhyNot(target=target, target_kind="unknown", feasible=False, rules=[],
                      summary_zh=f"产品和车型库中都没有“{target}”",
                      summary_en=f"'{target}' is neither a product nor a car in the catalogue")
    if vehicle is not None:
        return _why_not_vehicle(target, vehicle, r, catalogue, policy, used_pricer, offers)
    assert product is not None
    return _why_not_product(target, product, r, catalogue, policy, used_pricer, offers)


def _dedupe(reasons: Iterable[Reason]) -> list[Reason]:
    seen: dict[str, Reason] = {}
    for x in reasons:
        seen.setdefault(x.code, x)
    return list(seen.values())


def _why_not_vehicle(target: str, vehicle: Vehicle, r: Resolved, catalogue: Catalogue, policy: MatchPolicy,
                     used_pricer: UsedPricer | None, offers: list[Offer] | None) -> WhyNot:
    in_offers = any(o.vehicle.id == vehicle.id for o in offers or [])
    rules = vehicle_exclusions(vehicle, r, None)
    listing = make_listing(vehicle, r, used_pricer)
    best: Offer | None = None
    if listing is not None:
        over = budget_exclusion(listing, r)
        if over is not None:
            rules.append(over)
    if not rules and listing is not None:
        s = screen(catalogue, r, policy, used_pricer, vehicles=[vehicle], explain=True)
        priced = price_candidates(s.feasible, r, policy, 1)
        best = priced[0] if priced else None
        if best is None:
            rules = _dedupe([*s.by_vehicle.get(vehicle.id, []),
                             *(x for reasons in s.by_product.values() for x in reasons if x.code != "purpose")])
    name = vehicle.name
    if best is not None:
        rank_zh = "已在推荐列表中" if in_offers else "符合条件，但综合排序（预算匹配、年化利率、总成本、多样性）靠后"
        rank_en = ("already among the offers" if in_offers
                   else "eligible, but ranked lower on budget fit, APR, cost and diversity")
        return WhyNot(target=target, target_kind="vehicle", target_id=vehicle.id, feasible=True, in_offers=in_offers,
                      rules=[], best_offer=best,
                      summary_zh=f"{name}{rank_zh}；最优方案：{best.product.name}，月供{yuan_str(best.monthly_payment)}元，"
                                 f"年化{best.apr_percent}",
                      summary_en=f"{vehicle.brand_en} {vehicle.series} is {rank_en}; "
                                 f"best plan: {best.product.name_en}, "
                                 f"{best.monthly_payment}/month, APR {best.apr_percent}")
    return WhyNot(target=target, target_kind="vehicle", target_id=vehicle.id, feasible=False, rules=rules,
                  summary_zh=f"{name}未被推荐：" + "；".join(x.zh for x in rules[:3]),
                  summary_en=f"{vehicle.brand_en} {vehicle.series} was excluded: " + "; ".join(x.en for x in rules[:3]))


def _why_not_product(target: str, product: FinanceProduct, r: Resolved, catalogue: Catalogue, policy: MatchPolicy,
                     used_pricer: UsedPricer | None, offers: list[Offer] | None) -> WhyNot:
    in_offers = any(o.product.id == product.id for o in offers or [])
    rules = person_exclusions(product, r) + product_terms(product, r)[1]
    best: Offer | None = None
    if not rules:
        sub = catalogue.model_copy(update={"products": [product]})
        s = screen(sub, r, policy, used_pricer, explain=True)
        priced = price_candidates(s.feasible, r, policy, 1)
        best = priced[0] if priced else None
        if best is None:
            counts = Counter(x.code for reasons in s.by_vehicle.values() for x in reasons)
            examples = {x.code: x for reasons in s.by_vehicle.values() for x in reasons}
            rules = [examples[code] for code, _ in counts.most_common()
                     if code not in ("body_type", "energy_type", "brand", "seats", "not_requested_vehicle")]
            rules = rules or [examples[code] for code, _ in counts.most_common()]
    if best is not None:
        return WhyNot(target=target, target_kind="product", target_id=product.id, feasible=True, in_offers=in_offers,
                      rules=[], best_offer=best,
                      summary_zh=f"{product.name}可以办理{'（已在推荐列表中）' if in_offers else '，但综合排序靠后'}；"
                                 f"例如{best.vehicle.brand} {best.vehicle.series}，"
                                 f"月供{yuan_str(best.monthly_payment)}元，"
                                 f"年化{best.apr_percent}",
                      summary_en=f"{product.name_en} is available"
                                 f"{' (among the offers)' if in_offers else ', ranked lower'};"
                                 f" e.g. {best.vehicle.brand_en} {best.vehicle.series}, {best.monthly_payment}/month, "
                                 f"APR {best.apr_percent}")
    return WhyNot(target=target, target_kind="product", target_id=product.id, feasible=False, rules=rules,
                  summary_zh=f"{product.name}不适用：" + "；".join(x.zh for x in rules[:3]),
                  summary_en=f"{product.name_en} does not apply: " + "; ".join(x.en for x in rules[:3]))


# =================================================================================================
# loans against a valued car (车抵贷, or a used-car loan on the appraised value)
# =================================================================================================
class CollateralOffer(BaseModel):
    """How much a valued car can secure under a product, whether the customer qualifies, and the quote."""

    product_id: str
    product_name: str
    product_name_en: str
    collateral_value: Money
    ltv_cap: Rate
    max_loan_amount: Money
    loan_amount: Money | None
    term_months: int
    eligible: bool
    reasons: list[Reason]
    monthly_payment: Money | None = None
    apr: Rate | None = None
    apr_percent: str | None = None
    total_interest: Money | None = None
    upfront_fees: Money | None = None
    total_cost_of_credit: Money | None = None
    required_monthly_income: Money | None = None
    ownership_zh: str
    ownership_en: str


def collateral_offer(product: FinanceProduct, value: Decimal, vehicle_age: Decimal, mileage_km: int,
                     profile: MatchProfile, policy: MatchPolicy | None = None) -> CollateralOffer:
    """Loan amount = value × the product's LTV cap (and the used-car regulatory cap), checked and quoted.

    ``profile`` supplies the customer facts (age, income, grade, arrears, term, and ``loan_amount`` if
    they want less than the maximum); missing ones take the matcher's defaults.
    """
    policy = policy or MatchPolicy()
    r = resolve(profile.model_copy(update={"vehicle_condition": Condition.USED}), policy)
    e = product.eligibility
    cap = min(product.ltv_cap, ltv_cap(Condition.USED, "ice", r.use, policy.caps, policy.regime)[0])
    max_amount = min(fen(value * cap), product.max_loan)
    amount = min(profile.loan_amount, max_amount) if profile.loan_amount else max_amount
    term, term_reasons = product_terms(product, r)
    reasons = [x for x in person_exclusions(product, r) if x.code != "purpose"] + term_reasons
    if e.max_vehicle_age_years is not None and vehicle_age > e.max_vehicle_age_years:
        reasons.append(Reason(code="vehicle_age", zh=f"车龄{vehicle_age}年，超过上限{e.max_vehicle_age_years}年",
                              en=f"vehicle age {vehicle_age} years is over the {e.max_vehicle_age_years}-year limit"))
    age_term = e.max_vehicle_age_plus_term_years
    if age_term is not None and vehicle_age + Decimal(term) / 12 > age_term:
        reasons.append(Reason(code="vehicle_age_plus_term", zh=f"车龄加贷款期限超过{age_term}年",
                              en=f"vehicle age plus term exceeds {age_term} years"))
    if e.max_mileage_km is not None and mileage_km > e.max_mileage_km:
        reasons.append(Reason(code="mileage", zh=f"里程超过{e.max_mileage_km:,}公里",
                              en=f"mileage is over {e.max_mileage_km:,} km"))
    if amount < product.min_loan:
        reasons.append(Reason(code="min_loan",
                              zh=f"可贷金额{yuan_str(amount)}元，低于起贷金额{yuan_str(product.min_loan)}元",
                              en=f"the loan {amount} is below the {product.min_loan} minimum"))
    base = {"product_id": product.id, "product_name": product.name, "product_name_en": product.name_en,
            "collateral_value": value, "ltv_cap": cap, "max_loan_amount": max_amount, "term_months": term,
            "ownership_zh": product.ownership_zh, "ownership_en": product.ownership_en}
    rate = product.rate_for(r.grade)
    if reasons or rate is None or not 1 <= term <= MAX_TERM_MONTHS:
        return CollateralOffer(**base, loan_amount=None, eligible=False, reasons=reasons)
    q = build_quote(QuoteRequest(principal=amount, annual_rate=rate, term_months=term, method=product.method,
                                 rate_type=product.rate_type, upfront_fees=product.upfront_fees(amount, term)))
    limit = r.max_payment
    if limit is not None and q.monthly_payment > limit:
        reasons.append(affordability_reason(q.monthly_payment, r, q.apr))
    notes = [Reason(code="amount", zh=f"可贷金额 = 估值{yuan_str(value)}元 × 成数上限{percent_str(cap, 0)}"
                                      f" = {yuan_str(max_amount)}元（以持证评估师评估价为准）",
                    en=f"loan = value {value} × LTV cap {percent_str(cap, 0)} = {max_amount} (subject to a "
                       "licensed appraisal)"),
             Reason(code="apr", zh=f"年利率{percent_str(rate)}，年化利率（IRR）{percent_str(q.apr)}",
                    en=f"nominal rate {percent_str(rate)}, APR (IRR) {percent_str(q.apr)}")]
    return CollateralOffer(
        **base, loan_amount=amount, eligible=not reasons, reasons=reasons + notes,
        monthly_payment=q.monthly_payment, apr=q.apr, apr_percent=percent_str(q.apr),
        total_interest=q.total_interest, upfront_fees=q.upfront_fees, total_cost_of_credit=q.total_cost_of_credit,
        required_monthly_income=fen((q.monthly_payment + r.debt_payments) / policy.affordability_share),
    )
