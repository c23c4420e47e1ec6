"""``POST /v1/score`` and the ``score_applicant`` tool: contract shape, defaults, bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.services import Services
from assistant.tools.registry import ToolContext, load_all_tools
from assistant.tools.score import ScoreIn, score_applicant
from tests.conftest import TEST_API_KEY

KEY = {"X-API-Key": TEST_API_KEY}

FULL = {"monthly_income": 15000, "monthly_expenses": 4000, "loan_amount": 100000, "vehicle_price": 160000,
        "term_months": 36, "age": 35, "employment_years": 6, "employment_type": "fixed", "home_status": "owner",
        "marital_status": "married", "has_delinquency": False, "assets": 150000, "debt": 20000}


def test_contract_shape(client: TestClient) -> None:
    data = client.post("/v1/score", json={**FULL, "applicant_id": "u-1"}, headers=KEY).json()
    for key in ("probability_of_default", "score", "grade", "decision", "reasons", "model_version"):
        assert key in data
    assert 0 < data["probability_of_default"] < 1
    assert data["grade"] in "ABCDE" and data["decision"] in ("approve", "review", "decline")
    assert isinstance(data["score"], int) and isinstance(data["reasons"], list) and data["reasons"]
    assert data["variant"] in ("champion", "challenger")
    assert data["shadow"]["variant"] != data["variant"]
    assert data["model_version"].startswith(("scorecard-", "lgbm-"))
    assert data["assumed"] == {} and data["applicant_id"] == "u-1"
    assert data["human_review"] == (data["decision"] == "review")


def test_same_applicant_id_same_answer(client: TestClient) -> None:
    first = client.post("/v1/score", json={**FULL, "applicant_id": "stable"}, headers=KEY).json()
    again = client.post("/v1/score", json={**FULL, "applicant_id": "stable"}, headers=KEY).json()
    assert first == again


def test_minimal_request_reports_assumed_defaults(client: TestClient) -> None:
    body = {"monthly_income": 12000, "loan_amount": 120000, "vehicle_price": 180000, "term_months": 36}
    data = client.post("/v1/score", json=body, headers=KEY).json()
    assert set(data["assumed"]) == {"monthly_expenses", "age", "employment_years", "employment_type",
                                    "home_status", "has_delinquency", "assets", "debt"}
    assert data["decision"] != "decline"  # never an automated decline on assumed facts


def test_decision_messages_say_when_a_person_looks(client: TestClient) -> None:
    review = client.post("/v1/score", json={**FULL, "has_delinquency": True}, headers=KEY).json()
    assert review["decision"] == "review" and review["human_review"]
    assert "人工" in review["message"] and "person" in review["message"]
    risky = {**FULL, "has_delinquency": True, "employment_type": "part_time", "home_status": "rent",
             "employment_years": 1, "loan_amount": 150000, "assets": 0}
    decline = client.post("/v1/score", json=risky, headers=KEY).json()
    assert decline["decision"] == "decline" and "人工复核" in decline["message"]
    # the same high risk with facts left to defaults goes to a person instead
    thin = {"monthly_income": 6000, "loan_amount": 170000, "vehicle_price": 180000, "term_months": 60}
    assumed = client.post("/v1/score", json=thin, headers=KEY).json()
    assert assumed["grade"] == "E" and assumed["decision"] == "review" and "默认值" in assumed["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 17}, "age"), ({"age": 76}, "age"),
        ({"term_months": 5}, "term_months"), ({"term_months": 61}, "term_months"),
        ({"monthly_income": 0}, "monthly_income"), ({"monthly_income": -100}, "monthly_income"),
        ({"loan_amount": -1}, "loan_amount"), ({"vehicle_price": 0}, "vehicle_price"),
        ({"debt": -1}, "debt"), ({"assets": -5}, "assets"), ({"monthly_expenses": -1}, "monthly_expenses"),
        ({"employment_years": -1}, "employment_years"), ({"loan_amount": 200000}, "loan_amount"),
        ({"employment_type": "astronaut"}, "employment_type"), ({"age": "old"}, "age"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(client: TestClient, change: dict, field: str) -> None:
    response = client.post("/v1/score", json={**FULL, **change}, headers=KEY)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] == "invalid_input" and " / " in error["message"]


@pytest.mark.parametrize("missing", ["monthly_income", "loan_amount", "vehicle_price", "term_months"])
def test_required_fields(client: TestClient, missing: str) -> None:
    body = {k: v for k, v in FULL.items() if k != missing}
    response = client.post("/v1/score", json=body, headers=KEY)
    assert response.status_code == 422 and response.json()["error"]["field"] == missing


def test_tool_is_registered_and_matches_the_route(services: Services, client: TestClient) -> None:
    tool = load_all_tools().get("score_applicant")
    assert "review" in tool.description and "yuan" in tool.description
    ctx = ToolContext(services=services)
    via_tool = tool.invoke(ctx, {**FULL, "applicant_id": "same"}).model_dump(mode="json")
    via_http = client.post("/v1/score", json={**FULL, "applicant_id": "same"}, headers=KEY).json()
    assert via_tool == via_http
    direct = score_applicant(ctx, ScoreIn(**FULL)).model_dump(mode="json")
    assert direct["variant"] == "champion"  # no id → champion


def test_score_needs_a_partner_key(client: TestClient) -> None:
    response = client.post("/v1/score", json=FULL)
    assert response.status_code == 401
