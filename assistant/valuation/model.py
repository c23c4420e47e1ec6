"""The residual-value model: ``value = original price × retention(age, mileage, energy, body, segment)``.

``log retention`` is linear in a few hinge features (piecewise-linear depreciation by age and by
mileage), body-type shifts, energy × age slopes and an age × price-tier slope (dearer segments lose
value faster). The coefficients are fitted by :mod:`assistant.valuation.train` and shipped as a small
JSON artifact; this module only evaluates them (pure float arithmetic, no numpy: the hot path).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AGE_CAP_FOR_SLOPES = 10.0  # energy and tier slopes stop growing after 10 years (little data beyond)

# Body types the model has a shift for. In the Mercedes data each class has essentially one body, so a
# body shift cannot be told apart from an error in that class's MSRP: none is fitted (empty tuple), and
# the body type is accepted but does not move the value. Kept as a hook for richer data.
BODY_FEATURES: tuple[str, ...] = ()
# Segment → reference US MSRP (USD) of the Mercedes-Benz class the data pairs it with, to place a
# Chinese size class on the price tiers the model was fitted on (tier = log(MSRP / C-class MSRP)).
SEGMENT_TIER_MSRP_USD = {"A00": 33000.0, "A0": 33000.0, "A": 33000.0, "B": 41000.0, "C": 54000.0, "D": 95000.0}
TIER_REFERENCE_USD = 41000.0

FEATURES = (
    "age_1_3",
    "age_3_5",
    "age_5_8",
    "age_8_plus",
    "age_x_tier",
    "km_0_50k",
    "km_50k_100k",
    "km_100k_plus",
    *(f"body_{b}" for b in BODY_FEATURES),
    "bev_x_age",
    "hev_x_age",
)


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def tier_for_segment(segment: str | None) -> float:
    """The price tier of a Chinese size class (0 = the C-class tier)."""
    usd = SEGMENT_TIER_MSRP_USD.get(segment or "B", TIER_REFERENCE_USD)
    return math.log(usd / TIER_REFERENCE_USD)


def features(
    age_years: float, mileage_km: float, *, tier: float = 0.0, body: str | None = None, energy: str = "ice"
) -> list[float]:
    """The model's feature vector, in :data:`FEATURES` order (training and serving share this)."""
    age = max(age_years, 0.0)
    km = max(mileage_km, 0.0)
    slope_age = min(age, AGE_CAP_FOR_SLOPES)
    # A plug-in hybrid is modelled halfway between a fuel car and a battery car (no PHEV rows in the data).
    bev_weight = {"bev": 1.0, "nev": 1.0, "phev": 0.5}.get(energy, 0.0)
    # Listings are at least a year old: a car younger than that is valued as a one-year-old (conservative).
    return [
        _clip(age - 1, 0, 2),
        _clip(age - 3, 0, 2),
        _clip(age - 5, 0, 3),
        max(age - 8, 0.0),
        slope_age * tier,
        _clip(km, 0, 50_000) / 10_000,
        _clip(km - 50_000, 0, 50_000) / 10_000,
        max(km - 100_000, 0.0) / 10_000,
        *(1.0 if body == b else 0.0 for b in BODY_FEATURES),
        slope_age * bev_weight,
        slope_age * (1.0 if energy == "hev" else 0.0),
    ]


@dataclass(frozen=True)
class ResidualValueModel:
    """Fitted coefficients plus the calibrated prediction interval (log-space residual quantiles)."""

    intercept: float
    coefficients: dict[str, float]
    interval_low: float  # quantile of log(actual / predicted), e.g. the 10th percentile
    interval_high: float
    interval_coverage: float  # nominal coverage of [low, high], e.g. 0.8
    metrics: dict[str, Any]
    version: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResidualValueModel:
        """Build from the JSON artifact's content."""
        missing = [name for name in FEATURES if name not in data["coefficients"]]
        if missing:
            raise ValueError(f"valuation artifact lacks coefficients: {missing}")
        return cls(
            intercept=float(data["intercept"]),
            coefficients={k: float(v) for k, v in data["coefficients"].items()},
            interval_low=float(data["interval"]["low"]),
            interval_high=float(data["interval"]["high"]),
            interval_coverage=float(data["interval"]["coverage"]),
            metrics=dict(data.get("metrics", {})),
            version=str(data.get("version", "unknown")),
        )

    @classmethod
    def load(cls, path: Path) -> ResidualValueModel:
        """Read the artifact from disk."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def log_retention(self, feature_values: list[float]) -> float:
        """``log(value / original price)`` for one feature vector."""
        return self.intercept + sum(self.coefficients[name] * x for name, x in zip(FEATURES, feature_values,
                                                                                     strict=True))

    def retention(
        self, age_years: float, mileage_km: float, *, segment: str | None = None, body: str | None = None,
        energy: str = "ice",
    ) -> tuple[float, float, float]:
        """(point, low, high) retention as fractions of the original price, each within (0, 1]."""
        point = self.log_retention(features(age_years, mileage_km, tier=tier_for_segment(segment), body=body,
                                            energy=energy))
        low, mid, high = (math.exp(point + self.interval_low), math.exp(point), math.exp(point + self.interval_high))
        return (_clip(mid, 0.02, 1.0), _clip(low, 0.01, 1.0), _clip(high, 0.02, 1.0))
