"""The runtime scorer: champion scorecard and LightGBM challenger, calibrated, with A/B assignment.

Hot path: plain Python for the scorecard (a ``bisect`` per feature over exported bin edges) and one
``lightgbm.Booster.predict`` on a one-row numpy array for the challenger — no pandas, no optbinning.
Artifacts live in ``assistant/models/scoring/`` (written by ``loan-assistant train scoring``):

- ``scorecard.json`` — per feature: bin edges (or categories), risk WOE per bin, coefficient; intercept.
- ``challenger.txt`` — the LightGBM model in its own text format.
- ``manifest.json`` — feature order, category codes, Platt calibration of each model, sha256 of each file.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import ConfigurationError
from assistant.scoring import policy
from assistant.scoring.features import Applicant, applicant_features, validate_applicant
from assistant.scoring.reasons import Factor, factors, reasons

Variant = Literal["champion", "challenger"]

AB_SALT = "scoring-ab-v1"  # change it to re-randomise who sees the challenger in a new experiment


def assign_variant(applicant_id: str | None, challenger_share: float) -> Variant:
    """Deterministic A/B arm: the same applicant id always gets the same model.

    A sha256 of ``AB_SALT:applicant_id`` mapped to [0, 1); below ``challenger_share`` → challenger.
    Without an id there is nothing to keep stable, so the champion serves.
    """
    if not applicant_id or challenger_share <= 0.0:
        return "champion"
    digest = hashlib.sha256(f"{AB_SALT}:{applicant_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2.0**64
    return "challenger" if position < challenger_share else "champion"


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of a model's log-odds, fitted on out-of-fold predictions: PD = σ(a·z + b)."""

    a: float
    b: float

    def pd(self, log_odds: float) -> float:
        """Calibrated probability of default."""
        return _sigmoid(self.a * log_odds + self.b)


class Scorecard:
    """Binning + WOE + logistic regression, evaluated from its exported JSON.

    ``risk_woe`` is ln(share of bads / share of goods) in the bin (positive = riskier than average) and
    every coefficient is ≥ 0, so a feature binned with a monotone bad rate moves the PD the same way.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.intercept = float(spec["intercept"])
        self.numeric: list[tuple[str, list[float], list[float], float, float]] = []
        self.categorical: list[tuple[str, dict[str, float], float, float]] = []
        for f in spec["features"]:
            if f["kind"] == "numeric":
                self.numeric.append((f["name"], [float(s) for s in f["splits"]], [float(w) for w in f["risk_woe"]],
                                     float(f["missing_risk_woe"]), float(f["coef"])))
            else:
                self.categorical.append((f["name"], {str(k): float(v) for k, v in f["categories"].items()},
                                         float(f["unknown_risk_woe"]), float(f["coef"])))
        self.features = [n for n, *_ in self.numeric] + [n for n, *_ in self.categorical]

    def contributions(self, features: dict[str, Any]) -> dict[str, float]:
        """coef × risk WOE per feature, in log-odds of default."""
        out: dict[str, float] = {}
        for name, splits, woes, missing, coef in self.numeric:
            value = features[name]
            # None / NaN (value != value) only occur in training data: the missing bin's WOE
            woe = missing if value is None or value != value else woes[bisect_right(splits, value)]
            out[name] = coef * woe
        for name, table, unknown, coef in self.categorical:
            out[name] = coef * table.get(str(features[name]), unknown)
        return out

    def log_odds(self, features: dict[str, Any]) -> float:
        """Log-odds of default before calibration."""
        return self.intercept + sum(self.contributions(features).values())


class Challenger:
    """A LightGBM booster read from its text file, fed one numpy row in a fixed feature order."""

    def __init__(self, model_file: Path, feature_order: list[str], category_codes: dict[str, dict[str, int]]) -> None:
        import lightgbm
        import numpy as np

        self._np = np
        self.booster = lightgbm.Booster(model_file=str(model_file))
        self.feature_order = list(feature_order)
        self.category_codes = category_codes
        if self.booster.num_feature() != len(self.feature_order):
            raise ConfigurationError("挑战者模型的特征数量与清单不一致",
                                     "challenger model feature count does not match the manifest")

    def row(self, features: dict[str, Any]) -> Any:
        """The 1 × n float64 row LightGBM expects (categories as their integer codes)."""
        values = []
        for name in self.feature_order:
            value = features[name]
            codes = self.category_codes.get(name)
            if codes is not None:
                value = codes.get(str(value), math.nan)
            values.append(math.nan if value is None else float(value))
        return self._np.array([values], dtype=self._np.float64)

    def log_odds(self, features: dict[str, Any]) -> float:
        """Raw score (log-odds of default) before calibration."""
        return float(self.booster.predict(self.row(features), raw_score=True, num_threads=1)[0])

    def contributions(self, features: dict[str, Any]) -> tuple[float, dict[str, float]]:
        """Log-odds and the SHAP contribution of each feature (``pred_contrib``); they sum to the log-odds."""
        contrib = self.booster.predict(self.row(features), pred_contrib=True, num_threads=1)[0]
        per_feature = {name: float(c) for name, c in zip(self.feature_order, contrib[:-1], strict=True)}
        return float(contrib.sum()), per_feature


@dataclass(frozen=True)
class Assessment:
    """One model's verdict on one applicant."""

    variant: Variant
    model_version: str
    probability_of_default: float
    score: int
    grade: policy.Grade
    decision: policy.Decision
    factors: list[Factor] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """The bilingual reasons (only computed for the model that served)."""
        return reasons(self.factors)


@dataclass(frozen=True)
class ScoreResult:
    """The served assessment, the other model's shadow score, and the defaults that were assumed."""

    served: Assessment
    shadow: Assessment
    assumed: dict[str, Any]
    features: dict[str, float | str]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Scorer:
    """Both models, loaded once; ``score`` serves one and records the other as a shadow."""

    def __init__(self, directory: Path, challenger_share: float = 0.0) -> None:
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise ConfigurationError(f"缺少评分模型文件 {manifest_path}，请运行 loan-assistant train scoring",
                                     f"missing scoring model {manifest_path}; run `loan-assistant train scoring`")
        self.manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        self.challenger_share = challenger_share
        champion = self.manifest["champion"]
        challenger = self.manifest["challenger"]
        self._check(directory / champion["file"], champion["sha256"])
        self._check(directory / challenger["file"], challenger["sha256"])
        self.scorecard = Scorecard(json.loads((directory / champion["file"]).read_text(encoding="utf-8")))
        self.challenger = Challenger(directory / challenger["file"], challenger["feature_order"],
                                     challenger["category_codes"])
        self.calibration: dict[Variant, Calibration] = {
            "champion": Calibration(**champion["calibration"]),
            "challenger": Calibration(**challenger["calibration"]),
        }
        self.versions: dict[Variant, str] = {
            "champion": f"scorecard-{champion['sha256'][:12]}",
            "challenger": f"lgbm-{challenger['sha256'][:12]}",
        }

    @staticmethod
    def _check(path: Path, sha256: str) -> None:
        if not path.is_file():
            raise ConfigurationError(f"缺少评分模型文件 {path}", f"missing scoring model file {path}")
        if _sha256(path) != sha256:
            # A model file changed without retraining would no longer match its calibration.
            raise ConfigurationError(f"评分模型文件 {path.name} 与清单不一致，请重新训练",
                                     f"scoring model file {path.name} does not match the manifest; retrain")

    def assess(self, variant: Variant, features: dict[str, Any], assumed: dict[str, Any],
               explain: bool = True) -> Assessment:
        """One model's PD, points, grade, decision and (if ``explain``) its ranked factors."""
        ranked: list[Factor] = []
        if variant == "champion":
            contributions = self.scorecard.contributions(features)
            z = self.scorecard.intercept + sum(contributions.values())
            if explain:
                ranked = factors(contributions, features, assumed)
        elif explain:
            z, contributions = self.challenger.contributions(features)
            ranked = factors(contributions, features, assumed)
        else:
            z = self.challenger.log_odds(features)
        pd_ = self.calibration[variant].pd(z)
        grade = policy.grade(pd_)
        decision = policy.decision(grade, complete=not assumed)
        return Assessment(variant, self.versions[variant], pd_, policy.points(pd_), grade, decision, ranked)

    def score(self, applicant: Applicant, applicant_id: str | None = None) -> ScoreResult:
        """Validate, map, and score with both models; the A/B arm decides which one is served."""
        validate_applicant(applicant)
        features, assumed = applicant_features(applicant)
        served_variant = assign_variant(applicant_id, self.challenger_share)
        shadow_variant: Variant = "challenger" if served_variant == "champion" else "champion"
        served = self.assess(served_variant, features, assumed, explain=True)
        shadow = self.assess(shadow_variant, features, assumed, explain=False)
        return ScoreResult(served, shadow, assumed, features)
