"""What a loan looks like to the early-warning monitor: its facts, vehicle and outside signals, and the
model's feature vector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from assistant.lifecycle.ledger import Behaviour
from assistant.lifecycle.signals import StressFlag, expected_value_fen

GRADE_ORDINAL = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
INDUSTRY_ZH = {
    "manufacturing": "制造业", "retail": "批发零售", "construction": "建筑业", "real_estate": "房地产",
    "logistics": "交通运输", "hospitality": "餐饮住宿", "it": "信息技术", "education": "教育", "healthcare": "医疗",
    "public_sector": "机关事业单位", "self_employed": "个体经营", "foreign_trade": "外贸",
}
FEATURES: tuple[str, ...] = (
    "dpd", "dpd_trend", "max_dpd_12m", "missed_3m", "partial_3m", "missed_6m", "partial_6m",
    "consecutive_missed", "shortfall_3m", "late_recent", "lateness_drift", "ltv_now", "excess_value_drop",
    "insurance_lapsed", "region_stress", "industry_stress", "grade", "young_loan",
)


# --- what a loan looks like to the monitor -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoanFacts:
    """The non-behaviour facts monitoring reads about a loan (from a ``loans`` row or a simulated dict)."""

    loan_id: str
    disbursed_on: dt.date
    grade: str | None
    region: str | None
    industry: str | None
    energy_type: str | None
    vehicle_price_fen: int
    vehicle_age_years: float
    collateral_value_fen: int
    collateral_value_now_fen: int | None
    insurance_expires_on: dt.date | None

    @classmethod
    def from_mapping(cls, row: Any) -> LoanFacts:
        """From a ``loans`` row (attribute access) or a dict of its columns."""
        get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
        return cls(loan_id=get("id"), disbursed_on=get("disbursed_on"), grade=get("grade"), region=get("region"),
                   industry=get("industry"), energy_type=get("energy_type"),
                   vehicle_price_fen=get("vehicle_price_fen"), vehicle_age_years=get("vehicle_age_years") or 0.0,
                   collateral_value_fen=get("collateral_value_fen"),
                   collateral_value_now_fen=get("collateral_value_now_fen"),
                   insurance_expires_on=get("insurance_expires_on"))


@dataclass(frozen=True, slots=True)
class Signals:
    """Vehicle and external signals of a loan on a date."""

    ltv_now: float
    excess_value_drop: float
    value_now_fen: int | None
    insurance_lapsed_days: int
    region_flag: StressFlag | None
    industry_flag: StressFlag | None


def loan_signals(facts: LoanFacts, b: Behaviour, flags: dict[tuple[str, str], StressFlag]) -> Signals:
    """The car's value against the debt and its expected path, insurance, and stress flags."""
    value = facts.collateral_value_now_fen
    age_now = facts.vehicle_age_years + (b.as_of - facts.disbursed_on).days / 365.25
    expected = expected_value_fen(facts.collateral_value_fen, facts.energy_type, facts.vehicle_age_years, age_now)
    ltv = b.outstanding_principal / value if value else 0.0
    drop = max(0.0, 1.0 - value / expected) if value and expected else 0.0
    lapsed = 0
    if facts.insurance_expires_on is not None and facts.insurance_expires_on < b.as_of and b.outstanding_principal:
        lapsed = (b.as_of - facts.insurance_expires_on).days
    return Signals(
        ltv_now=ltv, excess_value_drop=drop, value_now_fen=value, insurance_lapsed_days=lapsed,
        region_flag=flags.get(("region", facts.region or "")),
        industry_flag=flags.get(("industry", facts.industry or "")),
    )


def feature_vector(facts: LoanFacts, b: Behaviour, sig: Signals) -> list[float]:
    """The model's inputs, in :data:`FEATURES` order (scaled to comparable ranges, capped)."""
    return [
        min(b.dpd, 120) / 30, max(-60, min(60, b.dpd_trend)) / 30, min(b.max_dpd_12m, 120) / 30,
        float(b.missed_3m), float(b.partial_3m), float(b.missed_6m), float(b.partial_6m),
        float(min(b.consecutive_missed, 6)), max(0.0, min(1.0, 1.0 - b.paid_ratio_3m)),
        min(b.late_days_recent, 30.0) / 10, max(-30.0, min(30.0, b.lateness_drift)) / 10,
        min(sig.ltv_now, 2.0), min(sig.excess_value_drop, 1.0), 1.0 if sig.insurance_lapsed_days > 0 else 0.0,
        float(sig.region_flag.severity if sig.region_flag else 0), float(sig.industry_flag.severity if sig.industry_flag
                                                                         else 0),
        float(GRADE_ORDINAL.get(facts.grade or "", 2)), 1.0 if b.months_on_book < 18 else 0.0,
    ]
