"""Matching fixtures: the real catalogue, the house policy and the used-car pricer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assistant.domain.matching import MatchPolicy, MatchProfile, MatchResult, UsedPricer, match
from assistant.services import Services
from assistant.tools.match import policy_for, used_pricer
from assistant.tools.registry import ToolContext


@pytest.fixture
def ctx(services: Services) -> ToolContext:
    return ToolContext(services=services)


@pytest.fixture
def policy(ctx: ToolContext) -> MatchPolicy:
    return policy_for(ctx)


@pytest.fixture
def pricer(ctx: ToolContext) -> UsedPricer:
    return used_pricer(ctx)


@pytest.fixture
def run(services: Services, policy: MatchPolicy, pricer: UsedPricer) -> Callable[..., MatchResult]:
    """``run(budget=…, …)`` → MatchResult with the real catalogue and house policy."""

    def _run(policy_override: MatchPolicy | None = None, max_offers: int | None = None, **profile: Any
             ) -> MatchResult:
        chosen = policy_override or policy
        if max_offers is not None:
            chosen = chosen.model_copy(update={"max_offers": max_offers})
        return match(MatchProfile(**profile), services.catalogue, chosen, pricer)

    return _run
