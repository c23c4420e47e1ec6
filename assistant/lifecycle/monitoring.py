"""Early warning: rules and a model over repayment behaviour, the car, and outside stress → 3 levels.

Levels: 1 关注 *watch*, 2 预警 *alert*, 3 高危 *critical*. A loan's level is the highest of

- **rules** — plain, explainable triggers: days past due, missed / partial payments, payments drifting
  later, the car worth less than the debt or falling faster than its residual curve, insurance not
  renewed, and a regional / industry stress flag *combined with* a behaviour signal;
- **the model** — a logistic regression on the same features predicting "90+ days past due within
  6 months"; its probability maps to a level by thresholds chosen on a held-out simulated book.

Every warning carries its reasons in Chinese and English. ``loan-assistant monitor`` runs a pass over
the book and records the run, the warnings, each loan's state, month-end buckets and roll rates —
everything the dashboard reads, so the dashboard only aggregates small tables in SQL.

The shipped model (``assistant/models/lifecycle/early_warning.json``) is trained on *simulated* books
(``loan-assistant train lifecycle``); a lender should retrain it on its own outcomes before relying on
the probabilities. When the file is missing the rules still work and the pass says so."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select

from assistant.errors import ConfigurationError
from assistant.lifecycle.book import LoanBook, chunks, loan_meta, write_states
from assistant.lifecycle.ledger import BUCKETS, Behaviour, Ledger, add_months, bucket_of
from assistant.lifecycle.signals import active_flags
from assistant.lifecycle.warning_facts import (
    FEATURES,
    GRADE_ORDINAL,
    INDUSTRY_ZH,
    LoanFacts,
    Signals,
    feature_vector,
    loan_signals,
)
from assistant.lifecycle.warning_rules import Reason, rule_reasons
from assistant.storage.loans import BucketHistoryRow, LoanRow, LoanWarningRow, MonitorRunRow, RollRateRow

# The loan facts and the rules live in warning_facts / warning_rules; their names stay importable from here.
__all__ = [
    "FEATURES",
    "GRADE_ORDINAL",
    "HISTORY_MONTHS",
    "INDUSTRY_ZH",
    "LEVEL_NAMES",
    "MODEL_FILE",
    "Assessment",
    "EarlyWarningModel",
    "LoanFacts",
    "MonitorReport",
    "PassData",
    "Reason",
    "Signals",
    "assess",
    "feature_vector",
    "load_model",
    "loan_signals",
    "model_reason",
    "month_ends_before",
    "rule_reasons",
    "run_monitor",
]

LEVEL_NAMES = {0: ("正常", "normal"), 1: ("关注", "watch"), 2: ("预警", "alert"), 3: ("高危", "critical")}
MODEL_FILE = "early_warning.json"
HISTORY_MONTHS = 7  # month ends kept per pass → 6 roll-rate transitions


# --- the model ---------------------------------------------------------------------------------------
class EarlyWarningModel:
    """Standardised logistic regression, evaluated from its exported JSON (no scikit-learn at run time)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if tuple(spec["features"]) != FEATURES:
            raise ConfigurationError("预警模型的特征与代码不一致，请重新训练",
                                     "early-warning model features differ from the code; retrain it")
        self.spec = spec
        self.version: str = spec["version"]
        self.mean = [float(x) for x in spec["mean"]]
        self.scale = [float(x) or 1.0 for x in spec["scale"]]
        self.coef = [float(x) for x in spec["coef"]]
        self.intercept = float(spec["intercept"])
        self.thresholds = {int(k): float(v) for k, v in spec["thresholds"].items()}

    @classmethod
    def load(cls, path: Path) -> EarlyWarningModel:
        """Read the exported model."""
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigurationError(f"缺少预警模型文件 {path}（运行 loan-assistant train lifecycle）",
                                     f"early-warning model missing: {path} (run loan-assistant train lifecycle)",
                                     ) from None

    def contributions(self, x: Sequence[float]) -> list[float]:
        """Each feature's push on the log-odds (standardised value × coefficient)."""
        return [(v - m) / s * c for v, m, s, c in zip(x, self.mean, self.scale, self.coef, strict=True)]

    def probability(self, x: Sequence[float]) -> float:
        """P(90+ days past due within 6 months)."""
        z = self.intercept + sum(self.contributions(x))
        return 1.0 / (1.0 + math.exp(-z)) if z >= -700 else 0.0

    def level(self, p: float) -> int:
        """The warning level the probability reaches (0 none)."""
        return max((lvl for lvl, t in self.thresholds.items() if p >= t), default=0)


@lru_cache(maxsize=4)
def load_model(models_dir: Path) -> EarlyWarningModel | None:
    """The shipped model, loaded once per directory; None if not trained yet (rules still run)."""
    path = models_dir / "lifecycle" / MODEL_FILE
    return EarlyWarningModel.load(path) if path.is_file() else None


_MODEL_REASON = {
    "dpd": ("当前逾期", "days past due now"), "dpd_trend": ("逾期天数上升", "DPD rising"),
    "max_dpd_12m": ("近12个月最长逾期", "worst DPD in 12 months"), "missed_3m": ("近3个月未还", "missed in 3 months"),
    "partial_3m": ("近3个月部分还款", "partial payments in 3 months"),
    "missed_6m": ("近6个月未还", "missed in 6 months"),
    "partial_6m": ("近6个月部分还款", "partial payments in 6 months"),
    "consecutive_missed": ("连续未还", "consecutive misses"), "shortfall_3m": ("近3个月还款不足", "3-month shortfall"),
    "late_recent": ("近期还款偏晚", "recent lateness"), "lateness_drift": ("还款日期推迟", "payments drifting later"),
    "ltv_now": ("剩余本金/车辆估值偏高", "high debt-to-car-value"),
    "excess_value_drop": ("车辆贬值过快", "car value falling"),
    "insurance_lapsed": ("车险未续保", "insurance lapsed"), "region_stress": ("地区风险", "regional stress"),
    "industry_stress": ("行业风险", "industry stress"), "grade": ("放款时信用等级", "grade at origination"),
    "young_loan": ("放款未满18个月", "loan under 18 months old"),
}


def model_reason(model: EarlyWarningModel, x: Sequence[float], p: float, level: int) -> Reason:
    """The model's verdict with its two strongest contributing factors."""
    pushes = sorted(zip(FEATURES, model.contributions(x), strict=True), key=lambda kv: -kv[1])
    top = [name for name, push in pushes[:2] if push > 0.1]
    zh = "、".join(_MODEL_REASON[n][0] for n in top) or "综合表现"
    en = ", ".join(_MODEL_REASON[n][1] for n in top) or "overall profile"
    return Reason(code="model", level=level, zh=f"模型预测6个月内严重逾期（90天以上）概率{p:.0%}（主要因素：{zh}）",
                  en=f"model: {p:.0%} chance of 90+ days past due within 6 months (main factors: {en})")


@dataclass
class Assessment:
    """The warning for one loan."""

    level: int
    score: float
    reasons: list[Reason]


def assess(facts: LoanFacts, b: Behaviour, sig: Signals, model: EarlyWarningModel | None) -> Assessment:
    """Rules and model → level (the higher of the two), score and reasons (strongest first)."""
    reasons = rule_reasons(b, sig)
    level = max((r.level for r in reasons), default=0)
    score = 0.0
    if model is not None:
        x = feature_vector(facts, b, sig)
        score = model.probability(x)
        m_level = model.level(score)
        if m_level:
            reasons.append(model_reason(model, x, score, m_level))
            level = max(level, m_level)
    if level == 0:
        return Assessment(0, score, [])
    reasons.sort(key=lambda r: -r.level)
    return Assessment(level, score, reasons)


# --- the pass ----------------------------------------------------------------------------------------
class MonitorReport(BaseModel):
    """What a monitoring pass found."""

    run_id: int
    as_of: dt.date
    loans: int
    by_level: dict[int, int]
    by_bucket: dict[str, int]
    seconds: float
    model_version: str
    collateral_refreshed: int = 0

    def summary(self) -> str:
        """One line for the command line."""
        levels = ", ".join(f"{LEVEL_NAMES[k][0]}/{LEVEL_NAMES[k][1]} {self.by_level.get(k, 0)}" for k in (1, 2, 3))
        buckets = ", ".join(f"{b} {self.by_bucket.get(b, 0)}" for b in BUCKETS)
        return (f"monitor run {self.run_id} as of {self.as_of}: {self.loans} loans in {self.seconds:.2f} s; warnings "
                f"{levels}; buckets {buckets}; model {self.model_version}")


@dataclass
class PassData:
    """Intermediate results of a pass (kept for the benchmark and tests)."""

    facts: dict[str, LoanFacts] = field(default_factory=dict)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    assessments: dict[str, Assessment] = field(default_factory=dict)


def run_monitor(book: LoanBook, *, models_dir: Path, as_of: dt.date | None = None,
                model: EarlyWarningModel | bool | None = True, keep: PassData | None = None) -> MonitorReport:
    """One monitoring pass over every loan not yet settled: warnings, loan state, buckets, roll rates.

    ``model=True`` loads the shipped model (rules only if it is missing); ``False``/``None`` → rules only.
    """
    from assistant.lifecycle.collections import action_for_warning

    start = time.perf_counter()
    day = as_of or book.today()
    ew = load_model(models_dir) if model is True else (model or None)
    data = keep if keep is not None else PassData()
    with book.sessions() as s:
        rows = s.execute(select(LoanRow).where(LoanRow.status != "settled")).scalars().all()
        facts = {r.id: LoanFacts.from_mapping(r) for r in rows if r.disbursed_on <= day}
        ids = list(facts)
        # most of a book is open: one scan of every schedule beats hundreds of IN (...) look-ups
        whole = len(ids) * 2 > (s.scalar(select(func.count()).select_from(LoanRow)) or 0)
        ledgers = book.load_ledgers(s, None if whole else ids)
        ledgers = {lid: ledgers[lid] for lid in ids}
        flags = active_flags(s, day)
        meta = loan_meta(s, ids)
        run = MonitorRunRow(as_of=day, loans=len(ids), model_version=ew.version if ew else "rules-only")
        s.add(run)
        s.flush()
        warnings: list[dict[str, Any]] = []
        levels: dict[str, tuple[int, float | None, int | None]] = {}
        for lid in ids:
            f = facts[lid]
            b = ledgers[lid].behaviour(day, f.disbursed_on)
            settled = b.outstanding_principal == 0 and b.arrears == 0
            a = Assessment(0, 0.0, []) if settled else assess(f, b, loan_signals(f, b, flags), ew)
            data.behaviours[lid], data.assessments[lid] = b, a
            levels[lid] = (a.level, round(a.score, 6), run.id)
            if a.level:
                warnings.append({
                    "run_id": run.id, "loan_id": lid, "as_of": day, "level": a.level, "score": round(a.score, 6),
                    "reasons": json.dumps([r.model_dump() for r in a.reasons], ensure_ascii=False),
                    "action": action_for_warning(b, a.level), "status": "open",
                    "created_at": dt.datetime.now(dt.UTC),
                })
        data.facts = facts
        for part in chunks(warnings, 2000):
            s.connection().execute(LoanWarningRow.__table__.insert(), list(part))
        write_states(s, data.behaviours, {lid: m[1] for lid, m in meta.items()}, levels)
        _write_history(s, run.id, day, ledgers, facts)
        counts = Counter(a.level for a in data.assessments.values())
        run.level1, run.level2, run.level3 = counts.get(1, 0), counts.get(2, 0), counts.get(3, 0)
        run.seconds = time.perf_counter() - start
        s.commit()
        run_id = run.id
    return MonitorReport(
        run_id=run_id, as_of=day, loans=len(ids), by_level={k: counts.get(k, 0) for k in (1, 2, 3)},
        by_bucket=dict(Counter(bucket_of(b.dpd) for b in data.behaviours.values())),
        seconds=time.perf_counter() - start, model_version=ew.version if ew else "rules-only",
    )


def month_ends_before(day: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` month ends strictly before ``day``, oldest first."""
    first = day.replace(day=1)
    return [add_months(first, -k) - dt.timedelta(days=1) for k in range(count, 0, -1)]


def _write_history(s: Any, run_id: int, day: dt.date, ledgers: dict[str, Ledger],
                   facts: dict[str, LoanFacts]) -> None:
    """Month-end buckets for the last months, and the roll rates between consecutive month ends."""
    ends = month_ends_before(day, HISTORY_MONTHS)
    months = [f"{d:%Y-%m}" for d in ends]
    history: list[dict[str, Any]] = []
    rolls: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for lid, led in ledgers.items():
        disbursed = facts[lid].disbursed_on
        previous: tuple[str, str, int] | None = None  # (month, bucket or "settled", outstanding)
        for month, end in zip(months, ends, strict=True):
            if end < disbursed:
                continue
            outstanding = led.outstanding_principal(end)
            dpd = led.dpd(end)
            state = bucket_of(dpd) if outstanding or led.arrears(end) else "settled"
            if state != "settled":
                history.append({"loan_id": lid, "month": month, "dpd": dpd, "bucket": state,
                                "outstanding_fen": outstanding})
            if previous is not None and previous[1] != "settled":
                cell = rolls[(previous[0], previous[1], state)]
                cell[0] += 1
                cell[1] += previous[2]
            previous = (month, state, outstanding)
    ids = list(ledgers)
    for part in chunks(ids):
        s.connection().execute(delete(BucketHistoryRow).where(BucketHistoryRow.loan_id.in_(part))
                  .where(BucketHistoryRow.month.in_(months)))
    for part in chunks(history, 5000):
        s.connection().execute(BucketHistoryRow.__table__.insert(), list(part))
    s.execute(delete(RollRateRow).where(RollRateRow.run_id == run_id))
    if rolls:
        s.connection().execute(RollRateRow.__table__.insert(), [
            {"run_id": run_id, "from_month": m, "from_bucket": f, "to_bucket": t, "loans": c[0],
             "outstanding_fen": c[1]}
            for (m, f, t), c in rolls.items()])
