"""Benchmark (issue 9): monitoring pass over a 10,000-loan simulated book — time, warning precision / recall
against the simulated ground truth — and the dashboard's latency (p50 / p95).

Run: python benchmarks/lifecycle.py [--loans 10000] [--seed 2026] [--as-of 2026-11-20] [--requests 200]

The book is SIMULATED (assistant.lifecycle.simulate) with a seed the shipped model was not trained on
(training uses 101–103). Ground truth: a loan "goes bad" if it reaches 90+ days past due within 180 days
after the pass date; loans already 90+ days past due at the pass date are left out of precision / recall
(flagging those is trivial), as are loans settled by then.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.api.app import create_app
from assistant.lifecycle.monitoring import PassData, run_monitor
from assistant.lifecycle.simulate import simulate_book
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.loans import SimulationTruthRow

KEY = "bench-key"


def _auc(scores: list[float], labels: list[int]) -> float:
    """Rank AUC (Mann–Whitney), ties averaged."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return float("nan")
    return (sum(r for r, y in zip(ranks, labels, strict=True) if y) - pos * (pos + 1) / 2) / (pos * neg)


def main() -> None:
    """Simulate, time the pass, score the warnings, time the dashboard."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--requests", type=int, default=200, help="requests per dashboard endpoint")
    parser.add_argument("--data-dir", help="use this DATA_DIR (default: a fresh temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep the simulated book already in --data-dir")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="lifecycle-bench-"))
    settings = Settings(data_dir=data_dir, api_keys=[f"{KEY}:lifecycle"], rate_limit_per_minute=1_000_000,
                        _env_file=None)  # type: ignore[call-arg]
    services = Services(settings)
    book = services.loans
    book.today = lambda: as_of

    if not args.reuse:
        start = time.perf_counter()
        sim = simulate_book(book.sessions, services.catalogue, n_loans=args.loans, seed=args.seed, as_of=as_of,
                            refresh=lambda: book.refresh_states(as_of=as_of))
        print(sim.summary())
        print(f"simulate + initial state: {time.perf_counter() - start:.1f} s")

    timings, cpu = [], []
    data = PassData()
    for run in range(3):
        keep = data if run == 0 else None
        c0 = time.process_time()
        report = run_monitor(book, models_dir=settings.models_dir, as_of=as_of, keep=keep)
        cpu.append(time.process_time() - c0)
        timings.append(report.seconds)
    print(report.summary())
    print(f"monitoring pass over {report.loans} open loans ({args.loans} in the book): wall "
          f"{', '.join(f'{t:.2f}' for t in timings)} s (median {statistics.median(timings):.2f} s), CPU "
          f"{', '.join(f'{t:.2f}' for t in cpu)} s (median {statistics.median(cpu):.2f} s) — 3 runs")

    with book.sessions() as s:
        truth = {t.loan_id: t for t in s.scalars(select(SimulationTruthRow))}
    population = [lid for lid, b in data.behaviours.items()
                  if not truth[lid].bad_by_as_of and (b.outstanding_principal or b.arrears)]
    labels = [truth[lid].goes_bad for lid in population]
    positives = sum(labels)
    print(f"evaluation population: {len(population)} open loans not yet 90+ DPD; {positives} go 90+ DPD within "
          f"{truth[population[0]].horizon_days} days (base rate {positives / len(population):.2%})")
    for min_level in (1, 2, 3):
        flagged = [data.assessments[lid].level >= min_level for lid in population]
        tp = sum(1 for f, y in zip(flagged, labels, strict=True) if f and y)
        n = sum(flagged)
        precision = tp / n if n else 0.0
        recall = tp / positives if positives else 0.0
        print(f"  warnings level ≥ {min_level}: {n} flagged, precision {precision:.1%}, recall {recall:.1%}")
    scores = [data.assessments[lid].score for lid in population]
    print(f"  model score AUC {_auc(scores, labels):.3f}")

    client = TestClient(create_app(settings, services))
    headers = {"X-API-Key": KEY}
    for path in ("/v1/lifecycle/portfolio", "/v1/lifecycle/roll-rates", "/v1/lifecycle/warnings?limit=50",
                 "/lifecycle"):
        for _ in range(5):  # warm-up
            client.get(path, headers=headers)
        samples = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
        samples.sort()
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(f"dashboard {path}: n={len(samples)} p50 {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
