"""Fit the fraud score on the synthetic set's *training* split and write ``assistant/models/fraud/weights.json``.

The model is a logistic regression over one indicator per reason code, with an L2 penalty and weights
held ≥ 0 (a red flag never lowers the score, even where the training set's hard cases would pull it
below zero: being on a blacklist cannot be evidence of honesty). The thresholds are chosen on the same
training split: ``decline_at`` is the lowest score whose decline precision is ≥ :data:`DECLINE_PRECISION`,
``review_at`` the lowest whose share of genuine applications sent to review-or-decline is ≤
:data:`REVIEW_FPR`. The test split is not read here.

Run: ``python -m assistant.fraud.train [--data eval/fraud] [--out assistant/models/fraud/weights.json]``.
Needs numpy and scipy (installed with scikit-learn).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.fraud.files import MODEL_PATH, load_known_bad
from assistant.fraud.models import FraudInput, KnownBadLists, PriorApplication
from assistant.fraud.policy import FraudPolicy
from assistant.fraud.signals import REASON_CODES, detect
from assistant.fraud.synthetic import load_cases

DECLINE_PRECISION = 0.95  # an automatic decline is wrong at most 1 time in 20 (on training data)
REVIEW_FPR = 0.08  # officers look at no more than 8 % of genuine applicants
L2 = 1.0


def fired_codes(case: dict[str, Any], lists: KnownBadLists, policy: FraudPolicy) -> list[str]:
    """The reason codes that fire on one stored case."""
    app = FraudInput.model_validate(case["application"])
    priors = [PriorApplication.model_validate(p) for p in case["priors"]]
    return [h.code for h in detect(app, priors, lists, policy)]


def fit(codes: list[list[str]], labels: list[int], l2: float = L2) -> tuple[float, dict[str, float]]:
    """Penalised maximum likelihood with non-negative weights (L-BFGS-B)."""
    import numpy as np
    from scipy.optimize import minimize

    x = np.array([[code in fired for code in REASON_CODES] for fired in codes], dtype=float)
    y = np.array(labels, dtype=float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        p = 1.0 / (1.0 + np.exp(-z))
        nll = float(np.sum(np.logaddexp(0, z) - y * z)) + l2 / 2 * float(theta[1:] @ theta[1:])
        grad = np.concatenate([[np.sum(p - y)], x.T @ (p - y) + l2 * theta[1:]])
        return nll, grad

    bounds = [(None, None)] + [(0.0, None)] * len(REASON_CODES)
    result = minimize(loss, np.zeros(len(REASON_CODES) + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        raise RuntimeError(f"fraud model fit did not converge: {result.message}")
    return float(result.x[0]), {code: round(float(w), 4) for code, w in zip(REASON_CODES, result.x[1:], strict=True)}


def _cut(values: list[float], k: int) -> float:
    """A threshold that includes values[0..k] (descending) and excludes the rest, half-way between."""
    return (values[k] + values[k + 1]) / 2 if k + 1 < len(values) else values[k] / 2


def thresholds(scores: list[float], labels: list[int]) -> tuple[float, float]:
    """(review_at, decline_at) from the targets, on these (training) scores."""
    distinct = sorted(set(scores), reverse=True)
    genuine = labels.count(0) or 1
    decline_at = review_at = None
    for k, value in enumerate(distinct):
        chosen = [y for s, y in zip(scores, labels, strict=True) if s >= value]
        precision = sum(chosen) / len(chosen)
        fpr = (len(chosen) - sum(chosen)) / genuine
        if precision >= DECLINE_PRECISION:
            decline_at = _cut(distinct, k)
        if fpr <= REVIEW_FPR:
            review_at = _cut(distinct, k)
    decline_at = decline_at if decline_at is not None else 0.99
    review_at = min(review_at if review_at is not None else decline_at, decline_at)
    return round(review_at, 6), round(decline_at, 6)


def train(data_dir: Path, out: Path = MODEL_PATH) -> dict[str, Any]:
    """Fit on ``data_dir/train.jsonl`` and write the model file; returns what was written."""
    import math

    lists = load_known_bad(data_dir / "known_bad.json")
    policy = FraudPolicy()
    cases = load_cases(data_dir / "train.jsonl")
    codes = [fired_codes(c, lists, policy) for c in cases]
    labels = [int(c["label"] == "fraud") for c in cases]
    intercept, weights = fit(codes, labels)
    scores = [1 / (1 + math.exp(-(intercept + sum(weights[c] for c in set(fired))))) for fired in codes]
    review_at, decline_at = thresholds(scores, labels)
    digest = hashlib.sha256((data_dir / "train.jsonl").read_bytes()).hexdigest()
    model = {
        # The version names the data and the fit, so new signals on the same data get a new version.
        "version": "fraud-lr-" + hashlib.sha256(f"{digest}{intercept:.4f}{sorted(weights.items())}".encode())
        .hexdigest()[:8], "intercept": round(intercept, 4), "weights": weights,
        "review_at": review_at, "decline_at": decline_at,
        "fitted": {"data": "eval/fraud/train.jsonl", "sha256": digest, "n": len(cases), "fraud": sum(labels),
                   "l2": L2, "decline_precision_target": DECLINE_PRECISION, "review_fpr_target": REVIEW_FPR,
                   "non_negative": True},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return model


def main() -> None:
    """Command line: fit and print the weights."""
    parser = argparse.ArgumentParser(description="fit the fraud score on eval/fraud/train.jsonl")
    parser.add_argument("--data", type=Path, default=Path("eval/fraud"))
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    model = train(args.data, args.out)
    print(json.dumps({k: model[k] for k in ("version", "intercept", "weights", "review_at", "decline_at")}, indent=1))


if __name__ == "__main__":
    main()
