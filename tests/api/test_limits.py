"""Numbers no real car loan has (10^30 yuan, 600 months, ``true`` as a term, NaN) are a clear 422 on every
route and tool, never a 500 or a silent answer: the bounds of ``assistant.domain.limits``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.domain import limits
from assistant.errors import InvalidInput
from assistant.tools.registry import ToolContext, load_all_tools
from tests.api.conftest import KEY

QUOTE = {"principal": 100000, "annual_rate": 0.045, "term_months": 36}
APPLICANT = {"monthly_income": 20000, "loan_amount": 100000, "vehicle_price": 160000, "term_months": 36}
APPLICATION = {"principal": 100000, "annual_rate": 0.045, "term_months": 36}
LOAN = {"customer_id": "C1", "product_id": "bank_auto_loan", "principal": 100000, "annual_rate": 0.045,
        "term_months": 24, "vehicle": {"vehicle_price": 180000}}
HUGE = 10**30
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# (path, body, the field at fault, words the Chinese half of the message must contain)
BAD_BODIES: list[tuple[str, dict[str, Any], str, str]] = [
    ("/v1/quote", QUOTE | {"principal": 1e30}, "principal", "贷款本金"),
    ("/v1/quote", QUOTE | {"principal": HUGE}, "principal", "不能大于10,000,000"),
    ("/v1/quote", QUOTE | {"term_months": True}, "term_months", "布尔值"),
    ("/v1/quote", QUOTE | {"term_months": 10**20}, "term_months", "期数"),
    ("/v1/quote", QUOTE | {"upfront_fees": -1}, "upfront_fees", "前期费用"),
    ("/v1/quote", QUOTE | {"upfront_fees": 1e308}, "upfront_fees", "前期费用"),
    ("/v1/quote", QUOTE | {"upfront_fees": 100000}, "upfront_fees", "前期费用不能大于或等于贷款本金"),
    ("/v1/quote", QUOTE | {"annual_rate": 1e30}, "annual_rate", "年利率"),
    ("/v1/score", APPLICANT | {"vehicle_price": HUGE}, "vehicle_price", "车价超出可受理范围"),
    ("/v1/score", APPLICANT | {"monthly_income": HUGE}, "monthly_income", "月收入超出可受理范围"),
    ("/v1/score", APPLICANT | {"loan_amount": 10**12, "vehicle_price": 10**13}, "loan_amount", "贷款金额"),
    ("/v1/score", APPLICANT | {"term_months": True}, "term_months", "布尔值"),
    ("/v1/score", APPLICANT | {"age": True}, "age", "布尔值"),
    ("/v1/score", APPLICANT | {"assets": 10**40}, "assets", "资产"),
    ("/v1/score", APPLICANT | {"debt": -5}, "debt", "不能为负数"),
    ("/v1/score", APPLICANT | {"monthly_expenses": HUGE}, "monthly_expenses", "月支出"),
    ("/v1/score", APPLICANT | {"loan_amount": 200000}, "loan_amount", "贷款金额不能超过车价"),
    ("/v1/match", {"budget": 1e30}, "budget", "预算"),
    ("/v1/match", {"vehicle_price": 1e308}, "vehicle_price", "车价"),
    ("/v1/match", {"down_payment": 1e30, "vehicle_price": 200000}, "down_payment", "首付"),
    ("/v1/match", {"monthly_income": 1e30}, "monthly_income", "月收入"),
    ("/v1/match", {"term_months": True}, "term_months", "布尔值"),
    ("/v1/match", {"term_months": 601}, "term_months", "不能大于600"),
    ("/v1/match", {"budget": -1}, "budget", "不能小于0"),
    ("/v1/match", {"mileage_km": 10**12}, "mileage_km", "里程"),
    ("/v1/match/explain", {"target": "比亚迪 汉EV", "budget": 1e30}, "budget", "预算"),
    ("/v1/match/explain", {"target": "比亚迪 汉EV", "vehicle_price": 1e308}, "vehicle_price", "车价"),
    ("/v1/valuation", {"vehicle": "丰田 卡罗拉", "vehicle_age_years": 3, "loan_amount": 1e30}, "loan_amount",
     "贷款金额"),
    ("/v1/valuation", {"vehicle": "丰田 卡罗拉", "vehicle_age_years": 3, "term_months": 10**6}, "term_months", "期数"),
    ("/v1/valuation", {"vehicle": "丰田 卡罗拉", "vehicle_age_years": 3, "monthly_income": 1e30}, "monthly_income",
     "月收入"),
    ("/v1/valuation", {"original_price": HUGE, "vehicle_age_years": 3}, "original_price", "新车价"),
    ("/v1/kb/search", {"q": "提前还款", "k": True}, "k", "布尔值"),
    ("/v1/kb/search", {"q": "提前还款", "k": 10**20}, "k", "返回条数"),
    ("/v1/documents", {"kind": "repayment_schedule", "application": APPLICATION | {"principal": 1e30}},
     "application.principal", "贷款本金"),
    ("/v1/documents", {"kind": "repayment_schedule", "application": APPLICATION | {"term_months": True}},
     "application.term_months", "布尔值"),
    ("/v1/lifecycle/loans", LOAN | {"principal": 1e30}, "principal", "贷款本金"),
    ("/v1/lifecycle/loans", LOAN | {"term_months": True}, "term_months", "布尔值"),
    ("/v1/lifecycle/loans", LOAN | {"vehicle": {"vehicle_price": 1e308}}, "vehicle.vehicle_price", "车价"),
    ("/v1/lifecycle/repayments", {"events": [{"event_id": "E1", "loan_id": "L1", "paid_on": "2026-02-15",
                                              "amount": 1e30}]}, "events.0.amount", "金额"),
]


def _assert_clear_422(res: Any, field: str, words: str) -> None:
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field
    zh, sep, en = error["message"].partition(" / ")
    assert sep and CHINESE.search(zh) and not CHINESE.search(en), error["message"]  # Chinese first, then English
    assert words in zh, error["message"]
    assert field.split(".")[-1] in en


@pytest.mark.parametrize(("path", "body", "field", "words"), BAD_BODIES,
                         ids=[f"{p}:{f}={str(b)[-24:]}" for p, b, f, _ in BAD_BODIES])
def test_an_implausible_number_is_a_clear_422(api: TestClient, path: str, body: dict[str, Any], field: str,
                                              words: str) -> None:
    _assert_clear_422(api.post(path, json=body, headers=KEY), field, words)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/quote", QUOTE, "principal"),
    ("/v1/match", {"budget": 0}, "budget"),
    ("/v1/score", APPLICANT | {"employment_years": 1}, "employment_years"),
    ("/v1/valuation", {"vehicle": "丰田 卡罗拉", "vehicle_age_years": 1}, "vehicle_age_years"),
])
def test_nan_and_infinity_are_refused(api: TestClient, literal: str, path: str, body: dict[str, Any],
                                      field: str) -> None:
    # Python's JSON parser (the server's) accepts these non-standard literals, so they must be refused after.
    raw = re.sub(rf'"{field}": [^,}}]+', f'"{field}": {literal}',
                 __import__("json").dumps(body | {field: 1}, ensure_ascii=False))
    res = api.post(path, content=raw.encode(), headers=KEY | {"Content-Type": "application/json"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["field"] == field


@pytest.mark.parametrize(("path", "field", "words"), [
    ("/v1/lifecycle/warnings?offset=100000000000000000000000", "offset", "偏移量"),
    ("/v1/lifecycle/warnings?offset=-1", "offset", "偏移量"),
    ("/v1/lifecycle/warnings?limit=99999999999999999999", "limit", "条数"),
    ("/v1/kb/search?q=提前还款&k=100000000000000000000", "k", "返回条数"),
    ("/v1/lifecycle/loans/L1/offers?target_vehicle_price=1e308", "target_vehicle_price", "目标车价"),
])
def test_huge_offsets_and_limits_in_the_query_are_a_422(api: TestClient, path: str, field: str, words: str) -> None:
    _assert_clear_422(api.get(path, headers=KEY), field, words)


def test_a_negative_repayment_is_rejected_in_the_report_not_the_batch(api: TestClient) -> None:
    # Payment channels send refunds and typos: one bad event is a rejected record, the rest still apply.
    events = [{"event_id": "NEG1", "loan_id": "NOLOAN", "paid_on": "2026-02-15", "amount": -100}]
    res = api.post("/v1/lifecycle/repayments", json={"events": events}, headers=KEY)
    assert res.status_code == 200
    assert res.json()["applied"] == 0 and res.json()["rejected"] == 1 and res.json()["records"][0]["event_id"] == "NEG1"


def test_plausible_edge_values_still_work(api: TestClient) -> None:
    edge = QUOTE | {"principal": limits.MAX_LOAN_YUAN, "term_months": 60}
    assert api.post("/v1/quote", json=edge).status_code == 200
    assert api.post("/v1/match", json={"budget": limits.MAX_PRICE_YUAN, "term_months": 120},
                    headers=KEY).status_code == 200
    score = APPLICANT | {"monthly_income": limits.MAX_MONTHLY_YUAN, "vehicle_price": limits.MAX_PRICE_YUAN}
    assert api.post("/v1/score", json=score, headers=KEY).status_code == 200


# --- the same bounds on the tools (the chat's LLM and the rasa actions call them with JSON arguments) ---------
@pytest.mark.parametrize(("tool", "arguments", "field"), [
    ("quote_loan", {"principal": HUGE, "annual_rate": 0.045, "term_months": 36}, "principal"),
    ("quote_loan", {"principal": 100000, "annual_rate": 0.045, "term_months": True}, "term_months"),
    ("quote_loan", {"principal": 100000, "annual_rate": "NaN", "term_months": 36}, "annual_rate"),
    ("match_offers", {"budget": 1e30}, "budget"),
    ("match_offers", {"vehicle_price": 1e308}, "vehicle_price"),
    ("explain_exclusion", {"target": "比亚迪 汉EV", "loan_amount": HUGE}, "loan_amount"),
    ("value_vehicle", {"vehicle": "丰田 卡罗拉", "vehicle_age_years": 3, "mileage_km": True}, "mileage_km"),
    ("score_applicant", APPLICANT | {"term_months": True}, "term_months"),
    ("collection_options", {"overdue_days": True}, "overdue_days"),
    ("retention_offers", {"target_vehicle_price": HUGE}, "target_vehicle_price"),
])
def test_tools_refuse_implausible_arguments(api: TestClient, tool: str, arguments: dict[str, Any],
                                            field: str) -> None:
    registry = load_all_tools()
    ctx = ToolContext(services=api.app.state.services, session_id="s-limits", channel="api")  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as caught:
        registry.get(tool).invoke(ctx, arguments)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.zh) and caught.value.en



# --- chat: an absurd amount gets a clear answer, not a crash nor a question for what was just said ------------
@pytest.mark.parametrize("message", [
    "车价1000000000000000000000000000000元首付三成36期月供多少",
    "贷100000000000000000000000000000万，36期，年利率4.5%，月供多少",
    "预算99999999999999999999想买SUV",
])
def test_a_30_digit_amount_in_chat_is_answered_clearly(api: TestClient, message: str) -> None:
    res = api.post("/v1/chat", json={"message": message})
    assert res.status_code == 200
    assert "数字看起来不太对（超出了合理范围）" in res.json()["reply"]
    session = res.json()["session_id"]
    transcript = api.get(f"/v1/chat/{session}").json()["transcript"]
    assert any(message in str(entry) for entry in transcript)  # what the customer said is kept


def test_a_phone_number_is_not_taken_for_an_amount(api: TestClient) -> None:
    res = api.post("/v1/chat", json={"message": "我的电话是13812345678，预算15万想买SUV"})
    assert res.status_code == 200 and "超出了合理范围" not in res.json()["reply"]
