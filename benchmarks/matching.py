"""Benchmark: match latency (target p95 ≤ 20 ms for a feasible profile) and valuation MAPE / latency.

Runs the ``match_offers`` tool in-process over the labelled profiles of ``eval/matching/profiles.jsonl``
for several rounds, reporting p50 / p95 separately for feasible profiles (the hot path: screen, rank,
price) and infeasible ones (which also search for alternatives). Then prints the valuation model's
held-out MAPE from its artifact and the latency of one ``value_vehicle`` call.

Run: python benchmarks/matching.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from assistant.evals.matching import load_profiles, profiles_path
from assistant.services import Services
from assistant.settings import Settings
from assistant.tools.match import MatchIn, match_offers
from assistant.tools.registry import ToolContext
from assistant.tools.valuation import ValueVehicleIn, value_vehicle

TARGET_P95_MS = 20.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> None:
    """Time matching and valuation; print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()) / "data", _env_file=None)  # type: ignore[call-arg]
    ctx = ToolContext(services=Services(settings))
    items = load_profiles(profiles_path(settings))
    requests = [(MatchIn(**item["profile"]), item["expect"].get("feasible", True)) for item in items]
    for request, _ in requests:  # warm-up: catalogue, valuation model, caches
        match_offers(ctx, request)
    feasible: list[float] = []
    infeasible: list[float] = []
    for _ in range(args.rounds):
        for request, ok in requests:
            start = time.perf_counter()
            match_offers(ctx, request)
            (feasible if ok else infeasible).append((time.perf_counter() - start) * 1000)
    for label, values in (("feasible profiles", feasible), ("infeasible (+ alternatives)", infeasible)):
        print(f"match {label}: n={len(values)} p50={statistics.median(values):.2f} ms "
              f"p95={percentile(values, 0.95):.2f} ms")
    p95 = percentile(feasible, 0.95)
    print(f"target p95 ≤ {TARGET_P95_MS:.0f} ms (feasible): {'met' if p95 <= TARGET_P95_MS else 'NOT met'}")

    model = ctx.services.valuator.model
    m = model.metrics
    print(f"valuation held-out MAPE (Mercedes test rows, {m['mercedes_test_rows']}): {m['mercedes_test_mape']:.1%}; "
          f"baseline {m['baseline_age_median_test_mape']:.1%}; car_prices test {m['car_prices_test_mape']:.1%}; "
          f"80% range coverage {m['interval_test_coverage']:.1%} (model {model.version})")
    timings = []
    for i in range(500):
        request = ValueVehicleIn(original_price=Decimal(100000 + 997 * i), vehicle_age_years=Decimal(i % 10),
                                 mileage_km=15000 * (i % 10) + i)
        start = time.perf_counter()
        value_vehicle(ctx, request)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"value_vehicle (valuation + 车抵贷 quote): n=500 p50={statistics.median(timings):.2f} ms "
          f"p95={percentile(timings, 0.95):.2f} ms")


if __name__ == "__main__":
    main()
