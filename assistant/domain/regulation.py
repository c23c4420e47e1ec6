"""Regulatory limits on auto loans, as data with their sources, and a check that explains refusals.

Sources:
- 《汽车贷款管理办法》（中国人民银行 中国银行业监督管理委员会令〔2017〕第2号）and 银发〔2017〕234号:
  LTV caps 自用传统动力 80 %, 自用新能源 85 %, 商用传统动力 70 %, 商用新能源 75 %, 二手车 70 %;
  term (including extensions) ≤ 5 years, used cars ≤ 3 years.
- 《中国人民银行 国家金融监督管理总局关于调整汽车贷款有关政策的通知》（银发〔2024〕80号, April 2024):
  self-use cars (ICE and NEV): the lender sets the cap; 商用传统动力 70 %, 商用新能源 75 %,
  二手车 70 % (unchanged); term limits unchanged.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Use(StrEnum):
    """What the car is for."""

    SELF = "self"  # 自用
    COMMERCIAL = "commercial"  # 商用


class Condition(StrEnum):
    """New or used (contract slot ``vehicle_condition``)."""

    NEW = "new"
    USED = "used"


class Regime(StrEnum):
    """Which rule set applies."""

    R2017 = "2017"
    R2024 = "2024"


NEV_ENERGY_TYPES = frozenset({"bev", "phev", "nev"})  # hybrids without a plug (hev) count as ICE

SOURCE_2017 = "《汽车贷款管理办法》(2017) 及 银发〔2017〕234号"
SOURCE_2024 = "《关于调整汽车贷款有关政策的通知》银发〔2024〕80号"

# (regime, use, is_nev, condition) -> cap; None means "set by the lender" (house cap applies).
LTV_CAPS: dict[tuple[Regime, Use, bool, Condition], Decimal | None] = {
    (Regime.R2017, Use.SELF, False, Condition.NEW): Decimal("0.80"),
    (Regime.R2017, Use.SELF, True, Condition.NEW): Decimal("0.85"),
    (Regime.R2017, Use.COMMERCIAL, False, Condition.NEW): Decimal("0.70"),
    (Regime.R2017, Use.COMMERCIAL, True, Condition.NEW): Decimal("0.75"),
    (Regime.R2024, Use.SELF, False, Condition.NEW): None,
    (Regime.R2024, Use.SELF, True, Condition.NEW): None,
    (Regime.R2024, Use.COMMERCIAL, False, Condition.NEW): Decimal("0.70"),
    (Regime.R2024, Use.COMMERCIAL, True, Condition.NEW): Decimal("0.75"),
}
USED_CAR_LTV_CAP = Decimal("0.70")  # both regimes
MAX_TERM_MONTHS = 60  # 5 years, including extensions
MAX_USED_TERM_MONTHS = 36  # 3 years, including extensions


class LenderCaps(BaseModel):
    """The lender's own caps where the 2024 notice lets it decide (self-use cars)."""

    model_config = ConfigDict(frozen=True)

    self_use_ice: Decimal = Decimal("0.80")
    self_use_nev: Decimal = Decimal("0.85")


class LoanProposal(BaseModel):
    """The facts the rules look at."""

    model_config = ConfigDict(frozen=True)

    vehicle_price: Decimal
    loan_amount: Decimal
    term_months: int
    condition: Condition = Condition.NEW
    energy_type: str = "ice"
    use: Use = Use.SELF


class Violation(BaseModel):
    """One broken rule, explained."""

    model_config = ConfigDict(frozen=True)

    code: str
    zh: str
    en: str
    source: str


class Verdict(BaseModel):
    """Whether a proposed loan is allowed, the caps that applied and why not."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    ltv: Decimal
    ltv_cap: Decimal
    max_term_months: int
    violations: list[Violation]


def ltv_cap(
    condition: Condition, energy_type: str, use: Use, caps: LenderCaps, regime: Regime = Regime.R2024
) -> tuple[Decimal, str]:
    """The maximum loan-to-value ratio and where it comes from."""
    if condition is Condition.USED:
        return USED_CAR_LTV_CAP, SOURCE_2017 if regime is Regime.R2017 else SOURCE_2024
    is_nev = energy_type in NEV_ENERGY_TYPES
    cap = LTV_CAPS[(regime, use, is_nev, condition)]
    if cap is None:
        return (caps.self_use_nev if is_nev else caps.self_use_ice), f"{SOURCE_2024}（自用车由贷款机构自主确定）"
    return cap, SOURCE_2017 if regime is Regime.R2017 else SOURCE_2024


def max_term(condition: Condition) -> int:
    """The longest legal term in months (used cars: 3 years)."""
    return MAX_USED_TERM_MONTHS if condition is Condition.USED else MAX_TERM_MONTHS


def check_loan(
    proposal: LoanProposal, caps: LenderCaps | None = None, regime: Regime = Regime.R2024
) -> Verdict:
    """Say whether a proposed loan is allowed under the LTV and term rules, and why not."""
    caps = caps or LenderCaps()
    violations: list[Violation] = []
    if proposal.vehicle_price <= 0:
        raise ValueError("vehicle_price must be positive")
    ltv = (proposal.loan_amount / proposal.vehicle_price).quantize(Decimal("0.0001"))
    cap, source = ltv_cap(proposal.condition, proposal.energy_type, proposal.use, caps, regime)
    if proposal.loan_amount > proposal.vehicle_price * cap:
        violations.append(
            Violation(
                code="ltv_cap",
                zh=f"贷款金额占车价的{ltv:.0%}，超过上限{cap:.0%}（首付至少{1 - cap:.0%}）",
                en=f"loan-to-value {ltv:.0%} exceeds the {cap:.0%} cap (down payment at least {1 - cap:.0%})",
                source=source,
            )
        )
    limit = max_term(proposal.condition)
    if proposal.term_months > limit:
        kind_zh = "二手车贷款" if proposal.condition is Condition.USED else "汽车贷款"
        violations.append(
            Violation(
                code="term_cap",
                zh=f"{kind_zh}期限（含展期）不得超过{limit // 12}年（{limit}期）",
                en=f"{'used-car' if proposal.condition is Condition.USED else 'auto'} loan terms are capped at "
                f"{limit} months including extensions",
                source=SOURCE_2017,
            )
        )
    return Verdict(allowed=not violations, ltv=ltv, ltv_cap=cap, max_term_months=limit, violations=violations)
