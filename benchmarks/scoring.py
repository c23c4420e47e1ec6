"""Benchmark: single-applicant scoring latency through the service's code path vs the RF baseline.

Service path = what ``POST /v1/score`` runs after FastAPI has parsed the JSON: validate the body into
``ScoreIn``, ``score_applicant`` (features, both models — the served one with its contributions and
reasons, the other as a shadow — calibration, grade, decision) and serialise ``ScoreOut`` to JSON.
Applicant ids are varied, so about ``challenger_share`` of the calls are served by LightGBM with
``pred_contrib``. Baseline = the seeds' ``RandomForestClassifier(n_estimators=100)``, trained on the
same features, scoring a one-row pandas DataFrame per applicant.

Target: median speed-up ≥ 50×. Needs the ``train`` extra (data and RF baseline).
Run: python benchmarks/scoring.py [--n 5000] [--n-rf 300] [--http 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_SPEEDUP = 50.0


def _timings(calls: list[Callable[[], Any]], warmup: int = 50) -> list[float]:
    for call in calls[:warmup]:
        call()
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _stats(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def _applicants(ds: Any, n: int) -> list[dict[str, Any]]:
    """Contract payloads from complete credit_data rows (amounts ×100 to look like yuan; ratios unchanged)."""
    import math

    raw = ds.raw
    rows = []
    home = {"owner": "owner", "rent": "rent", "parents": "parents"}
    job = {"fixed": "fixed", "freelance": "freelance", "partime": "part_time"}
    for r in raw.itertuples(index=False):
        if any(isinstance(v, float) and math.isnan(v) for v in (r.Income, r.Assets, r.Debt)):
            continue
        if not 6 <= r.Time <= 60 or r.Amount > r.Price:
            continue
        rows.append({
            "monthly_income": int(r.Income * 100), "monthly_expenses": int(r.Expenses * 100),
            "loan_amount": int(r.Amount * 100), "vehicle_price": int(r.Price * 100), "term_months": int(r.Time),
            "age": int(r.Age), "employment_years": float(r.Seniority),
            "employment_type": job.get(str(r.Job), "other"), "home_status": home.get(str(r.Home), "other"),
            "has_delinquency": r.Records == "yes", "assets": int(r.Assets * 100), "debt": int(r.Debt * 100),
        })
    return [dict(rows[i % len(rows)], applicant_id=f"bench-{i}") for i in range(n)]


def main() -> None:
    """Time the service path and the RF baseline on the same applicants; print medians, p95 and speed-up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000, help="service-path calls")
    parser.add_argument("--n-rf", type=int, default=300, help="RF one-row DataFrame calls")
    parser.add_argument("--http", type=int, default=500, help="calls through the HTTP app (0 to skip)")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    from assistant.scoring import train
    from assistant.scoring.features import Applicant, applicant_features
    from assistant.scoring.model import assign_variant
    from assistant.services import Services
    from assistant.settings import Settings
    from assistant.tools.registry import ToolContext
    from assistant.tools.score import ScoreIn, score_applicant

    # A partner key (/v1/score needs one) and no rate limit, so the HTTP context line measures the service.
    settings = Settings(data_dir=Path(tempfile.mkdtemp()) / "data", api_keys=["bench"],  # type: ignore[call-arg]
                        rate_limit_per_minute=10**9, _env_file=None)
    services = Services(settings)
    ctx = ToolContext(services=services)
    scorer = services.scorer  # loaded once, as in the service
    ds = train.load_credit_data()
    payloads = _applicants(ds, args.n)

    def service_call(payload: dict[str, Any]) -> Callable[[], Any]:
        return lambda: score_applicant(ctx, ScoreIn.model_validate(payload)).model_dump(mode="json")

    service_ms = _timings([service_call(p) for p in payloads])
    arms = [assign_variant(p["applicant_id"], scorer.challenger_share) for p in payloads]
    by_arm = {arm: [t for t, a in zip(service_ms, arms, strict=True) if a == arm] for arm in ("champion", "challenger")}

    # The seeds' baseline: RF(100) on the same features, one-hot categories, one-row DataFrame per call.
    everything = np.arange(len(ds.y))
    numeric, categorical = list(ds.numeric), list(ds.categorical)
    X = train._rf_matrix(ds.features, numeric, categorical, everything, everything)
    columns = numeric + [f"{c}={level}" for c in categorical for level in sorted(set(ds.features[c].astype(str)))]
    rf = RandomForestClassifier(n_estimators=100, random_state=train.SEED, n_jobs=1)
    rf.fit(pd.DataFrame(X, columns=columns), ds.y)

    def rf_row(payload: dict[str, Any]) -> dict[str, float]:
        features, _ = applicant_features(Applicant.model_validate(payload))
        row = {name: float(features[name]) for name in numeric}
        for c in categorical:
            for level in sorted(set(ds.features[c].astype(str))):
                row[f"{c}={level}"] = 1.0 if features[c] == level else 0.0
        return row

    rf_rows = [rf_row(p) for p in payloads[: args.n_rf]]
    rf_ms = _timings([lambda r=r: rf.predict_proba(pd.DataFrame([r], columns=columns))[:, 1] for r in rf_rows],
                     warmup=10)

    # Model-only figures for context (no validation, no reasons, no pydantic).
    feats = [applicant_features(Applicant.model_validate(p))[0] for p in payloads[:2000]]
    card_ms = _timings([lambda f=f: scorer.scorecard.log_odds(f) for f in feats])
    rows = [scorer.challenger.row(f) for f in feats]
    lgb_ms = _timings([lambda r=r: scorer.challenger.booster.predict(r, raw_score=True, num_threads=1) for r in rows])
    lgb_contrib_ms = _timings([lambda f=f: scorer.challenger.contributions(f) for f in feats[:500]])
    with warnings.catch_warnings():  # fitted with column names; this context line feeds it a bare array
        warnings.simplefilter("ignore", UserWarning)
        rf_np_ms = _timings([lambda x=x: rf.predict_proba(x) for x in X[: args.n_rf, None, :]], warmup=10)

    print(f"applicants: {args.n} (credit_data rows as yuan), challenger share {settings.challenger_share:.0%}")
    print(f"{'path':<58} {'median ms':>10} {'p95 ms':>9} {'n':>6}")

    def line(label: str, ms: list[float]) -> None:
        median, p95 = _stats(ms)
        print(f"{label:<58} {median:>10.4f} {p95:>9.4f} {len(ms):>6}")

    line("service path (validate + score both + reasons + JSON)", service_ms)
    for arm, ms in by_arm.items():
        if ms:
            line(f"  … served by {arm}", ms)
    line("RF baseline, one-row DataFrame predict_proba", rf_ms)
    line("  (context) RF predict_proba on a numpy row", rf_np_ms)
    line("  (context) scorecard log-odds only", card_ms)
    line("  (context) LightGBM raw score, one numpy row", lgb_ms)
    line("  (context) LightGBM pred_contrib, one numpy row", lgb_contrib_ms)

    if args.http:
        from fastapi.testclient import TestClient

        from assistant.api.app import create_app

        with TestClient(create_app(settings, services)) as client:
            headers = {"X-API-Key": "bench"}
            http_ms = _timings([lambda p=p: client.post("/v1/score", json=p, headers=headers)
                                for p in payloads[: args.http]])
            if client.post("/v1/score", json=payloads[0], headers=headers).status_code != 200:
                raise SystemExit("HTTP path did not answer 200")
        line("  (context) HTTP POST /v1/score via TestClient, in-process", http_ms)

    speedup = _stats(rf_ms)[0] / _stats(service_ms)[0]
    speedup_p95 = _stats(rf_ms)[1] / _stats(service_ms)[1]
    verdict = "PASS" if speedup >= TARGET_SPEEDUP else "FAIL"
    print(f"speed-up vs RF one-row DataFrame: median {speedup:.0f}×, p95 {speedup_p95:.0f}× "
          f"(target ≥ {TARGET_SPEEDUP:.0f}× → {verdict})")


if __name__ == "__main__":
    main()
