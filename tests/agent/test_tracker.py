"""The offline command generator: what a message *does*, read in the light of the conversation.

Sentences here are the team's own (the realistic eval's conversations are never copied into tests or
training).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from assistant.agent.commands import (
    AddDebt,
    AnswerKnowledge,
    Clarify,
    Consent,
    CorrectSlot,
    ExcludeValue,
    SelectOffer,
    SetSlot,
    StartFlow,
)
from assistant.agent.types import SessionState
from tests.agent.conftest import offline_generator

OFFERS = [
    {"vehicle": {"brand": "丰田", "brand_en": "Toyota", "series": "卡罗拉"}, "monthly_payment": 2900.5,
     "vehicle_price": 120000, "down_payment": 36000, "loan_amount": 84000, "term_months": 36},
    {"vehicle": {"brand": "比亚迪", "brand_en": "BYD", "series": "秦PLUS"}, "monthly_payment": 2100.0,
     "vehicle_price": 99800, "down_payment": 29940, "loan_amount": 69860, "term_months": 36},
    {"vehicle": {"brand": "本田", "brand_en": "Honda", "series": "思域"}, "monthly_payment": 3300.0,
     "vehicle_price": 130000, "down_payment": 39000, "loan_amount": 91000, "term_months": 36},
]


def read(message: str, **state: Any) -> tuple[list[Any], str]:
    commands, intent, _ = offline_generator().generate(SessionState(session_id="t", **state), message)
    return commands, intent


def of(commands: list[Any], kind: type) -> list[Any]:
    return [c for c in commands if isinstance(c, kind)]


def slot(commands: list[Any], name: str) -> Any:
    values = [c.value for c in commands if isinstance(c, SetSlot) and c.slot == name]
    return values[-1] if values else None


@pytest.mark.parametrize(("message", "cap"), [
    ("预算12万左右，月供最好别超过2800", 2800),
    ("每个月还款压在三千以内", 3000),
    ("keep the monthly payment under 2500 please", 2500),
    ("月供两千五左右吧，最多不能超过两千八", 2800),  # the strict limit wins over the approximate one
])
def test_a_monthly_payment_cap_is_read_as_a_cap(message: str, cap: int):
    commands, _ = read(message)
    assert slot(commands, "max_monthly_payment") == cap
    assert slot(commands, "budget") != cap and slot(commands, "loan_amount") != cap


def test_income_said_with_一个月_is_not_a_cap():
    commands, _ = read("我在公司上班 一个月到手九千左右")
    assert slot(commands, "max_monthly_payment") is None
    assert slot(commands, "monthly_income") == 9000


@pytest.mark.parametrize(("message", "kind", "amount"), [
    ("每个月还着房贷四千", "mortgage", 4000),
    ("花呗每月要还一千二", "credit_card", 1200),
    ("I'm paying 2k a month on a personal loan", "online_loan", 2000),
    ("车贷还没还完 每月还一千八", "car_loan", 1800),  # 还没还完 is a running debt
])
def test_an_existing_debt_is_debt_service_not_a_loan(message: str, kind: str, amount: int):
    commands, _ = read(message)
    [debt] = of(commands, AddDebt)
    assert (debt.debt_kind, debt.monthly_payment) == (kind, amount)
    assert slot(commands, "loan_amount") is None and slot(commands, "budget") is None


def test_a_debt_paid_off_counts_zero():
    commands, _ = read("车贷上个月已经还清了", debts={"car_loan": 1800})
    [debt] = of(commands, AddDebt)
    assert debt.monthly_payment == 0


def test_income_beside_a_debt_stays_income():
    commands, _ = read("税后月入一万五 另外房贷每月还三千二")
    assert slot(commands, "monthly_income") == 15000
    [debt] = of(commands, AddDebt)
    assert debt.monthly_payment == 3200


def test_a_price_range_gives_both_ends():
    commands, _ = read("二十三四万的SUV有吗")
    assert slot(commands, "budget") == 240000 and slot(commands, "budget_min") == 230000


@pytest.mark.parametrize(("message", "expected"), [
    ("第三个方案的月供是多少", {"rank": 3, "ask": "monthly_payment"}),
    ("要便宜点的那个", {"cheapest": True}),
    ("the second option looks good", {"rank": 2}),
    ("那台本田的呢", {"brand": "本田"}),
])
def test_a_reference_to_a_shown_offer(message: str, expected: dict[str, Any]):
    commands, _ = read(message, last_offers=OFFERS, flow="car_recommendation", last_intent="car_recommendation")
    [ref] = of(commands, SelectOffer)
    for key, value in expected.items():
        assert getattr(ref, key) == value
    assert not of(commands, StartFlow)


def test_a_reference_with_nothing_shown_asks_back():
    commands, _ = read("就第二个吧")
    assert of(commands, Clarify) and not of(commands, SelectOffer)


def test_an_ordinal_that_is_not_an_offer_is_not_a_reference():
    commands, _ = read("第一受益人必须写贷款公司吗", last_offers=OFFERS)
    assert not of(commands, SelectOffer)


def test_a_relative_edit_is_a_delta_of_the_named_fact():
    commands, _ = read("首付再多付两万", flow="payment_calculation", slots={"vehicle_price": 200000,
                                                                       "down_payment": 60000})
    [edit] = of(commands, CorrectSlot)
    assert (edit.slot, edit.delta) == ("down_payment", 20000)


def test_a_negation_rules_the_value_out():
    commands, _ = read("纯电的不考虑了 续航焦虑", flow="car_recommendation", slots={"budget": 150000})
    assert ExcludeValue(slot="energy_type", value="bev") in commands
    assert slot(commands, "energy_type") != "bev"


def test_a_rule_question_is_answered_not_assessed():
    commands, _ = read("有过信用卡逾期还能申请车贷吗")
    assert of(commands, AnswerKnowledge)
    assert not any(isinstance(c, StartFlow) and c.flow == "eligibility_check" for c in commands)
    assert slot(commands, "has_delinquency") is True


def test_an_explicit_request_to_be_assessed_starts_the_assessment():
    _, intent = read("那帮我评估一下吧，车价15万贷10万分三年")
    assert intent == "eligibility_check"


def test_natural_consent_carries_the_facts_said_with_it():
    commands, _ = read("行，月入八千，你评吧", awaiting_consent=True, flow="eligibility_check")
    assert commands[0] == Consent(given=True)
    assert slot(commands, "monthly_income") == 8000
    declined, _ = read("不同意", awaiting_consent=True, flow="eligibility_check")
    assert declined == [Consent(given=False)]


def test_two_questions_in_one_message_are_two_questions():
    commands, _ = read("提前还款收违约金吗？还有GPS必须装吗")
    [answer] = of(commands, AnswerKnowledge)
    assert len(answer.questions) == 2


def test_keyboard_noise_asks_what_was_meant():
    commands, _ = read("啊啊啊？？zzzz")
    assert of(commands, Clarify)


# ---------------------------------------------------------------------------------------------- end to end
def test_every_offer_honours_the_cap_and_the_debts(chat):
    first = chat.handle("月薪一万二，每月还房贷四千，想买15万左右的车，月供别超过2500")
    state = chat.state(first.session_id)
    assert state.slots["max_monthly_payment"] == 2500 and state.slots["monthly_debt_payments"] == 4000
    match = next(c for c in first.tool_calls if c.name == "match_offers")
    assert match.arguments["monthly_debt_payments"] == 4000 and match.arguments["monthly_income"] == 12000
    assert first.offers
    for offer in first.offers:
        payment = Decimal(str(offer["monthly_payment"]))
        assert payment <= 2500 and payment + 4000 <= Decimal("6000")

    # A second debt adds to the first; the list is matched again.
    second = chat.handle("对了还有个网贷每月还一千", first.session_id)
    assert chat.state(first.session_id).slots["monthly_debt_payments"] == 5000
    assert any(c.name == "match_offers" and c.arguments["monthly_debt_payments"] == 5000 for c in second.tool_calls)


def test_a_new_goal_does_not_inherit_an_old_calculations_price(chat):
    first = chat.handle("车价25万首付三成分36期月供多少")
    assert first.quote
    second = chat.handle("算了，帮我推荐10万以内的车吧", first.session_id)
    state = chat.state(first.session_id)
    assert "vehicle_price" not in state.slots and state.slots["budget"] == 100000
    assert second.offers and all(float(o["vehicle_price"]) <= 100000 for o in second.offers)
    assert "不再" in second.reply  # the assistant says what it dropped


def test_what_about_another_amount_changes_the_fact_it_can_be():
    state = {"flow": "car_recommendation", "slots": {"budget": 200000, "max_monthly_payment": 2500},
             "last_slots": ["budget", "max_monthly_payment"]}
    commands, _ = read("那三千呢", **state)
    assert [(c.slot, c.value) for c in of(commands, CorrectSlot)] == [("max_monthly_payment", 3000)]
    commands, _ = read("那18万呢", **state)  # no monthly payment is 18万: it is the budget
    assert [(c.slot, c.value) for c in of(commands, CorrectSlot)] == [("budget", 180000)]


@pytest.mark.parametrize("message", [
    "车价12万 首付15万 分三年",  # a down payment above the price
    "我月薪六千 年薪五十万",  # a monthly and an annual income that disagree
    "零首付 首付先付两万 车价10万",  # no down payment, and a down payment
])
def test_contradictory_facts_are_asked_back(message: str):
    commands, _ = read(message)
    assert of(commands, Clarify)
    # The goal may be noted so that the answer carries it on, but it is the only flow named: nothing else runs.
    assert len(of(commands, StartFlow)) <= 1


def test_the_undisputed_facts_of_a_contradiction_are_kept():
    commands, _ = read("车价12万 零首付 首付先交两万 分两年")
    assert slot(commands, "vehicle_price") == 120000 and slot(commands, "term_months") == 24
    assert slot(commands, "down_payment") is None


def test_annual_income_is_divided_into_monthly():
    commands, _ = read("年薪30万 想买辆车")
    assert slot(commands, "monthly_income") == 25000


@pytest.mark.parametrize(("message", "months"), [("期限也改成48吧", 48), ("年限改成3年", 36), ("期数换成60期", 60)])
def test_a_named_term_with_a_new_figure_is_the_term(message: str, months: int):
    commands, _ = read(message, slots={"loan_amount": 100000, "term_months": 24})
    assert slot(commands, "term_months") == months
    assert slot(commands, "quoted_rate") is None


def test_a_cap_said_right_after_its_cue_holds_before_a_car_word():
    commands, _ = read("有月供一千五以内的轿车吗")
    assert slot(commands, "max_monthly_payment") == 1500 and slot(commands, "budget") is None


@pytest.mark.parametrize("message", ["we can afford 2500 a month", "i can only do 1800 per month"])
def test_what_a_customer_can_afford_a_month_is_a_cap(message: str):
    commands, _ = read(message)
    assert slot(commands, "max_monthly_payment") in (2500, 1800)


def test_a_ride_hailing_drivers_takings_are_income():
    commands, _ = read("开网约车的 一个月能跑九千多")
    assert slot(commands, "monthly_income") == 9000 and slot(commands, "budget") is None


def test_the_condition_compared_with_is_not_the_car_asked_about():
    commands, _ = read("准新车贷款利率会比新车贵吗")
    assert slot(commands, "vehicle_condition") == "used"
    commands, _ = read("looking at a new suv around 200k")
    assert slot(commands, "vehicle_condition") == "new" and slot(commands, "body_type") == "suv"


def test_a_term_settled_on_with_a_trailing_just_is_the_term():
    commands, _ = read("期限缩短点 三年就够", slots={"loan_amount": 100000, "term_months": 60})
    assert slot(commands, "term_months") == 36


def test_cant_without_an_apostrophe_still_caps():
    commands, _ = read("sedan under 180k, cant pay more than 3.5k a month")
    assert slot(commands, "max_monthly_payment") == 3500


def test_any_monthly_payment_is_fine_lifts_the_cap():
    commands, _ = read("换个思路 预算25万 月供多少都可以", slots={"max_monthly_payment": 1500},
                       last_intent="car_recommendation")
    assert any(getattr(c, "kind", "") == "clear_slot" and c.slot == "max_monthly_payment" for c in commands)
    assert slot(commands, "max_monthly_payment") is None


def test_relaxing_the_cap_sets_the_new_one():
    commands, _ = read("那就放到四千", slots={"max_monthly_payment": 1200}, last_intent="car_recommendation")
    assert slot(commands, "max_monthly_payment") == 4000


def test_an_edit_with_a_rule_asked_beside_it_does_both():
    commands, intent = read("首付改成8万呢 提前结清的话违约金怎么算",
                            slots={"vehicle_price": 200000, "down_payment": 60000, "term_months": 36},
                            last_intent="payment_calculation")
    assert intent == "payment_calculation"
    assert any(isinstance(c, CorrectSlot | SetSlot) and c.slot == "down_payment" and c.value == 80000
               for c in commands)
    assert [q for c in of(commands, AnswerKnowledge) for q in c.questions] == ["提前结清的话违约金怎么算"]
