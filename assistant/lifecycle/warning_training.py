"""Training the early-warning model on simulated books: did a loan go 90+ days past due within 6 months?"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.lifecycle.ledger import Ledger, add_months
from assistant.lifecycle.signals import StressFlag
from assistant.lifecycle.warning_facts import FEATURES, LoanFacts, feature_vector, loan_signals


# --- training (simulated books) ----------------------------------------------------------------------
def training_rows(catalogue: Any, *, n_loans: int, seed: int, as_of: dt.date) -> tuple[list[list[float]], list[int]]:
    """Features and labels from one simulated book: loans not yet 90+ DPD at ``as_of`` → went bad within 6 months?"""
    from assistant.lifecycle.ledger import Instalment, Payment
    from assistant.lifecycle.simulate import FLAGS, generate

    flags = {(f.kind, f.key): StressFlag(f.kind, f.key, f.severity, f.reason_zh, f.reason_en)
             for f in FLAGS if add_months(as_of, f.start_months) <= as_of}
    xs: list[list[float]] = []
    ys: list[int] = []
    for sim in generate(catalogue, n_loans, seed, as_of):
        if sim.truth["bad_by_as_of"]:
            continue
        led = Ledger([Instalment(r["period"], r["due_on"], r["payment_fen"], r["principal_fen"], r["interest_fen"],
                                 r["balance_fen"]) for r in sim.schedule],
                     [Payment(e["paid_on"], e["amount_fen"], e["event_id"]) for e in sim.events])
        facts = LoanFacts.from_mapping(sim.loan)
        b = led.behaviour(as_of, facts.disbursed_on)
        if b.outstanding_principal == 0 and b.arrears == 0:
            continue
        xs.append(feature_vector(facts, b, loan_signals(facts, b, flags)))
        ys.append(sim.truth["goes_bad"])
    return xs, ys


def fit_model(xs: list[list[float]], ys: list[int], *, version: str,
              target_precision: dict[int, float] | None = None) -> dict[str, Any]:
    """Fit the logistic regression (scikit-learn, training only) and export it as JSON.

    Level thresholds: the lowest probability at which the model's warnings on the training book reach the
    target precision (level 3: 60 %, level 2: 35 %, level 1: 15 %).
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    targets = target_precision or {3: 0.60, 2: 0.35, 1: 0.15}
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=int)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=0.5, max_iter=2000)
    clf.fit((x - mean) / scale, y)
    p = clf.predict_proba((x - mean) / scale)[:, 1]
    order = np.argsort(-p)
    hits = np.cumsum(y[order])
    precision = hits / np.arange(1, len(y) + 1)
    thresholds: dict[str, float] = {}
    for level, target in sorted(targets.items(), reverse=True):
        ok = np.where(precision >= target)[0]
        # the deepest cut that still meets the target (at least a handful of loans)
        idx = int(ok[ok >= 4].max()) if (ok >= 4).any() else 4
        thresholds[str(level)] = float(p[order][idx])
    # keep the levels ordered even when the targets collide
    t3 = thresholds["3"]
    thresholds["2"] = min(thresholds["2"], t3 * 0.999)
    thresholds["1"] = min(thresholds["1"], thresholds["2"] * 0.999)
    return {
        "version": version,
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 6),
        "thresholds": {k: round(v, 6) for k, v in thresholds.items()},
        "target": "90+ days past due within 180 days",
        "trained_on": f"simulated books ({len(y)} loans, {int(y.sum())} went bad) — not real customers",
        "train_auc": round(float(roc_auc_score(y, p)), 4),
    }
