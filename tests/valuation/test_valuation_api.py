"""``POST /v1/valuation``: range, appraisal note, 车抵贷 amount = value × LTV (the tool itself: tests/tools)."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from assistant.services import Services


def test_catalogue_car_title_loan(client: TestClient, services: Services) -> None:
    response = client.post("/v1/valuation", json={"vehicle": "丰田 卡罗拉", "vehicle_age_years": 3,
                                                  "mileage_km": 60000, "monthly_income": 8000})
    assert response.status_code == 200
    body = response.json()
    assert body["value_low"] <= body["estimated_value"] <= body["value_high"] <= 109800
    assert body["appraisal_required"] is True and "评估师" in body["appraisal_note_zh"]
    assert body["held_out_mape"] > 0 and body["assumed"] == {"original_price": 109800.0}
    loan = body["loan"]
    cap = services.catalogue.product("car_title_loan").ltv_cap
    assert loan["product_id"] == "car_title_loan" and loan["eligible"] is True
    assert Decimal(str(loan["max_loan_amount"])) == (Decimal(str(body["estimated_value"])) * cap).quantize(
        Decimal("0.01"))
    assert loan["apr"] > 0.128  # fees push the APR above the 12.8 % nominal grade-C rate
    assert "出租人" not in loan["ownership_zh"] and "押证" in services.catalogue.product("car_title_loan").name


def test_bad_valuation_requests(client: TestClient) -> None:
    for body in ({"vehicle_age_years": 2}, {"vehicle": "丰田 卡罗拉", "vehicle_age_years": -1},
                 {"original_price": 100000, "vehicle_age_years": 2, "product_id": "bank_auto_loan"},
                 {"original_price": "abc", "vehicle_age_years": 2}):
        response = client.post("/v1/valuation", json=body)
        assert response.status_code == 422, body
        assert " / " in response.json()["error"]["message"]
    missing = client.post("/v1/valuation", json={"vehicle": "不存在的车", "vehicle_age_years": 2})
    assert missing.status_code == 404
