"""Benchmark: schemathesis over every operation of the app's OpenAPI document (issue 15's figure: 0
responses ≥ 500), in process against the ASGI app with the real knowledge base, the offline engine (no LLM,
no network) and an all-scopes API key.

Prints operations tested, requests sent, responses ≥ 500, undocumented statuses and the time (the app's
warm-up, which builds the knowledge index on a fresh data directory, is timed apart). Asserts nothing.

Run: python benchmarks/schema_fuzz.py [--examples 20] [--seed 20261203] [--positive-only]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from schemathesis import GenerationMode

from assistant.api.app import create_app
from assistant.logs import configure_logging
from assistant.services import Services
from assistant.settings import Settings
from assistant.testing.schema_fuzz import DEFAULT_SEED, fuzz_app

KEY = "bench-fuzz-key"


def main() -> None:
    """Fuzz every operation and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=20, help="requests per operation and generation mode")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--positive-only", action="store_true", help="only requests that fit the schema")
    args = parser.parse_args()
    configure_logging("WARNING", False)
    logging.disable(logging.ERROR)  # the app logs each refused request; the figures are what matter here
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", api_keys=[KEY], llm_base_url=None,  # type: ignore[call-arg]
                            rate_limit_per_minute=1_000_000, session_rate_limit_per_minute=1_000_000,
                            auth_failures_per_minute=1_000_000, _env_file=None)
        services = Services(settings)
        started = time.perf_counter()
        services.warm_up()
        warm_up_s = time.perf_counter() - started
        modes = (GenerationMode.POSITIVE,) if args.positive_only else (GenerationMode.POSITIVE,
                                                                       GenerationMode.NEGATIVE)
        report = fuzz_app(create_app(settings, services), headers={"X-API-Key": KEY}, max_examples=args.examples,
                          seed_value=args.seed, modes=modes)
    print(f"schemathesis {args.examples} examples per operation and mode "
          f"({'+'.join(m.value for m in modes)}), seed {args.seed}")
    print(f"warm-up (knowledge index on a fresh data dir): {warm_up_s:.1f} s")
    print(report.summary())
    for finding in (report.server_errors + report.undocumented)[:20]:
        print(f"  {finding.operation} [{finding.mode}] {finding.status}: {finding.detail[:120]}")


if __name__ == "__main__":
    main()
