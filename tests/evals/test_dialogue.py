"""The realistic conversation eval (eval/dialogue/*.yaml) and the checks of its runner."""

from __future__ import annotations

from collections import Counter

from assistant.agent.types import ChatTurn, SessionState, ToolCallRecord
from assistant.evals import dialogue as ev
from assistant.evals.dialogue_format import CATEGORIES, Expect, load_conversations

OFFER = {"vehicle": {"brand": "丰田", "brand_en": "Toyota", "series": "卡罗拉", "energy_type": "hev",
                     "body_type": "sedan"},
         "monthly_payment": 3200.5, "vehicle_price": 130000, "down_payment": 39000, "loan_amount": 91000,
         "total_interest": 4100.0, "term_months": 36, "apr": 0.045}


def turn(reply: str = "好的", **fields) -> ChatTurn:
    return ChatTurn(session_id="s", reply=reply, intent=fields.pop("intent", "car_recommendation"), **fields)


def test_the_eval_has_every_category_in_each_split_and_enough_held_out(settings):
    held_out = 0
    for split in ev.SPLITS + ev.UNSEEN:  # loaded and checked, never run here
        conversations = load_conversations(ev.dialogue_dir(settings) / f"{split}.yaml")
        categories = Counter(c.category for c in conversations)
        assert set(categories) == set(CATEGORIES), split
        english = sum(c.lang == "en" for c in conversations) / len(conversations)
        assert 0.10 <= english <= 0.25, split
        if split in ev.HELD_OUT:
            held_out += len(conversations)
    assert held_out >= 60


def test_an_offer_over_the_cap_or_unaffordable_fails_the_invariants():
    state = SessionState(session_id="s", slots={"max_monthly_payment": 3000, "monthly_income": 8000,
                                                "monthly_debt_payments": 1500})
    problems = ev.check_turn_invariants(turn("方案：月供3,200.50元，年化利率（APR）4.50%", offers=[OFFER]), state)
    assert any("over the cap" in p for p in problems)
    assert any("half of income" in p for p in problems)


def test_a_price_without_its_apr_and_a_promise_fail_the_invariants():
    problems = ev.check_turn_invariants(turn("月供3,200元，保证能批"), SessionState(session_id="s"))
    assert len(problems) == 2


def test_expectations_on_references_tools_and_language():
    state = SessionState(session_id="s", last_offers=[OFFER], selected_offer=1)
    from assistant.agent.offers import application_from_offer

    state.application = application_from_offer(OFFER)
    good = turn("方案1的月供是3,200.50元，年化利率（APR）4.50%。", tool_calls=[])
    expect = Expect(selected={"rank": 1}, reply_mentions_offer={"rank": 1, "field": "monthly_payment"},
                    tools_exclude=["match_offers"], reply_lang="zh")
    assert ev.check_expect(expect, good, state, [OFFER]) == []
    rerun = turn("Here are new offers.", tool_calls=[ToolCallRecord(name="match_offers", arguments={})])
    problems = ev.check_expect(expect, rerun, state, [OFFER])
    assert any("match_offers ran" in p for p in problems)
    assert any("reply is en" in p for p in problems)
    assert any("lacks offer 1" in p for p in problems)


def test_the_runner_reports_a_pass_rate_per_category(settings, capsys):
    first = load_conversations(ev.dialogue_dir(settings) / "dev.yaml")[0]
    figures = ev.run(settings, splits=["dev"], only=[first.id])
    out = capsys.readouterr().out
    assert "by category" in out and first.category in out
    assert 0.0 <= figures["dev"]["pass_rate"] <= 1.0
    assert set(figures["dev"]["by_category"]) == {first.category}
