"""The shipped residual-value model: bounds, monotonicity, the range, and the valuator."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from assistant.errors import InvalidInput
from assistant.services import Services
from assistant.valuation.model import FEATURES, ResidualValueModel, features
from assistant.valuation.service import Valuator


@pytest.fixture
def valuator(services: Services) -> Valuator:
    return services.valuator


@pytest.fixture
def model(valuator: Valuator) -> ResidualValueModel:
    return valuator.model


def test_artifact_records_held_out_figures(model: ResidualValueModel) -> None:
    m = model.metrics
    assert m["mercedes_test_rows"] >= 200 and m["car_prices_test_rows"] >= 100
    # The model must beat the naive "median retention at this age" baseline on held-out rows.
    assert m["mercedes_test_mape"] < m["baseline_age_median_test_mape"]
    assert 0.7 <= m["interval_test_coverage"] <= 0.95
    assert set(model.coefficients) == set(FEATURES)


@pytest.mark.parametrize("energy", ["ice", "bev", "phev", "hev"])
@pytest.mark.parametrize("segment", ["A00", "A", "B", "D"])
def test_retention_falls_with_age_and_mileage(model: ResidualValueModel, energy: str, segment: str) -> None:
    by_age = [model.retention(age, 15000 * age, segment=segment, energy=energy)[0] for age in range(1, 16)]
    assert all(a > b for a, b in pairwise(by_age))
    by_km = [model.retention(4, km, segment=segment, energy=energy)[0] for km in range(0, 300001, 25000)]
    assert all(a > b for a, b in pairwise(by_km))


def test_range_brackets_the_point_and_stays_in_bounds(model: ResidualValueModel) -> None:
    for age in (0, 0.5, 1, 3, 6, 10, 20, 30):
        for km in (0, 50000, 200000, 600000):
            point, low, high = model.retention(age, km, segment="B")
            assert 0 < low <= point <= high <= 1


def test_battery_cars_lose_value_faster(model: ResidualValueModel) -> None:
    ice = model.retention(5, 80000, segment="A", energy="ice")[0]
    phev = model.retention(5, 80000, segment="A", energy="phev")[0]
    bev = model.retention(5, 80000, segment="A", energy="bev")[0]
    assert bev < phev < ice


def test_dearer_segments_lose_value_faster(model: ResidualValueModel) -> None:
    assert model.retention(6, 90000, segment="D")[0] < model.retention(6, 90000, segment="A")[0]


def test_feature_vector_shape() -> None:
    assert len(features(3, 60000, tier=0.2, body="suv", energy="bev")) == len(FEATURES)


def test_valuator_values_in_hundreds_with_a_range(valuator: Valuator) -> None:
    v = valuator.value(Decimal(150000), 3, 60000, energy_type="ice", segment="A")
    assert v.value_low <= v.estimated_value <= v.value_high <= 150000
    assert v.estimated_value % 100 == 0 and v.value_low % 100 == 0
    assert v.held_out_mape is not None and v.model_version.startswith("rv-")
    assert Decimal("0.5") < v.retention < Decimal("0.9")


@pytest.mark.parametrize(("price", "age", "km"), [(0, 3, 1000), (100000, -1, 1000), (100000, 31, 1000),
                                                   (100000, 3, -5)])
def test_valuator_rejects_impossible_input(valuator: Valuator, price: int, age: float, km: int) -> None:
    with pytest.raises(InvalidInput):
        valuator.value(Decimal(price), age, km)


def test_missing_artifact_is_a_configuration_error(tmp_path) -> None:
    from assistant.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        Valuator(tmp_path / "nope.json").value(Decimal(100000), 2, 30000)
