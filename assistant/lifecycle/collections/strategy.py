"""Willingness and ability to pay (history, contacts, the customer's words) and the action they call for."""

from __future__ import annotations

import re

from assistant.lifecycle.collections.models import Action, ContactStats, Evidence, PayerProfile, Segment
from assistant.lifecycle.ledger import GRACE_DAYS, Behaviour, Ledger, bucket_of

_WA, _WU, _UA, _UU = Segment.WILLING_ABLE, Segment.WILLING_UNABLE, Segment.UNWILLING_ABLE, Segment.UNWILLING_UNABLE
STRATEGY: dict[str, dict[Segment, tuple[Action, ...]]] = {
    "M0": {_WA: (Action.APP_PUSH,), _WU: (Action.APP_PUSH, Action.RESTRUCTURING),
           _UA: (Action.SMS, Action.CALL), _UU: (Action.SMS, Action.RESTRUCTURING)},
    "M1": {_WA: (Action.APP_PUSH, Action.SMS), _WU: (Action.RESTRUCTURING, Action.CALL),
           _UA: (Action.CALL, Action.SMS), _UU: (Action.CALL, Action.RESTRUCTURING)},
    "M2": {_WA: (Action.CALL, Action.WECHAT), _WU: (Action.RESTRUCTURING, Action.CALL),
           Segment.UNWILLING_ABLE: (Action.HUMAN_COLLECTOR, Action.CALL),
           Segment.UNWILLING_UNABLE: (Action.HUMAN_COLLECTOR, Action.RESTRUCTURING)},
    "M3+": {Segment.WILLING_ABLE: (Action.CALL, Action.RESTRUCTURING),
            Segment.WILLING_UNABLE: (Action.RESTRUCTURING, Action.HUMAN_COLLECTOR),
            Segment.UNWILLING_ABLE: (Action.LEGAL, Action.HUMAN_COLLECTOR),
            Segment.UNWILLING_UNABLE: (Action.HUMAN_COLLECTOR, Action.LEGAL)},
}
LEGAL_MIN_DPD = 90  # acceleration needs 3+ consecutive missed instalments (overdue-consequences.md)


# --- willingness / ability ---------------------------------------------------------------------------
_SAYS: tuple[tuple[str, float, float, str, str], ...] = (
    # pattern, Δwillingness, Δability, evidence zh, en
    (r"(不还|不想还|不打算还|不会还|爱咋咋|随便你们|告我吧|起诉我吧|没钱也不还|就是不给)|"
     r"(?i:won'?t pay|not going to pay|refuse to pay|sue me)", -0.6, 0.0, "表示不愿还款", "says they will not pay"),
    (r"(会还|一定还|尽快还|马上还|想办法|争取|肯定还|补上)|(?i:will pay|pay (it )?back|sort it out)",
     0.3, 0.0, "表示愿意还款", "says they want to pay"),
    (r"(发工资|工资下来|月底|下周|过几天|周转一下).{0,8}(还|有钱|补)|(?i:payday|next week|in a few days)",
     0.2, 0.25, "短期资金周转，预计近期可还", "short of cash for a few days"),
    (r"(失业|裁员|没工作|被辞|生病|住院|手术|生意(亏|失败|不好|黄)|倒闭|破产|降薪|收入(减少|下降|没了)|欠薪|拖欠工资|没收入)|"
     r"(?i:lost my job|laid off|unemployed|in hospital|business failed|no income|pay cut)",
     0.0, -0.45, "收入中断或下降", "income lost or reduced"),
    (r"(忘了|忘记|没注意|扣款失败|换了?卡|卡里没钱)|(?i:forgot|card (changed|declined)|debit failed)",
     0.2, 0.3, "忘记还款或扣款失败", "forgot, or the debit failed"),
    (r"(延期|分期|展期|缓一缓|减免|少还点|协商|调整)|(?i:defer|extend|reschedule|lower payment)",
     0.15, -0.15, "希望调整还款计划", "asks for a different plan"),
)


def conversation_evidence(text: str | None) -> tuple[float, float, list[Evidence]]:
    """What the customer's own words say about willingness and ability."""
    if not text:
        return 0.0, 0.0, []
    dw = da = 0.0
    found: list[Evidence] = []
    for pattern, w, a, zh, en in _SAYS:
        if re.search(pattern, text):
            dw, da = dw + w, da + a
            found.append(Evidence(zh=f"对话：{zh}", en=f"conversation: {en}"))
    return dw, da, found


def profile(b: Behaviour, led: Ledger | None, stats: ContactStats, conversation: str | None = None,
            stress: int = 0) -> PayerProfile:
    """Estimate willingness and ability from history, contacts, outside stress and the conversation."""
    w, a = 0.6, 0.6
    ev: list[Evidence] = []
    if led is not None and b.periods_due:
        recent = range(max(0, b.periods_due - 12), b.periods_due)
        on_time = sum(1 for i in recent if led.lateness(i, b.as_of) <= GRACE_DAYS) / len(recent)
        w += 0.4 * (on_time - 0.7)
        ev.append(Evidence(zh=f"近{len(recent)}期按时还款{on_time:.0%}", en=f"{on_time:.0%} of the last "
                                                                             f"{len(recent)} instalments on time"))
    if b.partial_3m:
        w, a = w + 0.1, a - 0.2
        ev.append(Evidence(zh="近期有部分还款（有意愿、能力受限）",
                           en="recent partial payments (willing, limited means)"))
    if stats.promises_kept:
        w += min(0.3, 0.15 * stats.promises_kept)
        ev.append(Evidence(zh=f"兑现还款承诺{stats.promises_kept}次", en=f"{stats.promises_kept} promises kept"))
    if stats.promises_broken:
        w -= min(0.5, 0.2 * stats.promises_broken)
        ev.append(Evidence(zh=f"未兑现还款承诺{stats.promises_broken}次",
                           en=f"{stats.promises_broken} promises broken"))
    if stats.unanswered_streak >= 5:
        w -= 0.2
        ev.append(Evidence(zh=f"连续{stats.unanswered_streak}次联系未接通", en=f"{stats.unanswered_streak} contacts "
                                                                           "unanswered in a row"))
    if stats.refusals:
        w -= 0.3
        ev.append(Evidence(zh="曾明确拒绝还款", en="has refused to pay"))
    if stats.hardship_applied:
        w += 0.2
        ev.append(Evidence(zh="已申请还款帮扶", en="has applied for hardship help"))
    if stress:
        a -= 0.15 * stress
        ev.append(Evidence(zh="所在地区/行业有风险预警", en="region or industry under a stress flag"))
    dw, da, said = conversation_evidence(conversation)
    w, a = w + dw, a + da
    ev.extend(said)
    w, a = max(0.0, min(1.0, w)), max(0.0, min(1.0, a))
    segment = Segment(("willing" if w >= 0.5 else "unwilling") + "_" + ("able" if a >= 0.5 else "unable"))
    return PayerProfile(willingness=round(w, 2), ability=round(a, 2), segment=segment, evidence=ev)


def actions_for(dpd: int, segment: Segment) -> list[Action]:
    """The strategy matrix, with legal action only once the contract allows acceleration."""
    actions = list(STRATEGY[bucket_of(dpd)][segment])
    if dpd < LEGAL_MIN_DPD:
        actions = [Action.HUMAN_COLLECTOR if x is Action.LEGAL else x for x in actions]
    return list(dict.fromkeys(actions))


def action_for_warning(b: Behaviour, level: int) -> str:
    """The first step for a warned loan from behaviour alone (the monitor's suggestion on the dashboard)."""
    if b.dpd <= 0:
        # not yet overdue: care, not collection — a reminder before the next due date, or a hardship offer
        return Action.RESTRUCTURING.value if level >= 2 and (b.partial_3m or b.missed_3m) else Action.APP_PUSH.value
    willing = b.partial_3m > 0 or b.paid_ratio_3m >= 0.5
    segment = Segment.WILLING_UNABLE if willing and (b.partial_3m or b.missed_3m) else (
        Segment.WILLING_ABLE if willing else Segment.UNWILLING_UNABLE if b.consecutive_missed >= 2
        else Segment.UNWILLING_ABLE)
    return actions_for(b.dpd, segment)[0].value
