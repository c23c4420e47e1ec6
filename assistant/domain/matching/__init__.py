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

Package map (by stage): ``models`` (profile, policy, offers, reasons), ``profile`` (defaults resolved),
``rules`` (the exact Decimal constraints), ``estimates`` (float payment / APR), ``screening`` (every pair),
``ranking`` (score and diverse pick), ``offers`` (exact pricing and reasons), ``matcher`` (:func:`match`),
``explanations`` (infeasible input and alternatives), ``whynot`` ("why not X?"), ``collateral`` (车抵贷).
"""

from assistant.domain.matching.collateral import CollateralOffer, collateral_offer
from assistant.domain.matching.estimates import TOLERANCE, estimate_apr, estimate_payment, unit_apr
from assistant.domain.matching.explanations import Relaxation, alternatives, explain_infeasible, relaxations
from assistant.domain.matching.matcher import match
from assistant.domain.matching.models import (
    DEFAULT_AGE,
    DEFAULT_DOWN_PAYMENT_RATIO,
    DEFAULT_GRADE,
    DEFAULT_KM_PER_YEAR,
    DEFAULT_MAX_OFFERS,
    DEFAULT_TERM_MONTHS,
    DEFAULT_USED_AGE_YEARS,
    DELINQUENT_GRADE,
    Alternative,
    MatchPolicy,
    MatchProfile,
    MatchResult,
    Offer,
    OfferProduct,
    OfferVehicle,
    Reason,
    UsedPricer,
    WhyNot,
)
from assistant.domain.matching.offers import find_offers, offer_reasons, price_candidates, price_offer
from assistant.domain.matching.profile import CASH_INCOME, INCOME_PROOF, Resolved, income_proof, resolve
from assistant.domain.matching.ranking import (
    BUDGET_SWEET_SPOT,
    PENALTY_SAME_BRAND,
    PENALTY_SAME_PRODUCT,
    PENALTY_SAME_VEHICLE,
    SHORTLIST,
    W_APR,
    W_BUDGET_FIT,
    W_COST_SHARE,
    W_PREFERRED_PRODUCT,
    diverse_pick,
    rank_score,
)
from assistant.domain.matching.rules import (
    Listing,
    Terms,
    affordability_reason,
    budget_exclusion,
    cached_ltv_cap,
    choose_term,
    make_listing,
    pair_terms,
    person_exclusions,
    product_terms,
    vehicle_exclusions,
)
from assistant.domain.matching.screening import Candidate, ProductFacts, Screen, pair_screen, screen
from assistant.domain.matching.whynot import why_not

__all__ = [
    "BUDGET_SWEET_SPOT",
    "CASH_INCOME",
    "DEFAULT_AGE",
    "DEFAULT_DOWN_PAYMENT_RATIO",
    "DEFAULT_GRADE",
    "DEFAULT_KM_PER_YEAR",
    "DEFAULT_MAX_OFFERS",
    "DEFAULT_TERM_MONTHS",
    "DEFAULT_USED_AGE_YEARS",
    "DELINQUENT_GRADE",
    "INCOME_PROOF",
    "PENALTY_SAME_BRAND",
    "PENALTY_SAME_PRODUCT",
    "PENALTY_SAME_VEHICLE",
    "SHORTLIST",
    "TOLERANCE",
    "W_APR",
    "W_BUDGET_FIT",
    "W_COST_SHARE",
    "W_PREFERRED_PRODUCT",
    "Alternative",
    "Candidate",
    "CollateralOffer",
    "Listing",
    "MatchPolicy",
    "MatchProfile",
    "MatchResult",
    "Offer",
    "OfferProduct",
    "OfferVehicle",
    "ProductFacts",
    "Reason",
    "Relaxation",
    "Resolved",
    "Screen",
    "Terms",
    "UsedPricer",
    "WhyNot",
    "affordability_reason",
    "alternatives",
    "budget_exclusion",
    "cached_ltv_cap",
    "choose_term",
    "collateral_offer",
    "diverse_pick",
    "estimate_apr",
    "estimate_payment",
    "explain_infeasible",
    "find_offers",
    "income_proof",
    "make_listing",
    "match",
    "offer_reasons",
    "pair_screen",
    "pair_terms",
    "person_exclusions",
    "price_candidates",
    "price_offer",
    "product_terms",
    "rank_score",
    "relaxations",
    "resolve",
    "screen",
    "unit_apr",
    "vehicle_exclusions",
    "why_not",
]
