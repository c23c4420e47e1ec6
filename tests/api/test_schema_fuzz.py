"""schemathesis over every operation of the app's own OpenAPI document, in process (no socket, no LLM, no
network): no response ≥ 500, and every status returned is one the operation documents.

Bounded and deterministic (``MAX_EXAMPLES`` per operation and mode, fixed seed): about a minute on two cores.
The figures (requests, time) are printed by ``benchmarks/schema_fuzz.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.api.app import create_app
from assistant.services import Services
from assistant.testing.schema_fuzz import FuzzReport, fuzz_app
from tests.api.conftest import KEY, tiny_settings

MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> FuzzReport:
    settings = tiny_settings(tmp_path_factory.mktemp("fuzz"))
    assert not settings.llm_configured  # the offline engine: nothing leaves the process
    services = Services(settings)
    # Built first, so /ready answers 200: its 503 while the index builds is right, but not what is fuzzed here.
    services.warm_up()
    return fuzz_app(create_app(settings, services), headers=KEY, max_examples=MAX_EXAMPLES)


def _show(findings: list) -> str:
    return "\n".join(f"{f.operation} [{f.mode}] {f.status}: {f.detail[:160]} ← {f.request}" for f in findings[:20])


def test_every_operation_was_fuzzed(report: FuzzReport) -> None:
    assert report.operations >= 25 and report.requests >= report.operations * MAX_EXAMPLES // 2
    # Both kinds of answers were exercised: accepted requests and refused ones.
    assert report.statuses[200] > 0 and report.statuses[422] > 0 and report.statuses[401] > 0


def test_no_response_is_a_server_error(report: FuzzReport) -> None:
    assert report.server_errors == [], _show(report.server_errors)


def test_every_status_is_documented(report: FuzzReport) -> None:
    assert report.undocumented == [], _show(report.undocumented)


def test_the_run_is_deterministic(tmp_path: Path, report: FuzzReport) -> None:
    # The same seed sends the same requests: one operation, fuzzed again, gives the same statuses.
    settings = tiny_settings(tmp_path)
    app = create_app(settings, Services(settings))
    again = fuzz_app(app, headers=KEY, max_examples=MAX_EXAMPLES, operations=("POST /v1/quote",))
    assert again.by_operation["POST /v1/quote"] == report.by_operation["POST /v1/quote"]
