"""Benchmark: the officer desk's queue over 10,000 loan applications.

Run: python benchmarks/applications.py [--n 10000] [--pages 200] [--database-url URL]
Creates ``--n`` applications through the store (each one transaction: the row, personal data encrypted,
and its ``create`` event; statuses spread as a working book: mostly final, a few hundred open), then times
``GET /v1/applications``'s query — one page of 50 for a status, with the total — at several offsets, per
status, and prints p50/p95 in ms. Also times the full service path (priced terms, audit entry) on a
sample, and shows the query plan (the (status, created_at) index must be used).

The officer desk page's own data call is timed too: ``GET /v1/applications`` over HTTP (in-process ASGI
client, an ``underwriting`` key), for the submitted queue and the fraud-flagged one (about 8 % of the rows
carry a fraud assessment that flagged them), p50/p95 in ms — JSON, validation and auth included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from assistant.api.app import create_app
from assistant.domain.application_state import Actor, Status
from assistant.fraud import Decision, FraudAssessment, Severity, Signal
from assistant.logs import configure_logging
from assistant.origination.models import ConsentIn, FraudCheck, LoanTerms, PersonalData
from assistant.origination.store import ApplicationRecord, Event
from assistant.services import Services
from assistant.settings import Settings

# A book after some months: most applications are settled one way or another, the desk's work is the rest.
MIX = [(Status.SIGNED, 0.45), (Status.DECLINED, 0.2), (Status.WITHDRAWN, 0.12), (Status.SUBMITTED, 0.08),
       (Status.UNDER_REVIEW, 0.06), (Status.APPROVED, 0.04), (Status.CONTRACT_ISSUED, 0.02), (Status.DRAFT, 0.03)]
OFFICER_KEY = "bench-officer"
SIGNAL = Signal(code="DOC_ID_MISMATCH", severity=Severity.MEDIUM, weight=2.241,
                zh="身份证上的姓名或号码与申请填写不一致",
                en="the name or number on the ID card differs from the application")
W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(rng: random.Random) -> str:
    body = f"110105{rng.randint(1965, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W, strict=True)) % 11]


def _fraud(rng: random.Random, at: dt.datetime) -> FraudCheck:
    flagged = rng.random() < 0.08
    decision = rng.choice([Decision.REVIEW, Decision.DECLINE]) if flagged else Decision.PASS
    return FraudCheck(assessment=FraudAssessment(
        application_id="x", score=0.62 if flagged else 0.15, decision=decision, signals=[SIGNAL] if flagged else [],
        model_version="bench", ltv=Decimal("0.7")), not_checked=[], checked_at=at)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def main() -> None:
    """Fill, query, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=200, help="queue queries timed per status")
    parser.add_argument("--database-url", default=None, help="default: SQLite under a fresh DATA_DIR")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-applications-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url, _env_file=None,  # type: ignore[call-arg]
                        api_keys=[f"{OFFICER_KEY}:underwriting"], rate_limit_per_minute=1_000_000)
    configure_logging("WARNING", json=False)  # not a log line per timed request
    services = Services(settings)
    service = services.applications
    store = service.store
    rng = random.Random(16)
    statuses = rng.choices([s for s, _ in MIX], weights=[w for _, w in MIX], k=args.n)
    start_at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    terms = service.priced(LoanTerms(principal=Decimal("100000"), annual_rate=Decimal("0.045"), term_months=36))
    started = time.perf_counter()
    for i, status in enumerate(statuses):
        created = start_at + dt.timedelta(minutes=25 * i)
        record = ApplicationRecord(
            id=uuid.uuid4().hex, status=status, channel=rng.choice(["app", "web", "wechat", "api"]),
            terms=terms.model_copy(update={"principal": Decimal(rng.randrange(30_000, 300_000, 1000))}),
            profile={"monthly_income": str(rng.randrange(5000, 60000, 500))},
            personal=PersonalData(name="测试", id_number=_id_number(rng), phone=f"139{rng.randint(0, 99_999_999):08d}"),
            created_at=created, updated_at=created, fraud=_fraud(rng, created))
        store.insert(record, Event("create", None, status.value, Actor("system"), "benchmark"))
    fill_s = time.perf_counter() - started

    per_status: dict[str, list[float]] = {}
    everything: list[float] = []
    counts: dict[str, int] = {}
    for status in (Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED, Status.SIGNED, None):
        label = status.value if status else "all"
        times: list[float] = []
        _, total = store.queue(status, limit=1, offset=0)
        for page in range(args.pages):
            offset = (page * 50) % max(1, total - 49)  # real pages only: every query returns 50 rows
            t0 = time.perf_counter()
            items, _ = store.queue(status, limit=50, offset=offset)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(items) == min(50, total)
        counts[label] = total
        per_status[label] = times
        everything += times

    # The desk page's data call, as the browser makes it (JSON over HTTP, the officer's key).
    page_ms: dict[str, list[float]] = {}
    page_total: dict[str, int] = {}
    # No lifespan: startup would warm every model and build the knowledge index alongside the timings.
    client = TestClient(create_app(settings, services))
    for label, query in (("submitted", "status=submitted"),
                         ("fraud-flagged", "fraud=flagged&status=submitted&status=under_review")):
        times = []
        for page in range(args.pages):
            t0 = time.perf_counter()
            res = client.get(f"/v1/applications?{query}&limit=50&offset={(page % 5) * 50}",
                             headers={"X-API-Key": OFFICER_KEY})
            times.append((time.perf_counter() - t0) * 1000)
            assert res.status_code == 200, res.text
        page_ms[label] = times
        page_total[label] = res.json()["total"]

    sample = 100
    created_ms: list[float] = []
    for _ in range(sample):
        t0 = time.perf_counter()
        service.create(terms, actor=Actor("partner", "bench"), channel="api",
                       consents=[ConsentIn(purpose="pre_assessment")])
        created_ms.append((time.perf_counter() - t0) * 1000)

    dialect = services.engine.dialect.name
    with services.engine.connect() as conn:
        explain = ("EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN ")
        plan = conn.execute(text(explain + "SELECT * FROM loan_applications WHERE status = 'submitted' "
                                 "ORDER BY created_at, id LIMIT 50 OFFSET 100")).all()

    print(f"database: {dialect}; applications: {args.n} (+{sample} made through the service)")
    print(f"fill: {fill_s:.1f} s ({args.n / fill_s:.0f} applications/s through the store, one transaction each)")
    print(f"service.create (priced terms, event, audit entry): p50 {statistics.median(created_ms):.1f} ms, "
          f"p95 {_p(created_ms, 0.95):.1f} ms")
    for label, times in per_status.items():
        print(f"queue status={label:<13} total={counts[label]:>6}: page of 50 p50 {statistics.median(times):.2f} ms, "
              f"p95 {_p(times, 0.95):.2f} ms ({len(times)} queries)")
    for label, times in page_ms.items():
        print(f"desk page data call GET /v1/applications ({label}, total={page_total[label]}): "
              f"p50 {statistics.median(times):.2f} ms, p95 {_p(times, 0.95):.2f} ms ({len(times)} requests)")
    print(f"queue overall: p50 {statistics.median(everything):.2f} ms, p95 {_p(everything, 0.95):.2f} ms")
    print("plan: " + " | ".join(" ".join(str(c) for c in row) for row in plan))


if __name__ == "__main__":
    main()
