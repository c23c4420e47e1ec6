"""What the lending team's dashboard shows, aggregated in SQL over the tables a monitoring pass fills.

Nothing here loops over loans in Python: the portfolio is one ``GROUP BY`` over ``loan_state``, roll
rates are the ≤ 150 rows a pass pre-aggregated into ``roll_rates``, and the warnings list is an indexed
``ORDER BY … LIMIT`` — so a page stays well under 200 ms on a 10,000-loan book.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from assistant.domain.money import fen_to_number
from assistant.lifecycle.book import LoanBook
from assistant.lifecycle.collections import ACTION_ZH, Action
from assistant.lifecycle.ledger import BUCKETS
from assistant.lifecycle.monitoring import LEVEL_NAMES
from assistant.lifecycle.simulate import SIM_LABEL_EN, SIM_LABEL_ZH
from assistant.storage.loans import LoanRow, LoanStateRow, LoanWarningRow, MonitorRunRow, RollRateRow

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


ROLL_TARGETS = (*BUCKETS, "settled")


def latest_run(book: LoanBook) -> dict[str, Any] | None:
    """The most recent monitoring pass."""
    with book.sessions() as s:
        run = s.scalars(select(MonitorRunRow).order_by(MonitorRunRow.id.desc()).limit(1)).first()
    if run is None:
        return None
    return {"run_id": run.id, "as_of": run.as_of.isoformat(), "loans": run.loans, "seconds": round(run.seconds, 3),
            "model_version": run.model_version, "warnings": {"1": run.level1, "2": run.level2, "3": run.level3},
            "started_at": run.started_at.isoformat()}


def portfolio(book: LoanBook, simulated: bool | None = None) -> dict[str, Any]:
    """Open loans by warning level × delinquency bucket: counts, outstanding principal and arrears (yuan)."""
    q = (select(LoanStateRow.level, LoanStateRow.bucket, func.count(), func.sum(LoanStateRow.outstanding_principal_fen),
                func.sum(LoanStateRow.arrears_fen), func.sum(LoanStateRow.simulated))
         .where(LoanStateRow.status != "settled").group_by(LoanStateRow.level, LoanStateRow.bucket))
    if simulated is not None:
        q = q.where(LoanStateRow.simulated == int(simulated))
    with book.sessions() as s:
        rows = s.connection().execute(q).all()
    cells = []
    by_level: dict[int, dict[str, Any]] = {lvl: {"loans": 0, "outstanding": 0} for lvl in range(4)}
    by_bucket: dict[str, dict[str, Any]] = {b: {"loans": 0, "outstanding": 0} for b in BUCKETS}
    loans = outstanding = arrears = sims = 0
    for level, bucket, count, out_fen, arr_fen, sim in rows:
        out_fen, arr_fen = int(out_fen or 0), int(arr_fen or 0)
        cells.append({"level": level, "bucket": bucket, "loans": count, "outstanding": fen_to_number(out_fen),
                      "arrears": fen_to_number(arr_fen)})
        by_level[level]["loans"] += count
        by_level[level]["outstanding"] += out_fen
        by_bucket[bucket]["loans"] += count
        by_bucket[bucket]["outstanding"] += out_fen
        loans, outstanding, arrears = loans + count, outstanding + out_fen, arrears + arr_fen
        sims += int(sim or 0)
    delinquent = sum(v["outstanding"] for k, v in by_bucket.items() if k in ("M2", "M3+"))
    return {
        "run": latest_run(book),
        "totals": {"loans": loans, "outstanding": fen_to_number(outstanding), "arrears": fen_to_number(arrears),
                   "share_30_plus": round(delinquent / outstanding, 4) if outstanding else 0.0,
                   "simulated_loans": sims},
        "simulated_label": f"{SIM_LABEL_ZH} / {SIM_LABEL_EN}" if sims else None,
        "by_level": [{"level": k, "name_zh": LEVEL_NAMES[k][0], "name_en": LEVEL_NAMES[k][1], "loans": v["loans"],
                      "outstanding": fen_to_number(v["outstanding"])} for k, v in by_level.items()],
        "by_bucket": [{"bucket": k, "loans": v["loans"], "outstanding": fen_to_number(v["outstanding"])}
                      for k, v in by_bucket.items()],
        "cells": cells,
    }


def roll_rates(book: LoanBook, run_id: int | None = None) -> dict[str, Any]:
    """Share of loans moving from each bucket at one month end to each state at the next (by count and
    by outstanding principal), for the latest transition and averaged over the months the pass kept."""
    with book.sessions() as s:
        if run_id is None:
            run_id = s.scalar(select(func.max(RollRateRow.run_id)))
        if run_id is None:
            return {"run_id": None, "months": [], "latest": {}, "average": {}, "by_month": {}}
        rows = s.connection().execute(
            select(RollRateRow.from_month, RollRateRow.from_bucket, RollRateRow.to_bucket, RollRateRow.loans,
                   RollRateRow.outstanding_fen).where(RollRateRow.run_id == run_id)).all()
    months = sorted({r[0] for r in rows})
    counts: dict[str, dict[str, dict[str, int]]] = {m: {b: dict.fromkeys(ROLL_TARGETS, 0) for b in BUCKETS}
                                                     for m in months}
    for month, src, dst, n, _out in rows:
        counts[month][src][dst] = counts[month][src].get(dst, 0) + n

    def rates(table: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
        out = {}
        for src, dsts in table.items():
            total = sum(dsts.values())
            out[src] = {dst: round(n / total, 4) if total else 0.0 for dst, n in dsts.items()}
            out[src]["loans"] = total
        return out

    pooled: dict[str, dict[str, int]] = {b: dict.fromkeys(ROLL_TARGETS, 0) for b in BUCKETS}
    for table in counts.values():
        for src, dsts in table.items():
            for dst, n in dsts.items():
                pooled[src][dst] += n
    return {
        "run_id": run_id,
        "months": [f"{a}→{b}" for a, b in zip(months, [*months[1:], "next"], strict=True)],
        "latest": rates(counts[months[-1]]) if months else {},
        "average": rates(pooled),
        "by_month": {m: rates(t) for m, t in counts.items()},
        "note_zh": "滚动率：月末处于某逾期档的贷款，下一个月末所处的状态占比（按笔数）。",
        "note_en": "Roll rate: of the loans in a bucket at one month end, the share in each state at the next "
                   "(by count).",
    }


def warnings_to_act(book: LoanBook, *, min_level: int = 2, limit: int = 50, offset: int = 0,
                    simulated: bool | None = None) -> dict[str, Any]:
    """Open warnings of the latest pass, most severe first, with the loan's position and the suggested action."""
    with book.sessions() as s:
        run_id = s.scalar(select(func.max(MonitorRunRow.id)))
        if run_id is None:
            return {"run_id": None, "total": 0, "warnings": []}
        base = (select(LoanWarningRow.id, LoanWarningRow.loan_id, LoanWarningRow.level, LoanWarningRow.score,
                       LoanWarningRow.reasons, LoanWarningRow.action, LoanStateRow.dpd, LoanStateRow.bucket,
                       LoanStateRow.outstanding_principal_fen, LoanStateRow.arrears_fen, LoanStateRow.next_due_on,
                       LoanRow.customer_id, LoanRow.product_id, LoanRow.simulated)
                .join(LoanStateRow, LoanStateRow.loan_id == LoanWarningRow.loan_id)
                .join(LoanRow, LoanRow.id == LoanWarningRow.loan_id)
                .where(LoanWarningRow.run_id == run_id, LoanWarningRow.level >= min_level,
                       LoanWarningRow.status == "open"))
        if simulated is not None:
            base = base.where(LoanRow.simulated == int(simulated))
        total = s.scalar(select(func.count()).select_from(base.subquery()))
        rows = s.connection().execute(base.order_by(LoanWarningRow.level.desc(), LoanWarningRow.score.desc())
                                      .limit(limit).offset(offset)).all()
    out = []
    for wid, lid, level, score, reasons, action, dpd, bucket, out_fen, arr_fen, next_due, cid, pid, sim in rows:
        out.append({
            "warning_id": wid, "loan_id": lid, "customer_id": cid, "product_id": pid, "simulated": bool(sim),
            "level": level, "level_zh": LEVEL_NAMES[level][0], "level_en": LEVEL_NAMES[level][1],
            "score": round(score, 4), "dpd": dpd, "bucket": bucket, "outstanding": fen_to_number(out_fen),
            "arrears": fen_to_number(arr_fen), "next_due_on": next_due.isoformat() if next_due else None,
            "reasons": json.loads(reasons), "action": action,
            "action_zh": ACTION_ZH.get(Action(action), action) if action in Action._value2member_map_ else action,
        })
    return {"run_id": run_id, "total": total, "min_level": min_level, "warnings": out}


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_dashboard(book: LoanBook, *, min_level: int = 2, limit: int = 50) -> str:
    """The dashboard page (server-rendered HTML, no JavaScript)."""
    data = {"portfolio": portfolio(book), "rolls": roll_rates(book),
            "warnings": warnings_to_act(book, min_level=min_level, limit=limit), "buckets": BUCKETS,
            "targets": ROLL_TARGETS, "levels": LEVEL_NAMES, "min_level": min_level}
    return _environment().get_template("dashboard.html").render(**data)
