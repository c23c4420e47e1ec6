"""``loan-assistant eval scoring``: champion vs challenger vs RandomForest baseline, and the A/B replay.

5-fold stratified CV (seed 42, the same folds for every model) on ``modeldata::credit_data``: pooled
out-of-fold ROC AUC, KS and Brier score, with German credit as a second data set checking the method.
The A/B replay assigns every training row to an arm by the hash of its id with
``settings.challenger_share`` and compares the two models on the same rows. It also checks that the
shipped artifacts are the ones the model card describes (same CV figures, same model versions).

Target: champion AUC ≥ the RandomForest's on the same folds. Needs the ``train`` extra.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from assistant.evals.report import reliability

if TYPE_CHECKING:
    from assistant.settings import Settings


def _table(title: str, summary: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'model':<16} {'ROC AUC':>8} {'fold AUC':>16} {'KS':>7} {'Brier':>7}")
    for model, f in summary.items():
        print(f"  {model:<16} {f['auc']:>8.4f} {f['auc_fold_mean']:>8.4f} ± {f['auc_fold_sd']:.4f} "
              f"{f['ks']:>7.4f} {f['brier']:>7.4f}")


def _close(a: Any, b: Any, tol: float = 1e-6) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= tol
    return a == b


def _decision_matrix(y: Any, pd_: Any) -> dict[str, Any]:
    """Good / bad loans against the champion's decision (out-of-fold PDs), for the report."""
    from assistant.scoring import policy

    decisions = ("approve", "review", "decline")
    made = [policy.decision(policy.grade(float(p))) for p in pd_]
    counts = [[sum(1 for d, bad in zip(made, y, strict=True) if int(bad) == row and d == col) for col in decisions]
              for row in (0, 1)]
    return {"labels": ["good 正常", "bad 违约"], "col_labels": list(decisions), "counts": counts,
            "rows": "outcome 实际", "cols": "decision 决策"}


def run(settings: Settings) -> dict[str, Any]:
    """Cross-validate, replay the A/B split, check the shipped artifacts; print and return the figures."""
    from assistant.scoring import train
    from assistant.scoring.model import Scorer

    primary = train.load_credit_data()
    cv = train.cross_validate(primary)
    secondary = train.cross_validate(train.load_german_credit(), include_raw_rf=False)
    summary, check = cv.summary(), secondary.summary()
    ab = train.ab_comparison(cv, settings.challenger_share)
    table = train.policy_table(primary.y, cv.pd["champion"])

    print(f"data: {primary.source}; n={len(primary.y)}, bad rate {primary.notes['bad_rate']:.1%}")
    _table("credit_data, 5-fold CV (same folds for every model)", summary)
    _table(f"German credit (check), n={len(secondary.dataset.y)}", check)
    champion_ge_rf = summary["champion"]["auc"] >= summary["rf_baseline"]["auc"]
    print(f"\ntarget champion AUC ≥ RF AUC: {summary['champion']['auc']:.4f} vs {summary['rf_baseline']['auc']:.4f} "
          f"→ {'PASS' if champion_ge_rf else 'FAIL'}")
    german_gap = check["champion"]["auc"] - check["rf_baseline"]["auc"]
    print(f"German check: champion − RF AUC = {german_gap:+.4f} (fold sd {check['champion']['auc_fold_sd']:.4f})")

    print("\ndecisions (champion, out-of-fold PD):")
    for name, d in table["decisions"].items():
        print(f"  {name:<8} share {d['share']:.1%}  observed bad rate {d['bad_rate']:.1%}")

    print(f"\nA/B replay: challenger share {ab['challenger_share_setting']:.0%} → realised "
          f"{ab['challenger_share_realised']:.1%}; decision agreement {ab['decision_agreement']:.1%}; "
          f"mean |ΔPD| {ab['mean_abs_pd_gap']:.3f}")
    for arm, f in ab["arms"].items():
        print(f"  arm {arm:<10} n={f['n']:<5} served AUC {f['auc']:.4f}  shadow AUC (same rows) "
              f"{f['shadow_auc_same_rows']:.4f}  approval {f['approval_rate']:.1%}  "
              f"bad rate among approved {f['bad_rate_approved']:.1%}")

    scorer = Scorer(settings.models_dir / "scoring", settings.challenger_share)
    metrics_path = settings.resources_dir / "eval" / "scoring" / "metrics.json"
    recorded = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    versions_agree = (recorded.get("champion_version") == scorer.manifest["champion"]["sha256"][:12]
                      and recorded.get("challenger_version") == scorer.manifest["challenger"]["sha256"][:12])
    cv_agrees = _close(recorded.get("credit_data"), summary) and _close(scorer.manifest.get("cv"), summary)
    print(f"\nshipped artifacts: {scorer.versions['champion']}, {scorer.versions['challenger']}; "
          f"model card / metrics.json versions agree: {versions_agree}; CV figures agree: {cv_agrees}")
    return {"credit_data": summary, "german_credit": check, "ab": ab, "policy": table,
            "calibration": reliability(cv.pd["champion"], primary.y, quantiles=True),
            "confusion_matrix": _decision_matrix(primary.y, cv.pd["champion"]),
            "champion_ge_rf": champion_ge_rf, "versions_agree": versions_agree, "cv_agrees": cv_agrees}
