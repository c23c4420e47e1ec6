"""The exact (Decimal) hard constraints: car listings and preferences, the product's rules about the person,
the term, and the pair rules (down payment, LTV, loan size, affordability), each failure an explained Reason."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from assistant.domain.catalogue import BODY_ZH, ENERGY_ZH, FinanceProduct, Purpose, Vehicle
from assistant.domain.matching.estimates import TOLERANCE, estimate_payment, unit_apr
from assistant.domain.matching.models import MatchPolicy, Reason, UsedPricer
from assistant.domain.matching.profile import Resolved
from assistant.domain.money import ZERO, fen, percent_str, yuan_str
from assistant.domain.regulation import SOURCE_2017, Condition, LenderCaps, Regime, Use, ltv_cap, max_term


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
def cached_ltv_cap(condition: Condition, energy: str, use: Use, caps: LenderCaps,
                   regime: Regime) -> tuple[Decimal, str]:
    """The regulatory LTV cap and its source, cached: screening asks for the same few combinations."""
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
        out.extend(_used_car_reasons(listing, product, term))
    price = listing.price
    cap, source = cached_ltv_cap(listing.condition, v.energy_type.value, r.use, policy.caps, policy.regime)
    cap = min(cap, product.ltv_cap)
    # Down payment: what the customer said (yuan, or a loan amount, or a ratio); an assumed ratio is
    # raised to whatever this product and the caps require, a stated one is not.
    down = _down_payment(price, product, cap, r)
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
    if limit is not None and payment > float(limit) + TOLERANCE:
        apr = unit_apr(float(rate), term, product.rate_type, round(float(fees) / float(loan), 4) if loan else 0.0)
        out.append(affordability_reason(payment, r, apr))
        return None, out
    return Terms(listing=listing, product=product, rate=rate, term=term, down=down, loan=loan, fees=fees, cap=cap,
                 cap_source=source), out


def _used_car_reasons(listing: Listing, product: FinanceProduct, term: int) -> list[Reason]:
    """The product's limits on a used car: age, age plus term, mileage."""
    e = product.eligibility
    out: list[Reason] = []
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
    return out


def _down_payment(price: Decimal, product: FinanceProduct, cap: Decimal, r: Resolved) -> Decimal:
    """What the customer puts down: their yuan, or price − their loan amount, or a ratio of the price."""
    p = r.profile
    if r.down_payment is not None:
        return r.down_payment
    if p.loan_amount is not None:
        return max(price - p.loan_amount, ZERO)
    ratio = r.down_ratio
    if not r.down_ratio_given:
        ratio = max(ratio, product.min_down_payment_ratio, 1 - cap)
    return fen(price * ratio)


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
