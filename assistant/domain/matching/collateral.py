"""Loans against a valued car (车抵贷, or a used-car loan on the appraised value)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from assistant.domain.catalogue import FinanceProduct
from assistant.domain.matching.models import MatchPolicy, MatchProfile, Reason
from assistant.domain.matching.profile import resolve
from assistant.domain.matching.rules import affordability_reason, person_exclusions, product_terms
from assistant.domain.money import Money, Rate, fen, percent_str, yuan_str
from assistant.domain.quote import MAX_TERM_MONTHS, QuoteRequest, build_quote, quote_figures
from assistant.domain.regulation import Condition, ltv_cap


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
        **quote_figures(q, CollateralOffer.model_fields),
        required_monthly_income=fen((q.monthly_payment + r.debt_payments) / policy.affordability_share),
    )
