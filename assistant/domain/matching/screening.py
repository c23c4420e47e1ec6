"""Screening every (car, product) pair the profile allows: the fast float screen and the explained exact one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.domain.catalogue import Catalogue, EnergyType, FinanceProduct, Grade, Vehicle
from assistant.domain.matching.estimates import TOLERANCE, estimate_payment, unit_apr
from assistant.domain.matching.models import MatchPolicy, Reason, UsedPricer
from assistant.domain.matching.profile import Resolved
from assistant.domain.matching.rules import (
    Listing,
    budget_exclusion,
    cached_ltv_cap,
    make_listing,
    pair_terms,
    person_exclusions,
    product_terms,
    vehicle_exclusions,
)
from assistant.domain.money import ZERO
from assistant.domain.regulation import Condition


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
    if down < price * f.min_down - TOLERANCE:
        return "min_down_payment"
    if loan > price * cap + TOLERANCE:
        return "ltv_cap"
    if loan < f.min_loan:
        return "min_loan"
    if loan > f.max_loan:
        return "max_loan"
    payment = estimate_payment(loan, f.rate, f.term, product.rate_type)
    if max_payment is not None and payment > max_payment + TOLERANCE:
        return "affordability"
    fees = f.fee_fixed + loan * f.fee_rate
    apr = unit_apr(f.rate, f.term, product.rate_type, round(fees / loan, 4))
    return Candidate(listing=listing, facts=f, apr_est=apr, cost_est=payment * f.term - loan + fees)


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
    reg_caps = {e.value: float(cached_ltv_cap(r.condition, e.value, r.use, policy.caps, policy.regime)[0])
                for e in EnergyType}
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
