"""Conduct rules for contacting a borrower: hours, daily caps, who may be told about the debt."""

from __future__ import annotations

import datetime as dt

from assistant.errors import InvalidInput, RuleViolation
from assistant.lifecycle.book import CHINA_TZ
from assistant.lifecycle.collections.messages import mentions_debt, threat_findings
from assistant.lifecycle.collections.models import Violation

CONTACT_START = dt.time(8, 0)
CONTACT_END = dt.time(21, 0)
MAX_CALLS_PER_DAY = 3
MAX_MESSAGES_PER_DAY = 2
TEXT_CHANNELS = frozenset({"sms", "app_push", "wechat"})
CHANNELS = TEXT_CHANNELS | {"call", "letter"}
DEBT_PARTIES = frozenset({"borrower", "co_borrower"})  # parties to the contract


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
