"""Collateral values (the valuation model behind a small interface) and external stress flags."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from assistant.errors import InvalidInput
from assistant.lifecycle.book import LoanBook
from assistant.lifecycle.signals import (
    CollateralRef,
    DepreciationValuer,
    ModelValuer,
    active_flags,
    add_stress_flag,
    default_valuer,
    refresh_collateral,
    retention,
)
from assistant.services import Services
from assistant.storage.loans import LoanRow
from tests.lifecycle.conftest import AS_OF, issue

CAR = CollateralRef(brand="丰田", series="凯美瑞", energy_type="ice", body_type="sedan",
                    vehicle_price=Decimal(180000), vehicle_age_years=3.0, mileage_km=45000)


def test_residual_curve_falls_faster_for_electric_cars() -> None:
    assert retention("ice", 0) == 1.0
    assert 0.55 < retention("ice", 3) < 0.7 and retention("bev", 3) < retention("ice", 3)
    assert DepreciationValuer().value(CAR) == Decimal(180000) * Decimal(repr(round(retention("ice", 3), 6)))


def test_the_valuation_model_is_used_when_installed(services: Services) -> None:
    valuer = default_valuer(services)
    assert isinstance(valuer, ModelValuer)
    value = valuer.value(CAR)
    assert value is not None and Decimal(40000) < value < Decimal(180000)
    older = valuer.value(CollateralRef(**{**CAR.__dict__, "vehicle_age_years": 6.0, "mileage_km": 90000}))
    assert older is not None and older < value
    # a car bought used at 3 years is valued from what was paid for it, not from its price new
    bought_used = CollateralRef(**{**CAR.__dict__, "vehicle_price": Decimal(110000), "vehicle_age_years": 3.0,
                                   "age_at_purchase": 3.0})
    assert valuer.value(bought_used) == Decimal(110000)


def test_refresh_collateral_revalues_real_loans_only(book: LoanBook, services: Services) -> None:
    issue(book, disbursed=dt.date(2024, 1, 15), term=36)
    with book.sessions() as s:
        s.execute(LoanRow.__table__.update().values(collateral_valued_on=dt.date(2024, 1, 15)))
        s.commit()
        assert refresh_collateral(s, default_valuer(services), AS_OF) == 1
        loan = s.scalars(select(LoanRow)).one()
    assert loan.collateral_valued_on == AS_OF and loan.collateral_value_now_fen < loan.vehicle_price_fen


def test_stress_flags(book: LoanBook) -> None:
    with book.sessions() as s:
        add_stress_flag(s, "industry", "real_estate", severity=2, starts_on=dt.date(2026, 1, 1),
                        reason_zh="下行", reason_en="downturn")
        add_stress_flag(s, "industry", "real_estate", severity=1, starts_on=dt.date(2026, 1, 1),
                        reason_zh="轻微", reason_en="mild")
        add_stress_flag(s, "region", "东莞", severity=1, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 6, 30),
                        reason_zh="停产", reason_en="closures")
        flags = active_flags(s, AS_OF)
        assert set(flags) == {("industry", "real_estate")} and flags[("industry", "real_estate")].severity == 2
        assert ("region", "东莞") in active_flags(s, dt.date(2026, 3, 1))
        with pytest.raises(InvalidInput):
            add_stress_flag(s, "planet", "mars", severity=1, starts_on=AS_OF, reason_zh="", reason_en="")
