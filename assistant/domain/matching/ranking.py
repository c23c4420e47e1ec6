"""Ranking feasible pairs: budget fit, product preference, APR and cost of credit, then a diverse greedy pick."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from assistant.domain.matching.profile import Resolved
from assistant.domain.matching.screening import Candidate

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
