"""The offline engine through the chat service: bad input, unknown sessions, corrections, digressions,
"what did we say so far", consent before scoring. No model server is configured here."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.agent.facts import slot_value_text
from assistant.agent.guard import check_text
from assistant.errors import InvalidInput, NotFound
from tests.conftest import talk

RECOMMEND = "预算15万左右，想买台SUV，首付三成分3年"


def tool_names(turn: Any) -> list[str]:
    return [call.name for call in turn.tool_calls]


# ---------------------------------------------------------------------------------------------- bad input
BAD_MESSAGES = [
    pytest.param("", id="empty"),
    pytest.param("   \n\t ", id="whitespace"),
    pytest.param("\x00\x01\x02\x7f", id="control-chars"),
    pytest.param("我想买车" * 5000, id="20000-chars"),
    pytest.param("x" * 20_000, id="20000-latin"),
    pytest.param(b"\xff\xfe\x00\x01binary", id="bytes"),
    pytest.param(123, id="int"),
    pytest.param(12.5, id="float"),
    pytest.param(None, id="none"),
    pytest.param(True, id="bool"),
    pytest.param(["你好"], id="list"),
    pytest.param({"text": "你好"}, id="dict"),
]


@pytest.mark.parametrize("message", BAD_MESSAGES)
def test_bad_messages_are_a_clear_error_on_a_new_session(chat, message):
    with pytest.raises(InvalidInput) as info:
        chat.handle(message)
    assert info.value.field == "message"
    assert info.value.zh and info.value.en


@pytest.mark.parametrize("message", BAD_MESSAGES)
def test_bad_messages_leave_an_existing_session_untouched(chat, message):
    [first] = talk(chat, RECOMMEND)
    before_state = chat.state(first.session_id).model_dump()
    before_transcript = chat.transcript(first.session_id)
    with pytest.raises(InvalidInput):
        chat.handle(message, first.session_id)
    assert chat.state(first.session_id).model_dump() == before_state
    assert chat.transcript(first.session_id) == before_transcript
    # …and the conversation goes on.
    after = chat.handle("我们刚才说了什么", first.session_id)
    assert after.slots["budget"] == 150000


@pytest.mark.parametrize("message", ["😀😀👍", "🚗💨💨", "？？？！！！", "……", "🙂 🙃 🙂"])
def test_emoji_or_symbols_only_get_a_clarifying_reply_and_are_kept(chat, message):
    turn = chat.handle(message)
    assert turn.reply.strip()
    assert not turn.tool_calls and not turn.handoff
    customer = [m["text"] for m in chat.transcript(turn.session_id) if m["role"] == "customer"]
    assert customer == [message]


def test_a_binary_blob_decoded_as_text_is_not_a_crash(chat):
    # What arrives when a client sends raw bytes through a lenient decoder: lone surrogates, U+FFFD.
    blob = b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8".decode("utf-8", errors="surrogateescape")
    try:
        turn = chat.handle(blob)
    except InvalidInput:
        return
    assert turn.reply.strip()
    assert chat.transcript(turn.session_id)


def test_a_message_at_the_length_limit_is_answered(chat, settings):
    text = ("我想买车，" * 1000)[: settings.max_message_chars]
    turn = chat.handle(text)
    assert turn.reply.strip()


def test_bad_input_over_http_is_a_4xx_with_a_bilingual_error(client):
    for body in ({"message": 123}, {"message": ""}, {"message": "好" * 20_000}, {"message": ["x"]}, {}):
        response = client.post("/v1/chat", json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        error = response.json()["error"]
        assert error["code"] and error["message"]


def test_binary_json_string_over_http_is_not_a_500(client):
    response = client.post("/v1/chat", content=b'{"message": "\\udcff\\ud800\\u0000"}',
                           headers={"content-type": "application/json"})
    assert response.status_code < 500
    response = client.post("/v1/chat", content=b"\xff\xfe\x00garbage", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------------------------------------- sessions
def test_an_unknown_session_id_is_not_found(chat):
    with pytest.raises(NotFound):
        chat.handle("你好", "no-such-session")
    with pytest.raises(NotFound):
        chat.state("no-such-session")
    with pytest.raises(NotFound):
        chat.transcript("no-such-session")


def test_an_unknown_session_id_over_http_is_a_404(client):
    response = client.post("/v1/chat", json={"message": "你好", "session_id": "no-such-session"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get("/v1/chat/no-such-session").status_code == 404


def test_the_session_carries_slots_between_turns(chat):
    first, second = talk(chat, "想买台SUV", "预算15万")
    assert second.session_id == first.session_id
    assert second.slots["body_type"] == "suv" and second.slots["budget"] == 150000
    assert len(chat.transcript(first.session_id)) == 4


# ---------------------------------------------------------------------------------------------- recommendation
def test_one_shot_recommendation_gives_offers_with_apr(chat):
    [turn] = talk(chat, RECOMMEND)
    assert turn.intent == "car_recommendation"
    assert tool_names(turn) == ["match_offers"]
    assert {"budget": 150000, "body_type": "suv", "down_payment_ratio": 0.3, "term_months": 36}.items() <= \
        turn.slots.items()
    assert 1 <= len(turn.offers) <= 3
    for offer in turn.offers:
        assert offer["vehicle"]["body_type"] == "suv"
        assert offer["term_months"] == 36
        assert 0 < offer["apr"] < 0.24
    assert "年化" in turn.reply


def test_gathered_recommendation_asks_one_question_at_a_time(chat):
    ask, budget, body = talk(chat, "我想买台车", "15万左右", "要SUV")
    assert ask.intent == "car_recommendation"
    assert not ask.tool_calls and "预算" in ask.reply
    assert budget.intent == "car_recommendation"
    assert budget.slots["budget"] == 150000
    assert "match_offers" in tool_names(budget) and budget.offers
    assert body.slots == {**budget.slots, "body_type": "suv"}
    assert "match_offers" in tool_names(body)
    assert body.offers and all(o["vehicle"]["body_type"] == "suv" for o in body.offers)


# ---------------------------------------------------------------------------------------------- corrections
def test_a_correction_updates_the_slot_and_reruns_matching(chat):
    first, second = talk(chat, RECOMMEND, "不对，首付改成四成")
    assert first.slots["down_payment_ratio"] == 0.3
    assert second.intent == "car_recommendation"
    assert second.slots["down_payment_ratio"] == 0.4
    assert second.slots["budget"] == 150000 and second.slots["body_type"] == "suv"
    assert tool_names(second) == ["match_offers"]
    assert second.tool_calls[0].arguments["down_payment_ratio"] == 0.4
    assert second.offers
    for offer in second.offers:
        assert offer["down_payment"] / offer["vehicle_price"] == pytest.approx(0.4, abs=0.01)
    assert [o["down_payment"] for o in second.offers] != [o["down_payment"] for o in first.offers]


def test_a_correction_of_the_term_reprices_the_quote(chat):
    first, second = talk(chat, "车价20万首付三成分36期月供多少", "不对，改成24期")
    assert first.quote and second.quote
    assert second.slots["term_months"] == 24
    assert second.intent == "payment_calculation"
    assert tool_names(second) == ["quote_loan"]
    assert len(second.quote["schedule"]) == 24
    assert second.quote["monthly_payment"] > first.quote["monthly_payment"]
    assert "年化" in second.reply


# ---------------------------------------------------------------------------------------------- digressions
def test_a_policy_question_mid_flow_is_answered_then_the_pending_question_comes_back(chat, services):
    ask, side, back = talk(chat, "我想买台车", "对了，提前还款有违约金吗", "15万左右")
    budget_question = services.prompts.reply("ask_slot", "zh", slot="budget")
    assert budget_question in ask.reply
    assert side.intent == "policy_question"
    assert side.citations, "a policy answer cites its source"
    assert budget_question in side.reply, "after the side question the pending question is asked again"
    assert back.intent == "car_recommendation"
    assert back.slots["budget"] == 150000
    assert "match_offers" in tool_names(back)


# ---------------------------------------------------------------------------------------------- summary
@pytest.mark.parametrize("question", ["我们刚才说了什么", "总结一下目前确认的信息"])
def test_what_did_we_say_so_far(chat, question):
    first, summary = talk(chat, RECOMMEND, question)
    assert not summary.tool_calls
    for slot in ("budget", "down_payment_ratio", "term_months", "body_type"):
        assert slot_value_text(slot, first.slots[slot], "zh") in summary.reply, slot
    assert summary.slots == first.slots


def test_what_did_we_say_so_far_in_english(chat):
    first, summary = talk(chat, "Budget around 150k for an SUV, 30% down, 36 months",
                          "What did we say so far?")
    assert summary.lang == "en"
    assert slot_value_text("term_months", first.slots["term_months"], "en") in summary.reply


# ---------------------------------------------------------------------------------------------- consent
def test_no_credit_scoring_before_explicit_consent(chat):
    asked, agreed, amount = talk(chat, "我月薪8000能贷吗", "同意", "想贷10万")
    assert asked.intent == "eligibility_check"
    assert "同意" in asked.reply and "score_applicant" not in tool_names(asked)
    assert "score_applicant" not in tool_names(agreed)  # the loan amount is still missing: asked for it
    assert "score_applicant" in tool_names(amount)
    assert amount.slots["loan_amount"] == 100000 and amount.slots["monthly_income"] == 8000
    assert chat.state(amount.session_id).last_decision["decision"] in {"approve", "review", "decline"}
    # A pre-assessment, never a promise; "review" goes to a person.
    assert not [f for f in check_text(amount.reply) if f.code == "approval_promise"]
    assert amount.handoff == (chat.state(amount.session_id).last_decision["decision"] == "review")


def test_declined_consent_means_no_scoring(chat):
    turns = talk(chat, "我月薪8000能贷10万吗", "不同意", "那我月薪1万2能贷吗")
    assert all("score_applicant" not in tool_names(t) for t in turns[:2])
    assert "score_applicant" not in tool_names(turns[2])
    assert "同意" in turns[2].reply


# ---------------------------------------------------------------------------------------------- documents
def test_chat_documents_open_as_web_pages_and_pdfs_come_on_request(chat, services):
    first, docs = talk(chat, "车价20万首付三成分36期月供多少", "把合同和还款计划表发我")
    assert [d.kind for d in docs.documents] == ["loan_contract", "repayment_schedule"]
    records = [services.documents.open(d.document_id)[0] for d in docs.documents]
    assert {r.format for r in records} == {"html"}
    assert "PDF" in docs.reply  # the customer is told how to get a PDF
    # the documents state the figures of the quote the customer saw
    monthly = first.tool_calls[-1].result["monthly_payment"]
    assert docs.tool_calls[-1].result["monthly_payment"] == monthly

    pdf = chat.handle("要PDF版", docs.session_id)
    assert [d.kind for d in pdf.documents] == ["loan_contract", "repayment_schedule"]  # the same ones again
    record, data = services.documents.open(pdf.documents[0].document_id)
    assert record.format == "pdf" and data.startswith(b"%PDF")
    assert "PDF" not in pdf.reply.split("\n")[-1]  # no offer of what was just given


# ------------------------------------------------------------------------------------------ collateral
def test_collateral_values_the_named_model_not_any_car_of_the_brand(chat):
    turns = talk(chat, "我有辆车想抵押贷款", "丰田汉兰达", "开了3年", "跑了6万公里")
    [call] = turns[-1].tool_calls
    assert call.name == "value_vehicle" and call.arguments["vehicle"] == "toyota-highlander"
    assert "汉兰达" in turns[-1].reply


def test_collateral_with_a_brand_alone_asks_for_the_model_or_the_price(chat):
    turns = talk(chat, "我想用车抵押贷款", "丰田的", "卡罗拉", "2021年的车", "5万公里")
    assert "车型" in turns[1].reply and not turns[1].tool_calls
    assert turns[2].intent == "collateral_loan" and not turns[2].tool_calls
    [call] = turns[-1].tool_calls
    assert call.arguments["vehicle"] == "toyota-corolla"
    # or the price when new, when the model is not known
    turns = talk(chat, "我想用车抵押贷款", "丰田的", "当时15万买的", "开了3年", "6万公里")
    [call] = turns[-1].tool_calls
    assert "vehicle" not in call.arguments and call.arguments["original_price"] == 150000


def test_collateral_in_english_names_the_model_in_english(chat):
    turns = talk(chat, "I'd like a loan secured on my car.", "It's a Toyota Corolla.", "5 years old",
                 "About 90,000 km.")
    [call] = turns[-1].tool_calls
    assert call.arguments["vehicle"] == "toyota-corolla"
    assert "Toyota Corolla" in turns[-1].reply


def test_a_thirty_digit_amount_is_refused_not_a_crash(chat):
    first, second = talk(chat, "车价123456789012345678901234567890元首付三成分36期月供多少", "车价20万")
    assert "系统处理出现问题" not in first.reply  # before: decimal.InvalidOperation crashed the turn
    assert "vehicle_price" not in first.slots
    assert second.quote is not None and "年化" in second.reply


# ---------------------------------------------------------------------------------------------- round 3 fixes
def test_a_contradiction_runs_nothing_and_the_answer_carries_the_goal_on(chat):
    first, second = talk(chat, "工资每月2万5 一年到手也就九万 预算18w看看suv", "写错了 月薪是7千 不是2万5")
    assert first.tool_calls == [] and ("对不上" in first.reply)
    assert check_text(first.reply) == []  # the customer's own income is not a price without its APR
    assert "match_offers" in tool_names(second) and second.offers
    assert chat.state(second.session_id).slots["monthly_income"] == 7000


def test_a_car_for_someone_else_drops_the_first_cars_preferences(chat):
    first, second = talk(chat, "要台七座商务车 预算30w 首付10w",
                         "再给我儿子看个纯电的 9w以内")
    assert first.offers and all(o["vehicle"]["body_type"] == "mpv" for o in first.offers)
    slots = chat.state(second.session_id).slots
    assert slots["budget"] == 90000 and slots["energy_type"] == "bev"
    assert "body_type" not in slots and "down_payment" not in slots
    assert second.offers and all(o["vehicle"]["body_type"] != "mpv" for o in second.offers)
    assert "不用于这次的新车" in second.reply  # the customer is told what was dropped


def test_the_cheaper_one_and_the_lowest_monthly_pick_by_payment(chat):
    turns = talk(chat, RECOMMEND, "那就要便宜点那台吧")
    shown = turns[0].offers
    cheapest = min(range(len(shown)), key=lambda i: float(shown[i]["monthly_payment"])) + 1
    assert chat.state(turns[1].session_id).selected_offer == cheapest
    turns = talk(chat, "budget 150k for an suv, 30% down over 3 years", "fine, give me the one w the smallest payment")
    state = chat.state(turns[1].session_id)
    assert state.slots["budget"] == 150000  # "one w" is "one with", never 1万
    assert state.selected_offer is not None


def test_two_lending_apps_are_two_debts_and_an_annual_income_is_monthly(chat):
    turns = talk(chat, "开滴滴的 每年能赚个十八万 想买台纯电车 预算10w",
                 "还有京东金条每月600 借呗每月900")
    slots = chat.state(turns[1].session_id).slots
    assert slots["monthly_income"] == 15000 and "loan_amount" not in slots and "term_months" not in slots
    assert slots["monthly_debt_payments"] == 1500
    assert check_text(turns[1].reply) == []


def test_asking_whether_one_can_get_the_loan_offers_the_assessment_and_uses_the_plan_shown(chat):
    first = chat.handle("我是做装修的 一个月挣8千 想买台12w左右的车 像我这种情况能贷下来吗")
    assert first.offers and chat.state(first.session_id).awaiting_consent  # the plans, and consent asked
    assert "同意" in first.reply and "score_applicant" not in tool_names(first)
    second = chat.handle("行 帮我评一下", first.session_id)
    assert "score_applicant" in tool_names(second)
    assert "方案1" in second.reply  # the loan assessed is the first plan shown, and the reply says so


def test_declining_the_assessment_with_a_new_request_serves_the_request(chat):
    asked, switched = talk(chat, "工资七千五 我这种能办车贷吗", "不用了 先帮我找找月供一千八以内的电车")
    assert chat.state(asked.session_id).awaiting_consent is False
    assert "match_offers" in tool_names(switched) and "score_applicant" not in tool_names(switched)
    assert switched.slots["max_monthly_payment"] == 1800 and switched.slots["monthly_income"] == 7500
    assert switched.offers and all(o["monthly_payment"] <= 1800 for o in switched.offers)


def test_a_bare_correction_after_offers_reruns_the_search(chat):
    _, fixed = talk(chat, "预算12个 想看丰田的", "写错了 是18个")
    assert fixed.slots["budget"] == 180000 and fixed.slots["brand"] == "丰田"
    assert "match_offers" in tool_names(fixed)


def test_a_bare_rate_correction_changes_the_rate_just_given(chat):
    _, fixed = talk(chat, "借8万 分36期 年利率5.6%", "不对 是3.9")
    assert fixed.slots["quoted_rate"] == pytest.approx(0.039)
    assert fixed.slots["loan_amount"] == 80000 and fixed.slots["term_months"] == 36


def test_selling_the_pledged_car_for_a_new_one_forgets_the_old_cars_facts(chat):
    _, switched = talk(chat, "我那台思域开了5年 跑了10万公里 想拿它抵押贷3万", "不抵押了 卖掉买台新的电车 预算15万")
    state = chat.state(switched.session_id)
    assert "match_offers" in tool_names(switched) and switched.offers
    assert "brand" not in state.slots and "mileage_km" not in state.slots and state.vehicle_id is None
    assert all(o["vehicle"]["brand"] != "本田" for o in switched.offers)
    assert "不用于这次的新车" in switched.reply  # says what it no longer assumes
