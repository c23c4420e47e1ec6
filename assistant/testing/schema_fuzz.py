"""Property-based fuzzing of the app's own OpenAPI document with schemathesis, in process (ASGI, no socket).

For every operation the schema lists, schemathesis generates requests that fit the schema (positive) and
requests that do not (negative); each is sent straight to the ASGI app. A finding is a response ≥ 500 (or an
exception escaping the app), or a status the operation does not document. Bounded and deterministic: at most
``max_examples`` requests per operation and mode, from a fixed seed, no example database.

Used by ``tests/api/test_schema_fuzz.py`` (asserts no findings) and ``benchmarks/schema_fuzz.py`` (prints the
figures). schemathesis is a test dependency (the ``test`` extra): import this module only from there.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

DEFAULT_SEED = 20261203


@dataclass
class Finding:
    """One response that broke a rule: a 5xx / exception, or an undocumented status."""

    operation: str
    mode: str
    status: int
    detail: str
    request: dict[str, Any]


@dataclass
class FuzzReport:
    """What a run did and found."""

    operations: int = 0
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    server_errors: list[Finding] = field(default_factory=list)
    undocumented: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for a person."""
        by_status = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (f"operations tested: {self.operations}; requests sent: {self.requests}; "
                f"responses >= 500: {len(self.server_errors)}; undocumented statuses: {len(self.undocumented)}; "
                f"time: {self.seconds:.1f} s; statuses: {by_status}")


def _documented(operation: Any) -> set[str]:
    return {str(code) for code in (operation.definition.raw.get("responses") or {})}


def _request_of(case: Any) -> dict[str, Any]:
    body = case.body if not isinstance(case.body, (bytes, bytearray)) else repr(case.body[:200])
    return {"method": case.method, "path": case.formatted_path, "query": case.query, "body": body,
            "headers": {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}}


def fuzz_app(app: Any, *, headers: dict[str, str] | None = None, max_examples: int = 25,
             seed_value: int = DEFAULT_SEED, modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,
                                                                               GenerationMode.NEGATIVE),
             openapi_path: str = "/openapi.json", operations: tuple[str, ...] | None = None) -> FuzzReport:
    """Fuzz every operation of ``app``'s OpenAPI document (or only those labelled in ``operations``, e.g.
    ``"POST /v1/quote"``); the app's lifespan runs for the duration."""
    from schemathesis.python.asgi import shutdown_lifespans

    started = time.perf_counter()
    report = FuzzReport()
    try:
        schema = schemathesis.openapi.from_asgi(openapi_path, app)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operations is not None and operation.label not in operations:
                continue
            report.operations += 1
            documented = _documented(operation)
            for mode in modes:
                _fuzz_operation(operation, mode, documented, headers or {}, max_examples, seed_value, report)
    finally:
        shutdown_lifespans()  # the app's lifespan (started by schemathesis) ends with the run
    report.seconds = time.perf_counter() - started
    return report


def _fuzz_operation(operation: Any, mode: GenerationMode, documented: set[str], headers: dict[str, str],
                    max_examples: int, seed_value: int, report: FuzzReport) -> None:
    label = operation.label

    @seed(seed_value)
    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
              print_blob=False, report_multiple_bugs=False)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        report.requests += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised through the transport: a 500 to a real client
            report.statuses[500] += 1
            report.server_errors.append(Finding(label, mode.value, 500, f"{type(exc).__name__}: {exc}"[:300],
                                                _request_of(case)))
            return
        status = response.status_code
        report.statuses[status] += 1
        report.by_operation.setdefault(label, Counter())[status] += 1
        if status >= 500:
            report.server_errors.append(Finding(label, mode.value, status, response.text[:300], _request_of(case)))
        elif str(status) not in documented and "default" not in documented:
            report.undocumented.append(Finding(label, mode.value, status, response.text[:300], _request_of(case)))

    # Findings are collected, never raised: one run reports every operation, and Hypothesis does not spend the
    # budget shrinking the first failure.
    try:
        run()
    except Unsatisfiable:  # no invalid request exists (an operation without parameters, negative mode)
        return
