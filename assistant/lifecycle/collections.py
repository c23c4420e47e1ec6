"""Collection strategy: bucket (M0–M3+) × willingness / ability to pay → action, under conduct rules.

Conduct rules (knowledge_base/policies/collection-conduct.md; enforced here, proved in tests):

- contact only between 08:00 and 21:00 China time (a contact must *start* before 21:00);
- at most 3 calls a day to a borrower (every attempt counts), at most 2 text reminders a day;
- the debt is discussed with the borrower (and a co-borrower) only — never with relatives, colleagues,
  employers or emergency contacts; an emergency contact may only be asked to pass on a request to call
  back, in a message that says nothing about the debt;
- no threats, insults, impersonation of police / courts, or exposure of private life in any message:
  every template is checked by :func:`threat_findings`, and so is any free text before it is sent.

Willingness and ability come from the repayment history (on-time record, partial payments, promises
kept or broken, reachability) and from what the customer says in the chat ("下周发工资就还" vs "失业了"
vs "不还了"). The chat's repayment-trouble flow shows the *customer* side of a plan: empathy, real
options priced by the money core with their APR, and the real consequences for credit reporting.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from assistant.domain.apr import apr_irr
from assistant.domain.money import Money, Rate, fen, from_fen, percent_str
from assistant.domain.quote import MAX_TERM_MONTHS, quote
from assistant.errors import InvalidInput, RuleViolation
from assistant.lifecycle.book import CHINA_TZ, LoanBook, ppm_to_rate
from assistant.lifecycle.ledger import GRACE_DAYS, Behaviour, Ledger, bucket_of
from assistant.storage.loans import CollectionContactRow, LoanRow

HOTLINE = "400-800-0000"
CONTACT_START = dt.time(8, 0)
CONTACT_END = dt.time(21, 0)
MAX_CALLS_PER_DAY = 3
MAX_MESSAGES_PER_DAY = 2
TEXT_CHANNELS = frozenset({"sms", "app_push", "wechat"})
CHANNELS = TEXT_CHANNELS | {"call", "letter"}
DEBT_PARTIES = frozenset({"borrower", "co_borrower"})  # parties to the contract
PENALTY_MULTIPLIER = Decimal("1.5")  # overdue-consequences.md: penalty interest at 1.5× the contract rate
USED_CAR_MAX_TERM = 36


class Action(StrEnum):
    """What the lender does next."""

    SMS = "sms"
    APP_PUSH = "app_push"
    WECHAT = "wechat"
    CALL = "call"
    RESTRUCTURING = "restructuring_offer"
    HUMAN_COLLECTOR = "human_collector"
    LEGAL = "legal"


ACTION_ZH = {
    Action.SMS: "短信提醒", Action.APP_PUSH: "App推送提醒", Action.WECHAT: "微信提醒", Action.CALL: "电话沟通",
    Action.RESTRUCTURING: "提供还款计划调整（延期/展期/重组）", Action.HUMAN_COLLECTOR: "转专职催收专员",
    Action.LEGAL: "书面通知后依法处置（法务）",
}
# the channel through which an action first reaches the borrower, and its message template
ACTION_CONTACT: dict[Action, tuple[str, str]] = {
    Action.SMS: ("sms", "reminder"), Action.APP_PUSH: ("app_push", "reminder"), Action.WECHAT: ("wechat", "reminder"),
    Action.CALL: ("call", "call_opening"), Action.RESTRUCTURING: ("app_push", "restructuring_offer"),
    Action.HUMAN_COLLECTOR: ("call", "collector_intro"), Action.LEGAL: ("letter", "legal_notice"),
}


class Segment(StrEnum):
    """Willingness × ability to pay."""

    WILLING_ABLE = "willing_able"  # 愿还能还: forgot, short of cash for a few days
    WILLING_UNABLE = "willing_unable"  # 愿还难还: hardship — needs a plan, not pressure
    UNWILLING_ABLE = "unwilling_able"  # 能还不愿还
    UNWILLING_UNABLE = "unwilling_unable"  # 不愿还也难还


SEGMENT_ZH = {Segment.WILLING_ABLE: "有意愿、有能力", Segment.WILLING_UNABLE: "有意愿、暂时困难",
              Segment.UNWILLING_ABLE: "有能力、意愿低", Segment.UNWILLING_UNABLE: "意愿低、能力弱"}

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


# --- message templates (zh, en) — every one passes threat_findings(); tests prove it -----------------
TEMPLATES: dict[str, tuple[str, str]] = {
    "pre_due": (
        "【车贷服务】您好，您的车贷本期应还{amount}元，还款日为{due_on}。请在还款日前确保还款卡余额充足。"
        "如有困难，可在App“还款帮扶”申请或致电" + HOTLINE + "。",
        "Hello, your car-loan instalment of {amount} yuan is due on {due_on}. Please make sure the repayment card "
        "has enough balance. If you are having difficulty, apply for help in the app or call " + HOTLINE + ".",
    ),
    "reminder": (
        "【车贷服务】您好，您的车贷有{amount}元尚未还清（已过还款日{dpd}天）。还款日后3天内还清不计罚息、不报送征信；"
        "超过宽限期将按合同计收罚息并如实报送征信。如暂时有困难，请联系我们商量还款安排：" + HOTLINE + "。",
        "Hello, {amount} yuan of your car loan is unpaid ({dpd} days after the due date). Paid within 3 days of the "
        "due date there is no penalty and nothing is reported; after that, penalty interest applies under the "
        "contract and the arrears are reported to the credit bureau. If you are in difficulty, call us to agree "
        "a plan: " + HOTLINE + ".",
    ),
    "call_opening": (
        "您好，我是车贷服务中心的工作人员，工号{agent_id}，本次通话将被录音。请问是{name}本人吗？"
        "想和您确认一下车贷还款的情况，看看我们能怎么帮您。",
        "Hello, this is the car-loan service centre, staff number {agent_id}; this call is recorded. Am I speaking "
        "with {name}? I'd like to go over your car-loan repayments with you and see how we can help.",
    ),
    "restructuring_offer": (
        "【车贷服务】我们理解您目前的困难。您可以申请调整还款安排：{options}。提交完整申请后，审核期间暂停催收。"
        "详情请在App“还款帮扶”查看或致电" + HOTLINE + "，帮扶不收任何费用。",
        "We understand things are difficult right now. You can apply to change your repayment plan: {options}. "
        "Collection pauses while a complete application is reviewed. See 'repayment help' in the app or call "
        + HOTLINE + "; there is no fee.",
    ),
    "collector_intro": (
        "【车贷服务】您好，您的车贷已逾期{dpd}天，逾期金额{amount}元。专员（工号{agent_id}）将与您本人联系，"
        "协商可行的还款安排；通话全程录音，您可拨打" + HOTLINE + "核实专员身份。",
        "Hello, your car loan is {dpd} days overdue ({amount} yuan). A specialist (staff number {agent_id}) will "
        "contact you to agree a workable repayment plan; calls are recorded and you can verify the specialist "
        "at " + HOTLINE + ".",
    ),
    "legal_notice": (
        "【车贷服务】书面通知：您的车贷已逾期{dpd}天，逾期金额{amount}元。根据借款合同约定，连续逾期超过3期的，"
        "本公司有权宣布贷款提前到期，并依法主张权利（包括依法处置抵押车辆）。采取上述措施前，您仍可联系我们协商还款："
        + HOTLINE + "。如对本通知内容有异议，可通过同一电话或App提出。",
        "Written notice: your car loan is {dpd} days overdue ({amount} yuan). Under the loan contract, after more "
        "than 3 consecutive missed instalments the company may declare the loan due in full and pursue its rights "
        "as the law allows (including the sale of the mortgaged car). Before any such step you can still contact "
        "us to agree a repayment plan: " + HOTLINE + ". If you dispute this notice, tell us on the same number or "
        "in the app.",
    ),
    "locate_request": (
        # said to someone other than the borrower: nothing here may reveal that a loan or a debt exists
        "您好，这里是客户服务中心，我们需要与{name}取得联系，麻烦您方便时转告其回电" + HOTLINE + "，谢谢。",
        "Hello, this is the customer service centre. We would like to reach {name}; could you please ask them "
        "to call us back at " + HOTLINE + "? Thank you.",
    ),
}

_THREATS: tuple[tuple[str, str], ...] = (
    (r"后果自负|等着瞧|走着瞧|别怪我们|让你好看|不客气|最后通牒|你会后悔", "恐吓 / intimidation"),
    (r"上门|到你家|去你(家|单位|公司)|找到你(家|单位)", "上门威胁 / home or workplace visit threat"),
    (r"(通知|告诉|联系|打给|打电话给)你?的?(家人|父母|亲友|亲戚|朋友|同事|单位|领导|老板|公司|通讯录)",
     "第三方施压 / pressure through third parties"),
    (r"曝光|公开你|挂到网上|发到网上|通讯录|朋友圈", "曝光隐私 / exposure"),
    (r"公安|警察|报警抓|拘留|坐牢|刑事|抓你|抓人|逮捕|传票|法院已(立案|判决)|律师函已", "冒充公检法 / police or court "
     "impersonation"),
    (r"拖走|拖(你的)?车|暴力|弄死|打断|砸|全家", "暴力威胁 / violence"),
    (r"老赖|骗子|无赖|不要脸|垃圾", "侮辱 / insult"),
    (r"黑名单", "虚假后果 / false consequence"),
    (r"(?i)\bor else\b|come to your (home|house|work)|tell your (family|friends|employer|boss|colleagues)|"
     r"\bpolice\b|\bjail\b|\barrest|expose you|deadbeat|you'?ll regret|blacklist", "threat (English)"),
)
_DEBT_WORDS = re.compile(r"欠|逾期|还款|贷款|车贷|催收|债|罚息|征信|(?i:owe|debt|overdue|loan|arrears|repay)")


def threat_findings(text: str) -> list[str]:
    """The kinds of threatening or abusive language in ``text`` (empty list = clean)."""
    return [label for pattern, label in _THREATS if re.search(pattern, text)]


def mentions_debt(text: str) -> bool:
    """True if ``text`` says anything about a debt (forbidden in messages to third parties)."""
    return bool(_DEBT_WORDS.search(text))


def render(template: str, lang: str = "zh", **values: Any) -> str:
    """A message from a template; the result is checked for threats before it may be sent."""
    try:
        zh, en = TEMPLATES[template]
    except KeyError:
        raise InvalidInput(f"没有模板 {template}", f"no template {template}", field="template") from None
    defaults = {"agent_id": "（工号）" if lang == "zh" else "(staff no.)", "name": "您" if lang == "zh" else "you"}
    text = (zh if lang == "zh" else en).format(**{**defaults, **values})
    findings = threat_findings(text)
    if findings:
        raise RuleViolation("消息包含不当用语：" + "、".join(findings), "message contains forbidden language: "
                            + ", ".join(findings), field="template")
    return text


# --- conduct rules -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """A conduct rule a contact would break."""

    rule: str
    zh: str
    en: str


def local(at: dt.datetime) -> dt.datetime:
    """``at`` in China time (naive datetimes are taken as China time)."""
    return at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)


def within_contact_hours(at: dt.datetime) -> bool:
    """08:00 ≤ local time < 21:00."""
    t = local(at).time()
    return CONTACT_START <= t < CONTACT_END


def check_contact(channel: str, party: str, at: dt.datetime, history: list[tuple[str, dt.datetime]],
                  text: str | None = None, purpose: str = "collection") -> list[Violation]:
    """Every conduct rule a contact would break (empty = allowed). ``history``: (channel, at) already made."""
    if channel not in CHANNELS:
        raise InvalidInput(f"未知的联系渠道 {channel}", f"unknown channel {channel}", field="channel")
    out: list[Violation] = []
    if channel != "letter" and not within_contact_hours(at):
        out.append(Violation("contact_hours", "只能在每天8:00–21:00之间联系", "contact only between 08:00 and 21:00"))
    if party not in DEBT_PARTIES:
        if purpose != "locate":
            out.append(Violation("third_party", "不得向借款人以外的第三方催收或透露债务信息",
                                 "no collection contact with third parties about the debt"))
        elif text is None or mentions_debt(text):
            out.append(Violation("third_party", "联系紧急联系人只能请其转告回电，不得提及债务",
                                 "an emergency contact may only be asked to pass on a call-back request, "
                                 "without mentioning the debt"))
    day = local(at).date()
    today = [c for c, when in history if local(when).date() == day]
    if channel == "call" and sum(1 for c in today if c == "call") >= MAX_CALLS_PER_DAY:
        out.append(Violation("call_cap", f"每天主动电话不超过{MAX_CALLS_PER_DAY}次",
                             f"at most {MAX_CALLS_PER_DAY} calls a day"))
    if channel in TEXT_CHANNELS and sum(1 for c in today if c in TEXT_CHANNELS) >= MAX_MESSAGES_PER_DAY:
        out.append(Violation("message_cap", f"每天提醒消息不超过{MAX_MESSAGES_PER_DAY}条",
                             f"at most {MAX_MESSAGES_PER_DAY} reminder messages a day"))
    if text is not None:
        for finding in threat_findings(text):
            out.append(Violation("no_threats", f"消息含不当用语（{finding}）", f"message contains {finding}"))
    return out


def next_allowed(channel: str, history: list[tuple[str, dt.datetime]], now: dt.datetime) -> dt.datetime:
    """The earliest moment ≥ ``now`` at which a contact on ``channel`` keeps every time / frequency rule."""
    at = local(now)
    for _ in range(14):
        if channel != "letter" and at.time() < CONTACT_START:
            at = at.replace(hour=8, minute=0, second=0, microsecond=0)
        elif channel != "letter" and at.time() >= CONTACT_END:
            at = (at + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        if not check_contact(channel, "borrower", at, history):
            return at
        at = (at + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    raise RuleViolation("两周内找不到可联系的时间", "no allowed contact time within two weeks")


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


class Evidence(BaseModel):
    """One thing that moved the willingness / ability estimate."""

    zh: str
    en: str


class PayerProfile(BaseModel):
    """Willingness and ability to pay (0–1 each) and the segment they put the customer in."""

    willingness: float
    ability: float
    segment: Segment
    evidence: list[Evidence]


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


@dataclass(frozen=True)
class ContactStats:
    """What the contact history says: promises kept / broken, unanswered calls, refusals."""

    promises_kept: int = 0
    promises_broken: int = 0
    unanswered_streak: int = 0
    refusals: int = 0
    hardship_applied: bool = False


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


# --- options the customer can take (priced by the money core) -----------------------------------------
class RepaymentOption(BaseModel):
    """A way forward for an overdue or struggling customer, with its real cost."""

    kind: str  # pay_now | extension | deferral | hardship_application
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str
    monthly_payment: Money | None = None
    term_months: int | None = None
    total_interest: Money | None = None
    apr: Rate | None = None
    apr_percent: str | None = None


def contract_rate(loan: LoanRow) -> Decimal:
    """The rate a restructured plan is priced at: the nominal rate, or the true APR for flat-rate contracts."""
    return ppm_to_rate(loan.annual_rate_ppm) if loan.rate_type == "nominal" else ppm_to_rate(loan.apr_ppm)


def repayment_options(loan: LoanRow, b: Behaviour) -> list[RepaymentOption]:
    """Pay the arrears now, extend the term (展期), or defer three months (延期) — each with its APR."""
    rate = contract_rate(loan)
    options: list[RepaymentOption] = []
    arrears = from_fen(b.arrears)
    if b.arrears:
        options.append(RepaymentOption(
            kind="pay_now", title_zh="尽快还清逾期款", title_en="pay the arrears now",
            detail_zh=f"还清逾期的{arrears}元即可停止产生罚息；宽限期（还款日后3天）内还清不报送征信。",
            detail_en=f"Paying the {arrears} yuan overdue stops penalty interest; within the 3-day grace period "
                      "nothing is reported."))
    balance = from_fen(b.outstanding_principal) + arrears
    remaining = max(1, loan.term_months - b.periods_due)
    cap = USED_CAR_MAX_TERM if loan.vehicle_condition == "used" else MAX_TERM_MONTHS
    extra = min(12, cap - (b.months_on_book + remaining))
    if balance > 0 and extra >= 3:
        q = quote(fen(balance), rate, remaining + extra)
        options.append(RepaymentOption(
            kind="extension", title_zh=f"展期：延长{extra}个月、降低月供", title_en=f"extension: {extra} more months, "
                                                                                "lower payments",
            detail_zh=f"剩余本金连同逾期款{fen(balance)}元按{remaining + extra}期重新分期，月供约{q.monthly_payment}元"
                      f"（原月供{from_fen(loan.monthly_payment_fen)}元），总利息{q.total_interest}元，年化利率{percent_str(q.apr)}。"
                      "展期须在贷款到期前申请并经审核。",
            detail_en=f"The {fen(balance)} yuan left (arrears included) re-spread over {remaining + extra} months: "
                      f"about {q.monthly_payment} yuan a month (was {from_fen(loan.monthly_payment_fen)}), total "
                      f"interest {q.total_interest}, APR {percent_str(q.apr)}. Apply before the loan matures; "
                      "subject to review.",
            monthly_payment=q.monthly_payment, term_months=q.term_months, total_interest=q.total_interest, apr=q.apr,
            apr_percent=percent_str(q.apr)))
    if balance > 0 and remaining >= 3:
        options.append(_deferral(balance, rate, remaining))
    options.append(RepaymentOption(
        kind="hardship_application", title_zh="申请还款帮扶（重组/减免罚息）", title_en="apply for hardship help",
        detail_zh=f"因失业、疾病等原因暂时无法还款的，可在App“还款帮扶”或致电{HOTLINE}申请，准备困难证明；"
                  "审核期间（最长15个工作日）暂停催收，帮扶不收费。",
        detail_en=f"If job loss, illness or similar stops you paying, apply in the app or on {HOTLINE} with proof of "
                  "hardship; collection pauses during review (up to 15 working days); there is no fee."))
    return options


def _deferral(balance: Decimal, rate: Decimal, remaining: int) -> RepaymentOption:
    """Three months of interest only, then the balance re-spread over the remaining term (APR by IRR)."""
    months = 3
    interest_only = fen(balance * rate / 12)
    rest = quote(fen(balance), rate, remaining)
    flows = [interest_only] * months + [row.payment for row in rest.schedule]
    apr = apr_irr(fen(balance), flows)
    total_interest = interest_only * months + rest.total_interest
    return RepaymentOption(
        kind="deferral", title_zh="延期还款：3个月只付利息", title_en="deferral: 3 months of interest only",
        detail_zh=f"未来3个月每月只付利息约{interest_only}元，之后按{remaining}期每月约{rest.monthly_payment}元还款；"
                  f"延期期间利息照常计算，总利息约{total_interest}元，年化利率{percent_str(apr)}。",
        detail_en=f"Interest only, about {interest_only} yuan a month for 3 months, then about {rest.monthly_payment} "
                  f"yuan over {remaining} months; interest keeps running, total about {total_interest}, APR "
                  f"{percent_str(apr)}.",
        monthly_payment=interest_only, term_months=months + remaining, total_interest=total_interest, apr=apr,
        apr_percent=percent_str(apr))


def consequences(b: Behaviour, loan: LoanRow | None, lang: str = "zh") -> list[str]:
    """The real consequences at this point — facts, not threats (overdue-consequences.md, credit-reporting.md)."""
    return consequences_for(b.dpd, b.arrears, loan, lang)


def consequences_for(dpd: int, arrears_fen: int, loan: LoanRow | None, lang: str = "zh") -> list[str]:
    """Consequences for ``dpd`` days past due (penalty estimate when the loan and its arrears are known)."""
    zh, en = [], []
    if dpd <= 0:
        zh.append("按时还款会在征信上形成良好记录。")
        en.append("Paying on time builds a good credit record.")
    elif dpd <= GRACE_DAYS:
        zh.append(f"您仍在3天宽限期内（已过还款日{dpd}天）：宽限期内还清不收罚息，也不会作为逾期报送征信。")
        en.append(f"You are within the 3-day grace period ({dpd} days after the due date): pay by then and there is "
                  "no penalty and nothing is reported.")
    else:
        penalty = penalty_en = ""
        if loan is not None and arrears_fen:
            amount = fen(from_fen(arrears_fen) * contract_rate(loan) * PENALTY_MULTIPLIER / 360 * dpd)
            penalty, penalty_en = f"目前罚息约{amount}元；", f" Penalty interest so far is about {amount} yuan."
        zh.append(f"已逾期{dpd}天：逾期部分按合同利率的1.5倍按日计收罚息（{penalty}越早还清越少）。")
        en.append(f"{dpd} days overdue: penalty interest at 1.5× the contract rate accrues daily on the overdue "
                  f"amount.{penalty_en}")
        zh.append("逾期信息会如实报送人民银行征信系统，还清后不良记录仍保留5年，会影响今后申请房贷、车贷和信用卡。")
        en.append("The arrears are reported to the PBoC credit bureau; the record stays 5 years after it is cleared "
                  "and affects future mortgages, car loans and credit cards.")
        if dpd > 60:
            zh.append("连续逾期超过3期（或累计6期）的，按合同本公司有权宣布贷款提前到期、要求一次性还清，"
                      "并依法处置抵押车辆；处置前会书面通知您。")
            en.append("After more than 3 consecutive (or 6 in total) missed instalments the contract lets us "
                      "declare the whole loan due and, as the law allows, sell the mortgaged car — always after "
                      "written notice.")
    return zh if lang == "zh" else en


# --- the desk: plans and the contact log -------------------------------------------------------------
class PlannedAction(BaseModel):
    """A step of a collection plan, timed to respect the conduct rules."""

    action: Action
    action_zh: str
    channel: str
    template: str
    scheduled_at: dt.datetime
    message_zh: str
    message_en: str


class CollectionPlan(BaseModel):
    """What to do about an overdue (or about-to-be) loan."""

    loan_id: str
    dpd: int
    bucket: str
    in_grace: bool
    arrears: Money
    profile: PayerProfile
    actions: list[PlannedAction]
    options: list[RepaymentOption]
    consequences_zh: list[str]
    consequences_en: list[str]
    hardship_pause: bool = Field(description="a hardship application is under review: collection paused")


class CollectionDesk:
    """Collection plans and the contact log for a book."""

    def __init__(self, book: LoanBook, *, audit: Any = None) -> None:
        self.book = book
        self.audit = audit

    def history(self, loan_id: str, since: dt.datetime | None = None) -> list[CollectionContactRow]:
        """Contacts made on this loan (oldest first)."""
        with self.book.sessions() as s:
            q = select(CollectionContactRow).where(CollectionContactRow.loan_id == loan_id)
            if since is not None:
                q = q.where(CollectionContactRow.at >= since)
            return list(s.scalars(q.order_by(CollectionContactRow.at)))

    def record_contact(self, loan_id: str, channel: str, *, at: dt.datetime, template: str, party: str = "borrower",
                       text: str | None = None, purpose: str = "collection", outcome: str | None = None,
                       promised_on: dt.date | None = None, promised_amount: Decimal | None = None) -> int:
        """Log a contact — refused with RuleViolation if it would break a conduct rule (nothing is logged)."""
        self.book.get_loan(loan_id)
        if text is None and template in TEMPLATES:
            text = TEMPLATES[template][0]
        past = [(c.channel, c.at) for c in self.history(loan_id, since=local(at) - dt.timedelta(days=1))]
        violations = check_contact(channel, party, at, past, text, purpose)
        if violations:
            raise RuleViolation("该联系违反催收行为规范：" + "；".join(v.zh for v in violations),
                                "this contact breaks the collection conduct rules: "
                                + "; ".join(v.en for v in violations),
                                field=violations[0].rule)
        with self.book.sessions() as s:
            row = CollectionContactRow(loan_id=loan_id, channel=channel, party=party, at=local(at), template=template,
                                       outcome=outcome, promised_on=promised_on,
                                       promised_fen=int(promised_amount * 100) if promised_amount is not None else None)
            s.add(row)
            s.commit()
            contact_id = row.id
        if self.audit is not None:
            self.audit.record("collection_contact", None, {"loan_id": loan_id, "channel": channel, "party": party,
                                                           "template": template, "outcome": outcome})
        return contact_id

    def stats(self, loan_id: str, led: Ledger, as_of: dt.date) -> ContactStats:
        """Promises kept / broken (checked against the repayments), reachability, refusals, hardship."""
        kept = broken = streak = refusals = 0
        hardship = False
        for c in self.history(loan_id):
            day = local(c.at).date()
            if c.outcome == "no_answer":
                streak += 1
            elif c.outcome:
                streak = 0
            if c.outcome == "refused":
                refusals += 1
            if c.outcome == "hardship_applied" and (as_of - day).days <= 21:  # 15 working days ≈ 3 weeks
                hardship = True
            if c.outcome == "promise" and c.promised_on is not None and c.promised_on + dt.timedelta(days=2) < as_of:
                paid = led.paid_by(c.promised_on + dt.timedelta(days=2)) - led.paid_by(day - dt.timedelta(days=1))
                if paid >= (c.promised_fen or 1):
                    kept += 1
                else:
                    broken += 1
        return ContactStats(kept, broken, streak, refusals, hardship)

    def plan(self, loan_id: str, *, now: dt.datetime | None = None, conversation: str | None = None,
             stress: int = 0) -> CollectionPlan:
        """The collection plan for a loan right now: segment, timed actions, options, consequences."""
        moment = local(now or dt.datetime.now(CHINA_TZ))
        day = moment.date()
        loan = self.book.get_loan(loan_id)
        with self.book.sessions() as s:
            led = self.book.load_ledgers(s, [loan_id])[loan_id]
        b = led.behaviour(day, loan.disbursed_on)
        stats = self.stats(loan_id, led, day)
        prof = profile(b, led, stats, conversation, stress)
        history = [(c.channel, c.at) for c in self.history(loan_id, since=moment - dt.timedelta(days=1))]
        actions: list[PlannedAction] = []
        if stats.hardship_applied:
            chosen: list[Action] = [Action.RESTRUCTURING]  # 停催: only the hardship follow-up while it is reviewed
        elif b.dpd <= 0:
            due_soon = b.next_due_on is not None and (b.next_due_on - day).days <= 3
            chosen = ([Action.APP_PUSH] if due_soon else []) + (
                [Action.RESTRUCTURING] if prof.segment is Segment.WILLING_UNABLE else [])
        else:
            chosen = actions_for(b.dpd, prof.segment)
        options = repayment_options(loan, b)
        summary_zh = "；".join(o.title_zh for o in options if o.kind in ("extension", "deferral")) or "延期或展期"
        summary_en = ("; ".join(o.title_en for o in options if o.kind in ("extension", "deferral"))
                      or "deferral or extension")
        amount = from_fen(b.arrears) if b.arrears else from_fen(b.next_due_amount or 0)
        for action in chosen:
            channel, template = ACTION_CONTACT[action]
            if b.dpd <= 0 and template == "reminder":
                template = "pre_due"
            at = next_allowed(channel, history, moment)
            values = {"amount": amount, "dpd": b.dpd, "due_on": b.next_due_on}
            actions.append(PlannedAction(
                action=action, action_zh=ACTION_ZH[action], channel=channel, template=template, scheduled_at=at,
                message_zh=render(template, "zh", options=summary_zh, **values),
                message_en=render(template, "en", options=summary_en, **values)))
            history.append((channel, at))
        return CollectionPlan(
            loan_id=loan_id, dpd=b.dpd, bucket=b.bucket, in_grace=0 < b.dpd <= GRACE_DAYS, arrears=from_fen(b.arrears),
            profile=prof, actions=actions, options=options, consequences_zh=consequences(b, loan, "zh"),
            consequences_en=consequences(b, loan, "en"), hardship_pause=stats.hardship_applied)

    def log_planned(self, plan: CollectionPlan) -> list[int]:
        """Record the plan's contacts as made (each one re-checked against the rules)."""
        return [self.record_contact(plan.loan_id, a.channel, at=a.scheduled_at, template=a.template, text=a.message_zh)
                for a in plan.actions]

