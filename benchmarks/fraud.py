"""Benchmark: latency of the anti-fraud checks for one application.

Two paths over the synthetic test split (``eval/fraud/test.jsonl``, cycled): ``assess`` alone on already
validated models (what the application record calls once it holds a ``FraudInput``), and validate +
assess + serialise, from the stored JSON dict to the assessment's JSON (what an HTTP route would add).
The known-bad lists are the set's (300 IDs, 200 phones, 100 devices); priors per case are the set's
(0–6). A larger list only changes set-lookup time, which is constant.

Run: python benchmarks/fraud.py [--n 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _timings(calls: list[Callable[[], Any]], warmup: int = 200) -> list[float]:
    for call in calls[:warmup]:
        call()
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def _report(name: str, us: list[float]) -> None:
    ordered = sorted(us)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    p99 = ordered[max(int(len(ordered) * 0.99) - 1, 0)]
    print(f"  {name:<34} median {statistics.median(ordered):8.1f} µs   p95 {p95:8.1f} µs   p99 {p99:8.1f} µs   "
          f"→ {1e6 / statistics.mean(ordered):,.0f} per second (one core)")


def main() -> None:
    """Time both paths and print median, p95, p99 and throughput."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000, help="calls per path")
    args = parser.parse_args()

    from assistant.fraud.files import load_known_bad, shipped_model
    from assistant.fraud.models import FraudInput, PriorApplication
    from assistant.fraud.score import assess
    from assistant.fraud.synthetic import load_cases

    cases = load_cases(ROOT / "eval" / "fraud" / "test.jsonl")
    lists = load_known_bad(ROOT / "eval" / "fraud" / "known_bad.json")
    model = shipped_model()
    parsed = [(FraudInput.model_validate(c["application"]), [PriorApplication.model_validate(p) for p in c["priors"]])
              for c in cases]

    def pure(i: int) -> Callable[[], Any]:
        app, priors = parsed[i % len(parsed)]
        return lambda: assess(app, priors, lists, model)

    def full(i: int) -> Callable[[], Any]:
        case = cases[i % len(cases)]

        def call() -> str:
            app = FraudInput.model_validate(case["application"])
            priors = [PriorApplication.model_validate(p) for p in case["priors"]]
            return assess(app, priors, lists, model).model_dump_json()

        return call

    print(f"fraud assess(): {args.n} calls per path over {len(cases)} test cases, model {model.version}")
    _report("assess (validated input)", _timings([pure(i) for i in range(args.n)]))
    _report("validate + assess + JSON", _timings([full(i) for i in range(args.n)]))


if __name__ == "__main__":
    main()
