"""Collection models: actions, payer segments, conduct violations, payer profiles, repayment options, plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field

from assistant.domain.money import Money, Rate


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


# --- conduct rules -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """A conduct rule a contact would break."""

    rule: str
    zh: str
    en: str


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


@dataclass(frozen=True)
class ContactStats:
    """What the contact history says: promises kept / broken, unanswered calls, refusals."""

    promises_kept: int = 0
    promises_broken: int = 0
    unanswered_streak: int = 0
    refusals: int = 0
    hardship_applied: bool = False


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
