"""Matching tools: cars + finance plans the customer can actually get, and "why not X?"."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from assistant.domain.catalogue import Vehicle
from assistant.domain.matching import (
    MatchPolicy,
    MatchProfile,
    MatchResult,
    UsedPricer,
    WhyNot,
    match,
    why_not,
)
from assistant.tools.registry import REGISTRY, ToolContext


class MatchIn(MatchProfile):
    """A customer profile (contract slot names; all optional) and, optionally, a car or product to explain."""

    why_not: str | None = Field(default=None, max_length=100,
                                description="A car (e.g. '特斯拉 Model Y') or product id/name to explain if absent")
    max_offers: int = Field(default=5, ge=1, le=10, description="How many offers to return")


class MatchOut(MatchResult):
    """Ranked offers with the true APR, the defaults assumed, and the 'why not' answer if asked."""

    why_not: WhyNot | None = None


class ExplainIn(MatchProfile):
    """The car or product to explain, and the same profile the match used."""

    target: str = Field(min_length=1, max_length=100,
                        description="Catalogue car ('比亚迪 汉EV', 'tesla-model-y') or product id/name "
                                    "('nev_promo_loan')")


def policy_for(ctx: ToolContext, max_offers: int = 5) -> MatchPolicy:
    """The house policy from settings: affordability share and the lender's LTV caps."""
    return MatchPolicy(affordability_share=ctx.services.settings.affordability_share,
                       caps=ctx.services.lender_caps, max_offers=max_offers)


def used_pricer(ctx: ToolContext) -> UsedPricer:
    """Price a used catalogue car with the valuation model (entry guide price × fitted retention)."""
    valuator = ctx.services.valuator

    def price(vehicle: Vehicle, age_years: Decimal, mileage_km: int) -> Decimal:
        return valuator.value(vehicle.msrp_min, age_years, mileage_km, energy_type=vehicle.energy_type.value,
                              segment=vehicle.segment.value, body_type=vehicle.body_type.value).estimated_value

    return price


def _profile(args: MatchProfile) -> MatchProfile:
    return MatchProfile.model_validate(args.model_dump(include=set(MatchProfile.model_fields)))


@REGISTRY.register("match_offers")
def match_offers(ctx: ToolContext, args: MatchIn) -> MatchOut:
    """Recommend cars with finance plans the customer can actually get (精准匹配车型+金融方案). Use it for
    "预算15万想买SUV", "月薪1万能买什么车", "二手车贷款方案". Give what the customer said using the contract
    slot names: budget / vehicle_price / down_payment / loan_amount / monthly_income / monthly_debt_payments
    in yuan; down_payment_ratio as a fraction (三成 -> 0.3); term_months; body_type (suv|sedan|mpv|
    hatchback|pickup); energy_type (ice|bev|phev|hev|nev); vehicle_condition (new|used); brand; seats;
    age; vehicle_age_years and mileage_km for used cars; has_delinquency; risk_grade (A-E) if scored.
    Leave out what was not said: defaults are applied and listed in `assumed`.
    Every offer is legal (regulatory LTV and term caps), within the product's eligibility, affordable
    (payment ≤ 50 % of income after other debts) and within budget, and carries the monthly payment,
    the true APR (IRR method) and total interest. When nothing fits, `explanation` says why and
    `alternatives` the nearest feasible plans. Set `why_not` to a car or product to learn which rule
    excluded it."""
    profile = _profile(args)
    policy = policy_for(ctx, args.max_offers)
    pricer = used_pricer(ctx)
    result = match(profile, ctx.services.catalogue, policy, pricer)
    explained = None
    if args.why_not:
        explained = why_not(args.why_not, profile, ctx.services.catalogue, policy, pricer, result.offers)
    return MatchOut(**dict(result), why_not=explained)


@REGISTRY.register("explain_exclusion")
def explain_exclusion(ctx: ToolContext, args: ExplainIn) -> WhyNot:
    """Explain why a car or a finance product was not recommended for this customer ("为什么没有推荐特斯拉？",
    "我能办新能源专享贷吗？"): the rules that exclude it (budget, preferences, eligibility, LTV/term caps,
    affordability), or — if it is in fact available — its best plan with payment and APR. Pass the
    same profile fields as match_offers plus `target` (car name or product id/name)."""
    profile = _profile(args)
    return why_not(args.target, profile, ctx.services.catalogue, policy_for(ctx), used_pricer(ctx))
