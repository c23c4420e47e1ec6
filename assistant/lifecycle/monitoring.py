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
the probabilities. When the file is missing the rules still work and the pass says so.
"""

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

from assistant.domain.money import from_fen
from assistant.errors import ConfigurationError
from assistant.lifecycle.book import LoanBook, chunks, loan_meta, write_states
from assistant.lifecycle.ledger import BUCKETS, Behaviour, Ledger, add_months, bucket_of
from assistant.lifecycle.signals import StressFlag, active_flags, expected_value_fen
from assistant.storage.loans import (
    BucketHistoryRow,
    LoanRow,
    LoanWarningRow,
    MonitorRunRow,
    RollRateRow,
)

LEVEL_NAMES = {0: ("正常", "normal"), 1: ("关注", "watch"), 2: ("预警", "alert"), 3: ("高危", "critical")}
MODEL_FILE = "early_warning.json"
GRADE_ORDINAL = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
INDUSTRY_ZH = {
    "manufacturing": "制造业", "retail": "批发零售", "construction": "建筑业", "real_estate": "房地产",
    "logistics": "交通运输", "hospitality": "餐饮住宿", "it": "信息技术", "education": "教育", "healthcare": "医疗",
    "public_sector": "机关事业单位", "self_employed": "个体经营", "foreign_trade": "外贸",
}
HISTORY_MONTHS = 7  # month ends kept per pass → 6 roll-rate transitions

FEATURES: tuple[str, ...] = (
    "dpd", "dpd_trend", "max_dpd_12m", "missed_3m", "partial_3m", "missed_6m", "partial_6m",
    "consecutive_missed", "shortfall_3m", "late_recent", "lateness_drift", "ltv_now", "excess_value_drop",
    "insurance_lapsed", "region_stress", "industry_stress", "grade", "young_loan",
)


# --- what a loan looks like to the monitor -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoanFacts:
    """The non-behaviour facts monitoring reads about a loan (from a ``loans`` row or a simulated dict)."""

    loan_id: str
    disbursed_on: dt.date
    grade: str | None
    region: str | None
    industry: str | None
    energy_type: str | None
    vehicle_price_fen: int
    vehicle_age_years: float
    collateral_value_fen: int
    collateral_value_now_fen: int | None
    insurance_expires_on: dt.date | None

    @classmethod
    def from_mapping(cls, row: Any) -> LoanFacts:
        """From a ``loans`` row (attribute access) or a dict of its columns."""
        get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
        return cls(loan_id=get("id"), disbursed_on=get("disbursed_on"), grade=get("grade"), region=get("region"),
                   industry=get("industry"), energy_type=get("energy_type"),
                   vehicle_price_fen=get("vehicle_price_fen"), vehicle_age_years=get("vehicle_age_years") or 0.0,
                   collateral_value_fen=get("collateral_value_fen"),
                   collateral_value_now_fen=get("collateral_value_now_fen"),
                   insurance_expires_on=get("insurance_expires_on"))


@dataclass(frozen=True, slots=True)
class Signals:
    """Vehicle and external signals of a loan on a date."""

    ltv_now: float
    excess_value_drop: float
    value_now_fen: int | None
    insurance_lapsed_days: int
    region_flag: StressFlag | None
    industry_flag: StressFlag | None


def loan_signals(facts: LoanFacts, b: Behaviour, flags: dict[tuple[str, str], StressFlag]) -> Signals:
    """The car's value against the debt and its expected path, insurance, and stress flags."""
    value = facts.collateral_value_now_fen
    age_now = facts.vehicle_age_years + (b.as_of - facts.disbursed_on).days / 365.25
    expected = expected_value_fen(facts.collateral_value_fen, facts.energy_type, facts.vehicle_age_years, age_now)
    ltv = b.outstanding_principal / value if value else 0.0
    drop = max(0.0, 1.0 - value / expected) if value and expected else 0.0
    lapsed = 0
    if facts.insurance_expires_on is not None and facts.insurance_expires_on < b.as_of and b.outstanding_principal:
        lapsed = (b.as_of - facts.insurance_expires_on).days
    return Signals(
        ltv_now=ltv, excess_value_drop=drop, value_now_fen=value, insurance_lapsed_days=lapsed,
        region_flag=flags.get(("region", facts.region or "")),
        industry_flag=flags.get(("industry", facts.industry or "")),
    )


def feature_vector(facts: LoanFacts, b: Behaviour, sig: Signals) -> list[float]:
    """The model's inputs, in :data:`FEATURES` order (scaled to comparable ranges, capped)."""
    return [
        min(b.dpd, 120) / 30, max(-60, min(60, b.dpd_trend)) / 30, min(b.max_dpd_12m, 120) / 30,
        float(b.missed_3m), float(b.partial_3m), float(b.missed_6m), float(b.partial_6m),
        float(min(b.consecutive_missed, 6)), max(0.0, min(1.0, 1.0 - b.paid_ratio_3m)),
        min(b.late_days_recent, 30.0) / 10, max(-30.0, min(30.0, b.lateness_drift)) / 10,
        min(sig.ltv_now, 2.0), min(sig.excess_value_drop, 1.0), 1.0 if sig.insurance_lapsed_days > 0 else 0.0,
        float(sig.region_flag.severity if sig.region_flag else 0), float(sig.industry_flag.severity if sig.industry_flag
                                                                         else 0),
        float(GRADE_ORDINAL.get(facts.grade or "", 2)), 1.0 if b.months_on_book < 18 else 0.0,
    ]


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


# --- rules -------------------------------------------------------------------------------------------
class Reason(BaseModel):
    """Why a loan is flagged."""

    code: str
    level: int
    zh: str
    en: str


def rule_reasons(b: Behaviour, sig: Signals) -> list[Reason]:
    """The rule triggers of a loan, each with the level it alone justifies."""
    out: list[Reason] = []
    if b.dpd > 60:
        out.append(Reason(code="dpd_60", level=3, zh=f"已逾期{b.dpd}天（M3+）", en=f"{b.dpd} days past due (M3+)"))
    elif b.dpd > 30:
        out.append(Reason(code="dpd_30", level=2, zh=f"已逾期{b.dpd}天（M2）", en=f"{b.dpd} days past due (M2)"))
    elif b.dpd > 3:
        out.append(Reason(code="dpd_grace", level=1, zh=f"已逾期{b.dpd}天，超过3天宽限期",
                          en=f"{b.dpd} days past due, beyond the 3-day grace period"))
    if b.consecutive_missed >= 2:
        out.append(Reason(code="consecutive_missed", level=3, zh=f"连续{b.consecutive_missed}期未还款",
                          en=f"{b.consecutive_missed} instalments in a row with no payment"))
    elif b.missed_6m >= 2:
        out.append(Reason(code="missed_6m", level=2, zh=f"近6个月有{b.missed_6m}期未还款",
                          en=f"{b.missed_6m} instalments with no payment in 6 months"))
    elif b.missed_3m == 1:
        out.append(Reason(code="missed_3m", level=1, zh="近3个月有1期未按时还款",
                          en="one instalment missed in 3 months"))
    if b.partial_3m >= 2:
        out.append(Reason(code="partial_3m", level=2, zh=f"近3个月{b.partial_3m}次只还了部分金额",
                          en=f"{b.partial_3m} partial payments in 3 months"))
    elif b.partial_3m == 1:
        out.append(Reason(code="partial_1", level=1, zh="近3个月有1次只还了部分金额",
                          en="one partial payment in 3 months"))
    if b.dpd > 3 and b.dpd_trend > 0 and b.dpd_30d_ago > 0:
        out.append(Reason(code="dpd_rising", level=2, zh=f"逾期天数仍在上升（30天前{b.dpd_30d_ago}天）",
                          en=f"days past due still rising (was {b.dpd_30d_ago} 30 days ago)"))
    if b.lateness_drift >= 4 and b.late_days_recent >= 4:
        out.append(Reason(code="lateness_drift", level=1,
                          zh=f"还款明显推迟：近3期平均晚{b.late_days_recent:.0f}天（此前{b.late_days_before:.0f}天）",
                          en=f"paying later: last 3 instalments {b.late_days_recent:.0f} days late on average "
                             f"(before: {b.late_days_before:.0f})"))
    if sig.ltv_now >= 1.0 and sig.value_now_fen:
        out.append(Reason(code="underwater", level=1,
                          zh=f"车辆估值{from_fen(sig.value_now_fen)}元已低于剩余本金{from_fen(b.outstanding_principal)}元",
                          en=f"car valued at {from_fen(sig.value_now_fen)} yuan, below the "
                             f"{from_fen(b.outstanding_principal)} yuan still owed"))
    if sig.excess_value_drop >= 0.2:
        out.append(Reason(code="value_drop", level=1,
                          zh=f"车辆估值比正常折旧多下跌{sig.excess_value_drop:.0%}",
                          en=f"car value {sig.excess_value_drop:.0%} below its normal depreciation path"))
    if sig.insurance_lapsed_days > 0:
        level = 2 if b.arrears > 0 or b.partial_3m or b.missed_3m else 1
        out.append(Reason(code="insurance_lapsed", level=level, zh=f"车险已过期{sig.insurance_lapsed_days}天未续保",
                          en=f"car insurance lapsed {sig.insurance_lapsed_days} days ago"))
    behaviour_signal = any(r.code not in ("underwater", "value_drop") for r in out)
    for flag in (sig.region_flag, sig.industry_flag):
        if flag is None:
            continue
        name = INDUSTRY_ZH.get(flag.key, flag.key)
        out.append(Reason(
            code=f"{flag.kind}_stress", level=2 if behaviour_signal else 0,
            zh=f"{'地区' if flag.kind == 'region' else '行业'}风险预警（{name}）：{flag.reason_zh}",
            en=f"{flag.kind} stress flag ({flag.key}): {flag.reason_en}"))
    return out


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
