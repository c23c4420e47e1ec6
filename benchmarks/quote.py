"""Benchmark: quote + 60-row schedule + APR, in-process (issue 2's figure; target ≤ 1 ms median).

Run: python benchmarks/quote.py [--n 10000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from assistant.domain.quote import QuoteRequest, build_quote
from assistant.domain.schedule import Method, RateType


def main() -> None:
    """Time ``build_quote`` over n calls with varied inputs; print median and p95 in ms."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    requests = [
        QuoteRequest(
            principal=Decimal(100_000 + 37 * i),
            annual_rate=Decimal("0.0350") + Decimal(i % 50) / 10000,
            term_months=60,
            method=Method.EQUAL_INSTALLMENT if i % 3 else Method.EQUAL_PRINCIPAL,
            rate_type=RateType.FLAT if i % 5 == 0 else RateType.NOMINAL,
            upfront_fees=Decimal(i % 4) * 1000,
        )
        for i in range(args.n)
    ]
    for req in requests[:200]:  # warm-up
        build_quote(req)
    timings = []
    for req in requests:
        start = time.perf_counter()
        build_quote(req)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"quote+60-row schedule+APR: n={args.n} median={statistics.median(timings):.3f} ms p95={p95:.3f} ms")


if __name__ == "__main__":
    main()
