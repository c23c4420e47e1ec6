"""``POST /v1/match`` and ``/v1/match/explain``: contract shape and errors (the registered tools: tests/tools)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TEST_API_KEY

KEY = {"X-API-Key": TEST_API_KEY}
EXAMPLE = {"budget": 150000, "body_type": "suv", "down_payment_ratio": 0.3, "term_months": 36,
           "monthly_income": 15000}


def test_contract_example(client: TestClient) -> None:
    response = client.post("/v1/match", json=EXAMPLE, headers=KEY)
    assert response.status_code == 200
    body = response.json()
    assert len(body["offers"]) >= 3 and isinstance(body["assumed"], dict)
    for offer in body["offers"]:
        assert {"brand", "series", "body_type", "energy_type", "condition"} <= offer["vehicle"].keys()
        assert {"id", "name"} <= offer["product"].keys()
        for key in ("vehicle_price", "down_payment", "loan_amount", "term_months", "monthly_payment", "apr",
                    "total_interest"):
            assert isinstance(offer[key], int | float), key
        assert offer["reasons"] and offer["vehicle"]["body_type"] == "suv"
        assert 0 < offer["apr"] < 0.36 and offer["vehicle_price"] <= 150000


def test_slots_the_matcher_does_not_use_are_ignored(client: TestClient) -> None:
    response = client.post("/v1/match", json={**EXAMPLE, "city": "上海", "rate_type": "flat"}, headers=KEY)
    assert response.status_code == 200 and response.json()["offers"]


def test_bad_values_are_4xx_with_a_bilingual_message(client: TestClient) -> None:
    for body in ({"budget": -1}, {"budget": "十五万"}, {"down_payment_ratio": 30}, {"term_months": 0},
                 {"body_type": "tank"}, {"monthly_income": -5}):
        response = client.post("/v1/match", json=body, headers=KEY)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and " / " in error["message"]


def test_infeasible_input_is_explained_not_empty(client: TestClient) -> None:
    for body in ({"budget": 20000}, {"budget": 100000, "monthly_income": 0}, {"budget": 150000, "term_months": 200},
                 {"vehicle_price": 100000, "down_payment": 120000}):
        response = client.post("/v1/match", json=body, headers=KEY)
        assert response.status_code == 200, body
        data = response.json()
        assert data["offers"] == [] and data["explanation"]["zh"] and data["alternatives"], body


def test_why_not_in_the_match_request(client: TestClient) -> None:
    data = client.post("/v1/match", json={**EXAMPLE, "why_not": "宝马 X3"}, headers=KEY).json()
    assert data["why_not"]["target_id"] == "bmw-x3" and data["why_not"]["rules"][0]["code"] == "over_budget"


def test_explain_endpoint(client: TestClient) -> None:
    response = client.post("/v1/match/explain", json={**EXAMPLE, "target": "新能源专享贷", "energy_type": "ice"},
                           headers=KEY)
    assert response.status_code == 200
    assert "product_energy" in {r["code"] for r in response.json()["rules"]}
