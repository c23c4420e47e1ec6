"""The matcher's entry point: ranked offers, or — when nothing fits — why and the nearest alternatives."""

from __future__ import annotations

from assistant.domain.catalogue import Catalogue
from assistant.domain.matching.explanations import alternatives, explain_infeasible
from assistant.domain.matching.models import MatchPolicy, MatchProfile, MatchResult, UsedPricer
from assistant.domain.matching.offers import find_offers
from assistant.domain.matching.profile import resolve
from assistant.domain.matching.screening import screen


def match(profile: MatchProfile, catalogue: Catalogue, policy: MatchPolicy | None = None,
          used_pricer: UsedPricer | None = None) -> MatchResult:
    """Ranked, diverse, legal and affordable offers; when none exist, why and the nearest alternatives."""
    policy = policy or MatchPolicy()
    r = resolve(profile, policy)
    offers, s = find_offers(catalogue, r, policy, used_pricer)
    result = MatchResult(offers=offers, assumed=r.assumed, notes=r.notes, excluded=dict(s.excluded.most_common()))
    if not offers:
        # Rare path: redo the screen with the exact rules so the explanation can quote them.
        s = screen(catalogue, r, policy, used_pricer, explain=True)
        result.explanation = explain_infeasible(r, s, catalogue, policy, used_pricer)
        result.alternatives = alternatives(profile, r, s, catalogue, policy, used_pricer)
    return result
