"""The early-warning rule triggers of a loan, each with the warning level it alone justifies."""

from __future__ import annotations

from pydantic import BaseModel

from assistant.domain.money import from_fen
from assistant.lifecycle.ledger import Behaviour
from assistant.lifecycle.warning_facts import INDUSTRY_ZH, Signals


# --- rules -------------------------------------------------------------------------------------------
class Reason(BaseModel):
    """Why a loan is flagged."""

    code: str
    level: int
    zh: str
    en: str


def rule_reasons(b: Behaviour, sig: Signals) -> list[Reason]:
    """The rule triggers of a loan, each with the level it alone justifies."""
    out: list[Reason] = []
    if b.dpd > 60:
        out.append(Reason(code="dpd_60", level=3, zh=f"已逾期{b.dpd}天（M3+）", en=f"{b.dpd} days past due (M3+)"))
    elif b.dpd > 30:
        out.append(Reason(code="dpd_30", level=2, zh=f"已逾期{b.dpd}天（M2）", en=f"{b.dpd} days past due (M2)"))
    elif b.dpd > 3:
        out.append(Reason(code="dpd_grace", level=1, zh=f"已逾期{b.dpd}天，超过3天宽限期",
                          en=f"{b.dpd} days past due, beyond the 3-day grace period"))
    if b.consecutive_missed >= 2:
        out.append(Reason(code="consecutive_missed", level=3, zh=f"连续{b.consecutive_missed}期未还款",
                          en=f"{b.consecutive_missed} instalments in a row with no payment"))
    elif b.missed_6m >= 2:
        out.append(Reason(code="missed_6m", level=2, zh=f"近6个月有{b.missed_6m}期未还款",
                          en=f"{b.missed_6m} instalments with no payment in 6 months"))
    elif b.missed_3m == 1:
        out.append(Reason(code="missed_3m", level=1, zh="近3个月有1期未按时还款",
                          en="one instalment missed in 3 months"))
    if b.partial_3m >= 2:
        out.append(Reason(code="partial_3m", level=2, zh=f"近3个月{b.partial_3m}次只还了部分金额",
                          en=f"{b.partial_3m} partial payments in 3 months"))
    elif b.partial_3m == 1:
        out.append(Reason(code="partial_1", level=1, zh="近3个月有1次只还了部分金额",
                          en="one partial payment in 3 months"))
    if b.dpd > 3 and b.dpd_trend > 0 and b.dpd_30d_ago > 0:
        out.append(Reason(code="dpd_rising", level=2, zh=f"逾期天数仍在上升（30天前{b.dpd_30d_ago}天）",
                          en=f"days past due still rising (was {b.dpd_30d_ago} 30 days ago)"))
    if b.lateness_drift >= 4 and b.late_days_recent >= 4:
        out.append(Reason(code="lateness_drift", level=1,
                          zh=f"还款明显推迟：近3期平均晚{b.late_days_recent:.0f}天（此前{b.late_days_before:.0f}天）",
                          en=f"paying later: last 3 instalments {b.late_days_recent:.0f} days late on average "
                             f"(before: {b.late_days_before:.0f})"))
    out.extend(_asset_reasons(b, sig))
    behaviour_signal = any(r.code not in ("underwater", "value_drop") for r in out)
    for flag in (sig.region_flag, sig.industry_flag):
        if flag is None:
            continue
        name = INDUSTRY_ZH.get(flag.key, flag.key)
        out.append(Reason(
            code=f"{flag.kind}_stress", level=2 if behaviour_signal else 0,
            zh=f"{'地区' if flag.kind == 'region' else '行业'}风险预警（{name}）：{flag.reason_zh}",
            en=f"{flag.kind} stress flag ({flag.key}): {flag.reason_en}"))
    return out


def _asset_reasons(b: Behaviour, sig: Signals) -> list[Reason]:
    """Triggers from the car and its cover: under water, an excess value drop, lapsed insurance."""
    out: list[Reason] = []
    if sig.ltv_now >= 1.0 and sig.value_now_fen:
        out.append(Reason(code="underwater", level=1,
                          zh=f"车辆估值{from_fen(sig.value_now_fen)}元已低于剩余本金{from_fen(b.outstanding_principal)}元",
                          en=f"car valued at {from_fen(sig.value_now_fen)} yuan, below the "
                             f"{from_fen(b.outstanding_principal)} yuan still owed"))
    if sig.excess_value_drop >= 0.2:
        out.append(Reason(code="value_drop", level=1,
                          zh=f"车辆估值比正常折旧多下跌{sig.excess_value_drop:.0%}",
                          en=f"car value {sig.excess_value_drop:.0%} below its normal depreciation path"))
    if sig.insurance_lapsed_days > 0:
        level = 2 if b.arrears > 0 or b.partial_3m or b.missed_3m else 1
        out.append(Reason(code="insurance_lapsed", level=level, zh=f"车险已过期{sig.insurance_lapsed_days}天未续保",
                          en=f"car insurance lapsed {sig.insurance_lapsed_days} days ago"))
    return out
