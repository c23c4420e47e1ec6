"""The ``value_vehicle`` tool: the estimate, the 车抵贷 offer on it, and the contract's slot names."""

from __future__ import annotations

from decimal import Decimal

from assistant.services import Services
from assistant.tools.registry import ToolContext
from assistant.tools.valuation import ValueVehicleIn, value_vehicle


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


def test_contract_slot_names_are_accepted(services: Services) -> None:
    ctx = ToolContext(services=services)
    by_brand = value_vehicle(ctx, ValueVehicleIn(brand="丰田卡罗拉", vehicle_age_years=Decimal(3)))
    assert by_brand.vehicle is not None and by_brand.vehicle["id"] == "toyota-corolla"
    by_price = value_vehicle(ctx, ValueVehicleIn(brand="丰田", vehicle_price=Decimal(150000),
                                                 vehicle_age_years=Decimal(3)))
    assert by_price.vehicle is None and by_price.original_price == 150000  # a bare brand does not pick a car
