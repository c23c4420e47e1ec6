"""``POST /v1/valuation`` and the ``value_vehicle`` tool: range, appraisal note, 车抵贷 amount = value × LTV."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from assistant.services import Services
from assistant.tools.registry import ToolContext
from assistant.tools.valuation import ValueVehicleIn, value_vehicle


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


def test_old_car_is_not_eligible_but_still_valued(services: Services) -> None:
    out = value_vehicle(ToolContext(services=services),
                        ValueVehicleIn(original_price=Decimal(200000), vehicle_age_years=Decimal(11), mileage_km=90000))
    assert out.estimated_value > 0 and out.assumed == {"energy_type": "ice", "segment": "B"}
    assert out.loan is not None and not out.loan.eligible
    assert {r.code for r in out.loan.reasons} >= {"vehicle_age", "vehicle_age_plus_term"}


def test_wanted_amount_and_used_car_loan(services: Services) -> None:
    ctx = ToolContext(services=services)
    out = value_vehicle(ctx, ValueVehicleIn(vehicle="本田 雅阁", vehicle_age_years=Decimal(2),
                                            loan_amount=Decimal(50000), product_id="used_car_loan", term_months=24))
    assert out.loan.loan_amount == 50000 and out.loan.term_months == 24
    assert out.assumed["mileage_km"] == 40000
    too_long = value_vehicle(ctx, ValueVehicleIn(vehicle="本田 雅阁", vehicle_age_years=Decimal(2), term_months=48))
    assert not too_long.loan.eligible and "term_cap" in {r.code for r in too_long.loan.reasons}


def test_bad_valuation_requests(client: TestClient) -> None:
    for body in ({"vehicle_age_years": 2}, {"vehicle": "丰田 卡罗拉", "vehicle_age_years": -1},
                 {"original_price": 100000, "vehicle_age_years": 2, "product_id": "bank_auto_loan"},
                 {"original_price": "abc", "vehicle_age_years": 2}):
        response = client.post("/v1/valuation", json=body)
        assert response.status_code == 422, body
        assert " / " in response.json()["error"]["message"]
    missing = client.post("/v1/valuation", json={"vehicle": "不存在的车", "vehicle_age_years": 2})
    assert missing.status_code == 404


def test_contract_slot_names_are_accepted(services: Services) -> None:
    ctx = ToolContext(services=services)
    by_brand = value_vehicle(ctx, ValueVehicleIn(brand="丰田卡罗拉", vehicle_age_years=Decimal(3)))
    assert by_brand.vehicle is not None and by_brand.vehicle["id"] == "toyota-corolla"
    by_price = value_vehicle(ctx, ValueVehicleIn(brand="丰田", vehicle_price=Decimal(150000),
                                                 vehicle_age_years=Decimal(3)))
    assert by_price.vehicle is None and by_price.original_price == 150000  # a bare brand does not pick a car
