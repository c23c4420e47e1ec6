"""Collection strategy and the conduct rules: each rule is proved here."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from assistant.errors import RuleViolation
from assistant.lifecycle.book import CHINA_TZ, LoanBook
from assistant.lifecycle.collections import (
    MAX_CALLS_PER_DAY,
    TEMPLATES,
    Action,
    CollectionDesk,
    ContactStats,
    Segment,
    actions_for,
    check_contact,
    mentions_debt,
    next_allowed,
    profile,
    render,
    threat_findings,
    within_contact_hours,
)
from assistant.storage.loans import CollectionContactRow
from tests.lifecycle.conftest import AS_OF, issue, pay_schedule
from tests.lifecycle.test_monitoring import CLEAN

CN = CHINA_TZ


def at(hour: int, minute: int = 0, day: int = 20) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CN)


# --- contact hours -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("moment", "allowed"), [
    (at(7, 59), False), (at(8, 0), True), (at(12, 30), True), (at(20, 59), True), (at(21, 0), False),
    (at(23, 30), False), (at(3, 0), False),
])
def test_contact_hours_are_8_to_21_china_time(moment: dt.datetime, allowed: bool) -> None:
    assert within_contact_hours(moment) is allowed
    rules = {v.rule for v in check_contact("call", "borrower", moment, [])}
    assert ("contact_hours" not in rules) is allowed


def test_contact_hours_use_china_time_not_utc() -> None:
    # 01:30 UTC is 09:30 in Beijing: allowed; 13:30 UTC is 21:30 in Beijing: not
    assert within_contact_hours(dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC))
    assert not within_contact_hours(dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC))


# --- frequency caps ------------------------------------------------------------------------------------
def test_at_most_three_calls_a_day() -> None:
    history = [("call", at(9)), ("call", at(11)), ("call", at(14))]
    assert MAX_CALLS_PER_DAY == 3
    assert {v.rule for v in check_contact("call", "borrower", at(16), history)} == {"call_cap"}
    assert check_contact("call", "borrower", at(16), history[:2]) == []
    assert check_contact("call", "borrower", at(9, day=21), history) == []  # a new day
    # yesterday's calls (China date) do not count: 22:00 UTC on the 19th is 06:00 on the 20th in Beijing
    assert check_contact("call", "borrower", at(10), [("call", dt.datetime(2026, 11, 19, 15, tzinfo=dt.UTC))] * 3) == []


def test_text_reminders_are_capped_too() -> None:
    history = [("sms", at(9)), ("app_push", at(10))]
    assert {v.rule for v in check_contact("wechat", "borrower", at(12), history)} == {"message_cap"}
    assert check_contact("call", "borrower", at(12), history) == []


def test_next_allowed_moves_into_the_window_and_past_the_cap() -> None:
    assert next_allowed("sms", [], at(22)) == at(8, day=21)
    assert next_allowed("sms", [], at(6)) == at(8)
    full = [("call", at(9)), ("call", at(10)), ("call", at(11))]
    assert next_allowed("call", full, at(12)) == at(8, day=21)


# --- no third parties ----------------------------------------------------------------------------------
@pytest.mark.parametrize("party", ["emergency_contact", "relative", "employer", "colleague"])
def test_no_collection_contact_with_third_parties(party: str) -> None:
    assert {v.rule for v in check_contact("call", party, at(10), [])} == {"third_party"}


def test_an_emergency_contact_may_only_be_asked_to_pass_on_a_call_back() -> None:
    locate = render("locate_request", name="张先生")
    assert not mentions_debt(locate)
    assert check_contact("call", "emergency_contact", at(10), [], locate, purpose="locate") == []
    leaky = "请转告张先生尽快还款，他的车贷已逾期"
    assert {v.rule for v in check_contact("call", "emergency_contact", at(10), [], leaky, purpose="locate")} == {
        "third_party"}


# --- no threats ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_is_free_of_threats(template: str, lang: str) -> None:
    text = render(template, lang, amount="1000.00", dpd=35, due_on="2026-12-15", options="展期", name="张先生")
    assert threat_findings(text) == []
    assert "{" not in text  # every placeholder filled


@pytest.mark.parametrize("text", [
    "再不还钱后果自负", "我们会上门找你", "我们将通知你的家人和单位", "把你曝光到网上", "已经报警，警察会来抓你",
    "小心我们拖走你的车", "你这个老赖", "把你拉进黑名单", "Pay now or else.", "We will tell your employer.",
])
def test_threats_are_caught(text: str) -> None:
    assert threat_findings(text)
    assert {v.rule for v in check_contact("sms", "borrower", at(10), [], text)} == {"no_threats"}


def test_the_legal_notice_states_real_consequences_without_threats() -> None:
    text = render("legal_notice", amount="15000.00", dpd=95)
    assert "依法" in text and "书面通知" in text and threat_findings(text) == []


# --- the desk refuses and logs nothing -----------------------------------------------------------------
def test_record_contact_enforces_the_rules(book: LoanBook) -> None:
    issue(book)
    desk = CollectionDesk(book)
    for hour in (9, 11, 14):
        desk.record_contact("L1", "call", at=at(hour), template="call_opening", outcome="no_answer")
    with pytest.raises(RuleViolation) as exc:
        desk.record_contact("L1", "call", at=at(16), template="call_opening")
    assert exc.value.field == "call_cap" and "3" in exc.value.zh
    with pytest.raises(RuleViolation):
        desk.record_contact("L1", "sms", at=at(22), template="reminder")
    with pytest.raises(RuleViolation):
        desk.record_contact("L1", "call", at=at(10, day=21), template="call_opening", party="relative")
    with pytest.raises(RuleViolation):
        desk.record_contact("L1", "sms", at=at(10, day=21), template="reminder", text="不还就后果自负")
    with book.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CollectionContactRow)) == 3


# --- strategy ------------------------------------------------------------------------------------------
def test_strategy_matrix() -> None:
    assert actions_for(10, Segment.WILLING_ABLE)[0] is Action.APP_PUSH
    assert actions_for(10, Segment.WILLING_UNABLE)[0] is Action.RESTRUCTURING
    assert actions_for(45, Segment.UNWILLING_ABLE)[0] is Action.HUMAN_COLLECTOR
    assert actions_for(120, Segment.UNWILLING_ABLE)[0] is Action.LEGAL
    # before acceleration is possible (3 missed instalments) there is no legal step at all
    assert Action.LEGAL not in actions_for(70, Segment.UNWILLING_ABLE)
    assert Action.LEGAL not in actions_for(70, Segment.UNWILLING_UNABLE)


@pytest.mark.parametrize(("words", "segment"), [
    ("不好意思忘了还，我马上还", Segment.WILLING_ABLE),
    ("下周发工资就还上", Segment.WILLING_ABLE),
    ("我失业了，想申请延期", Segment.WILLING_UNABLE),
    ("I lost my job, can I defer?", Segment.WILLING_UNABLE),
    ("不还了，随便你们", Segment.UNWILLING_ABLE),
])
def test_conversation_moves_the_segment(words: str, segment: Segment) -> None:
    b = dataclasses.replace(CLEAN, dpd=12, arrears=400_000)
    assert profile(b, None, ContactStats(), words).segment is segment


def test_history_moves_the_segment() -> None:
    b = dataclasses.replace(CLEAN, dpd=12, arrears=400_000)
    assert profile(b, None, ContactStats(promises_broken=2, unanswered_streak=6)).segment.value.startswith("unwilling")
    assert profile(b, None, ContactStats(promises_kept=2)).willingness > profile(b, None, ContactStats()).willingness


def test_plan_for_an_overdue_loan(book: LoanBook) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 10))  # November unpaid: 5 days past due
    desk = CollectionDesk(book)
    now = at(22)  # planned at night: every contact waits for the morning
    plan = desk.plan("L1", now=now, conversation="最近生意不好，收入下降了，想分期")
    assert plan.bucket == "M1" and plan.profile.segment is Segment.WILLING_UNABLE
    assert plan.actions[0].action is Action.RESTRUCTURING
    for step in plan.actions:
        assert within_contact_hours(step.scheduled_at) and step.scheduled_at >= now
        assert threat_findings(step.message_zh) == [] and threat_findings(step.message_en) == []
    priced = [o for o in plan.options if o.kind in ("extension", "deferral")]
    assert priced and all(o.apr is not None and o.apr_percent.endswith("%") for o in priced)
    assert any("征信" in c for c in plan.consequences_zh)
    assert desk.log_planned(plan)  # the planned contacts pass the same rules when logged


def test_a_hardship_application_pauses_collection(book: LoanBook) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 8))
    desk = CollectionDesk(book)
    desk.record_contact("L1", "call", at=at(10, day=18), template="call_opening", outcome="hardship_applied")
    plan = desk.plan("L1", now=at(10))
    assert plan.hardship_pause and [a.action for a in plan.actions] == [Action.RESTRUCTURING]


def test_promises_kept_and_broken_are_read_from_the_repayments(book: LoanBook) -> None:
    issue(book)
    pay_schedule(book, "L1", range(1, 9))
    desk = CollectionDesk(book)
    # promised on 16 Oct to pay by 20 Oct: October's instalment was paid on 15 Oct, before the promise —
    # nothing arrived in the promise window, so it is broken
    desk.record_contact("L1", "call", at=dt.datetime(2026, 10, 16, 10, tzinfo=CN), template="call_opening",
                        outcome="promise", promised_on=dt.date(2026, 10, 20), promised_amount=1000)
    with book.sessions() as s:
        led = book.load_ledgers(s, ["L1"])["L1"]
    assert desk.stats("L1", led, AS_OF).promises_broken == 1
