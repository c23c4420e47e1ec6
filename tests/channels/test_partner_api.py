"""Partner API: keys with scopes, per-key rate limits (429 + Retry-After), and what stays open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.ratelimit import SlidingWindowLimiter
from assistant.services import Services
from assistant.settings import Settings
from tests.conftest import TEST_API_KEY

APPLICANT = {"monthly_income": 20000, "loan_amount": 100000, "vehicle_price": 160000, "term_months": 36}
QUOTE = {"principal": 50000, "annual_rate": 0.05, "term_months": 12}
STAFF = {"X-API-Key": TEST_API_KEY}


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "d", api_keys=["dealer-a:score+match", "dealer-b:quote", "ops"],  # type: ignore[call-arg]
                        rate_limit_per_minute=3, _env_file=None)
    with TestClient(create_app(settings, Services(settings))) as client:
        yield client


def test_score_needs_a_key_with_the_score_scope(partner: TestClient) -> None:
    res = partner.post("/v1/score", json=APPLICANT)
    assert res.status_code == 401 and "X-API-Key" in res.json()["error"]["message"]
    assert partner.post("/v1/score", json=APPLICANT, headers={"X-API-Key": "guess"}).status_code == 401
    res = partner.post("/v1/score", json=APPLICANT, headers={"X-API-Key": "dealer-b"})
    assert res.status_code == 403 and "score" in res.json()["error"]["message"]
    assert partner.post("/v1/score", json=APPLICANT, headers={"X-API-Key": "dealer-a"}).status_code == 200
    assert partner.post("/v1/score", json=APPLICANT, headers={"X-API-Key": "ops"}).status_code == 200


def test_quote_stays_open_but_a_presented_key_is_checked(partner: TestClient) -> None:
    assert partner.post("/v1/quote", json=QUOTE).status_code == 200
    assert partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "dealer-b"}).status_code == 200
    assert partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "dealer-a"}).status_code == 403
    assert partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "nope"}).status_code == 401


def test_rate_limit_per_key_with_retry_after(partner: TestClient) -> None:
    for _ in range(3):
        assert partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "dealer-b"}).status_code == 200
    res = partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "dealer-b"})
    assert res.status_code == 429
    assert res.json()["error"]["code"] == "rate_limited" and int(res.headers["Retry-After"]) >= 1
    # Another key and anonymous customers are not affected.
    assert partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "ops"}).status_code == 200
    assert partner.post("/v1/quote", json=QUOTE).status_code == 200


def test_the_rate_limited_count_shows_in_metrics(partner: TestClient) -> None:
    for _ in range(4):
        partner.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "dealer-b"})
    body = partner.get("/metrics", headers={"X-API-Key": "ops"}).text  # /metrics is staff-only
    assert 'loan_assistant_rate_limited_total{scope="quote"}' in body


def test_sliding_window_limiter() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.hit("k") is None and limiter.hit("k") is None
    assert limiter.hit("k") == pytest.approx(60.0)
    now[0] += 30
    assert limiter.hit("k") == pytest.approx(30.0)  # the first hit leaves the window at t=1060
    now[0] += 30.001
    assert limiter.hit("k") is None
    assert limiter.hit("other") is None
    assert SlidingWindowLimiter(0).hit("k") is None  # 0 switches the limit off


def test_limiter_memory_is_bounded() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(5, 60.0, clock=lambda: now[0], max_keys=100)
    for i in range(1000):
        now[0] += 0.001
        limiter.hit(f"ip-{i}")
    assert len(limiter._hits) <= 100


def _sample(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


def test_metrics_endpoint_counts_turns_in_prometheus_format(client: TestClient) -> None:
    before = client.get("/metrics", headers=STAFF).text
    assert client.post("/v1/chat", json={"message": "转人工"}).status_code == 200
    res = client.get("/metrics", headers=STAFF)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    after = res.text
    assert _sample(after, "loan_assistant_turns_total") == _sample(before, "loan_assistant_turns_total") + 1
    assert _sample(after, "loan_assistant_turn_latency_seconds_count") >= 1
    for name in ("loan_assistant_tool_calls", "loan_assistant_fallbacks_total", "loan_assistant_handoffs_total",
                 "loan_assistant_wechat_retries_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in after, name
