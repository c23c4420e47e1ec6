"""Early warning: rules, the model, and a monitoring pass over a simulated book."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from assistant.lifecycle.book import LoanBook
from assistant.lifecycle.ledger import Behaviour
from assistant.lifecycle.monitoring import (
    FEATURES,
    LoanFacts,
    PassData,
    Signals,
    assess,
    feature_vector,
    load_model,
    rule_reasons,
    run_monitor,
)
from assistant.lifecycle.signals import StressFlag, add_stress_flag
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.loans import (
    BucketHistoryRow,
    LoanStateRow,
    LoanWarningRow,
    MonitorRunRow,
    RollRateRow,
    SimulationTruthRow,
)
from tests.lifecycle.conftest import AS_OF, issue, pay_schedule

CLEAN = Behaviour(as_of=AS_OF, dpd=0, dpd_30d_ago=0, dpd_60d_ago=0, max_dpd_12m=0, arrears=0,
                  outstanding_principal=5_000_000, paid_total=3_000_000, periods_due=10, periods_paid=10, missed_3m=0,
                  partial_3m=0, missed_6m=0, partial_6m=0, consecutive_missed=0, paid_ratio_3m=1.0,
                  late_days_recent=0.0, late_days_before=0.0, months_on_book=10, next_due_on=None,
                  next_due_amount=None, last_paid_on=None)
NO_SIGNALS = Signals(ltv_now=0.5, excess_value_drop=0.0, value_now_fen=10_000_000, insurance_lapsed_days=0,
                     region_flag=None, industry_flag=None)
FACTS = LoanFacts(loan_id="X", disbursed_on=dt.date(2026, 1, 15), grade="B", region="上海", industry="it",
                  energy_type="ice", vehicle_price_fen=18_000_000, vehicle_age_years=0.0,
                  collateral_value_fen=18_000_000, collateral_value_now_fen=14_000_000, insurance_expires_on=None)
FLAG = StressFlag("industry", "real_estate", 2, "房地产下行", "real-estate downturn")


def _levels(b: Behaviour, sig: Signals = NO_SIGNALS) -> dict[str, int]:
    return {r.code: r.level for r in rule_reasons(b, sig)}


def test_a_clean_loan_raises_nothing() -> None:
    assert rule_reasons(CLEAN, NO_SIGNALS) == []
    assert assess(FACTS, CLEAN, NO_SIGNALS, None).level == 0


@pytest.mark.parametrize(("change", "code", "level"), [
    ({"dpd": 2}, None, 0),  # inside the grace period
    ({"dpd": 10, "arrears": 100_000}, "dpd_grace", 1),
    ({"dpd": 45, "arrears": 200_000}, "dpd_30", 2),
    ({"dpd": 75, "arrears": 300_000}, "dpd_60", 3),
    ({"consecutive_missed": 2, "missed_3m": 2, "missed_6m": 2}, "consecutive_missed", 3),
    ({"missed_6m": 2}, "missed_6m", 2),
    ({"partial_3m": 2, "partial_6m": 2}, "partial_3m", 2),
    ({"late_days_recent": 9.0, "late_days_before": 1.0}, "lateness_drift", 1),
])
def test_behaviour_rules(change: dict, code: str | None, level: int) -> None:
    levels = _levels(dataclasses.replace(CLEAN, **change))
    if code is None:
        assert levels == {}
    else:
        assert levels[code] == level


def test_vehicle_rules() -> None:
    underwater = dataclasses.replace(NO_SIGNALS, ltv_now=1.2, value_now_fen=4_000_000)
    assert _levels(CLEAN, underwater) == {"underwater": 1}
    dropped = dataclasses.replace(NO_SIGNALS, excess_value_drop=0.3)
    assert _levels(CLEAN, dropped) == {"value_drop": 1}
    lapsed = dataclasses.replace(NO_SIGNALS, insurance_lapsed_days=40)
    assert _levels(CLEAN, lapsed) == {"insurance_lapsed": 1}
    # insurance lapsed *and* money owed is a stronger sign
    assert _levels(dataclasses.replace(CLEAN, dpd=5, arrears=10_000), lapsed)["insurance_lapsed"] == 2


def test_a_stress_flag_alone_is_context_not_a_warning() -> None:
    flagged = dataclasses.replace(NO_SIGNALS, industry_flag=FLAG)
    assert max(_levels(CLEAN, flagged).values()) == 0
    with_partial = _levels(dataclasses.replace(CLEAN, partial_3m=1, partial_6m=1), flagged)
    assert with_partial["industry_stress"] == 2


def test_reasons_are_bilingual() -> None:
    reasons = rule_reasons(dataclasses.replace(CLEAN, dpd=45, arrears=1), NO_SIGNALS)
    assert reasons[0].zh == "已逾期45天（M2）" and reasons[0].en == "45 days past due (M2)"


def test_shipped_model_loads_and_ranks_sensibly(settings: Settings) -> None:
    model = load_model(settings.models_dir)
    assert model is not None and tuple(model.spec["features"]) == FEATURES
    assert "simulated" in model.spec["trained_on"]
    clean = model.probability(feature_vector(FACTS, CLEAN, NO_SIGNALS))
    worse = model.probability(feature_vector(FACTS, dataclasses.replace(
        CLEAN, dpd=40, dpd_30d_ago=10, arrears=200_000, missed_3m=1, missed_6m=1, partial_3m=1, paid_ratio_3m=0.4),
        NO_SIGNALS))
    assert clean < 0.05 < worse
    t = model.thresholds
    assert t[1] < t[2] < t[3]
    a = assess(FACTS, dataclasses.replace(CLEAN, dpd=40, arrears=200_000, missed_3m=1, missed_6m=1), NO_SIGNALS, model)
    assert any(r.code == "model" and "%" in r.zh for r in a.reasons)


def test_pass_on_a_small_book(book: LoanBook, settings: Settings) -> None:
    issue(book, "GOOD", "C1")
    issue(book, "LATE", "C2")
    pay_schedule(book, "GOOD", range(1, 11))
    pay_schedule(book, "LATE", range(1, 8))  # August, September, October and November unpaid
    with book.sessions() as s:
        add_stress_flag(s, "region", "上海", severity=1, starts_on=dt.date(2026, 10, 1), reason_zh="测试",
                        reason_en="test")
    report = run_monitor(book, models_dir=settings.models_dir, as_of=AS_OF)
    assert report.loans == 2 and report.by_level[3] == 1
    with book.sessions() as s:
        states = {r.loan_id: r for r in s.scalars(select(LoanStateRow))}
        warning = s.scalars(select(LoanWarningRow)).one()
    assert states["GOOD"].level == 0 and states["LATE"].level == 3 and states["LATE"].bucket == "M3+"
    reasons = json.loads(warning.reasons)
    assert {"dpd_60", "consecutive_missed", "region_stress"} <= {r["code"] for r in reasons}
    assert all(r["zh"] and r["en"] for r in reasons)
    assert warning.action  # a suggested first step for the collections team


def test_pass_over_a_simulated_book_records_everything(sim_env: tuple[Settings, Services]) -> None:
    settings, services = sim_env
    data = PassData()
    report = run_monitor(services.loans, models_dir=settings.models_dir, as_of=AS_OF, keep=data)
    with services.sessions() as s:
        run = s.get(MonitorRunRow, report.run_id)
        warned = s.scalar(select(func.count()).select_from(LoanWarningRow).where(LoanWarningRow.run_id == run.id))
        months = s.scalar(select(func.count(func.distinct(BucketHistoryRow.month))))
        rolls = s.scalar(select(func.count()).select_from(RollRateRow).where(RollRateRow.run_id == run.id))
        truth = {t.loan_id: t for t in s.scalars(select(SimulationTruthRow))}
    assert run.loans == report.loans and warned == run.level1 + run.level2 + run.level3 > 0
    assert months == 7 and rolls > 0
    # warnings mean something: among loans not yet bad, alerts (level ≥ 2) catch loans that go bad far
    # more often than the base rate, and most loans that go bad were warned about
    population = [lid for lid in data.behaviours if not truth[lid].bad_by_as_of]
    bad = [lid for lid in population if truth[lid].goes_bad]
    alerted = [lid for lid in population if data.assessments[lid].level >= 2]
    base_rate = len(bad) / len(population)
    precision = sum(1 for lid in alerted if truth[lid].goes_bad) / len(alerted)
    recall = sum(1 for lid in bad if data.assessments[lid].level >= 1) / len(bad)
    assert precision > 3 * base_rate
    assert recall > 0.5
