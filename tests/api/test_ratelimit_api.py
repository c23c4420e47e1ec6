"""Rate limits over HTTP: shared by two app instances ("workers") on one database, per session id and
per client address on chat, per client address on knowledge-base search, and wrong API keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.ratelimit import DatabaseLimiter
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat

QUOTE = {"principal": 50000, "annual_rate": 0.05, "term_months": 12}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "api_keys": ["good:quote"], "rate_limit_per_minute": 1000,
                              "session_rate_limit_per_minute": 1000, "auth_failures_per_minute": 1000}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make_app(settings: Settings) -> FastAPI:
    services = Services(settings)
    services.chat = FakeChat()  # type: ignore[misc]
    return create_app(settings, services)


@pytest.fixture
def clients() -> Iterator[Any]:
    """``clients(settings)`` → a TestClient on a fresh app; all closed at the end.

    No lifespan: the warm-up would build the knowledge index, which no limit here needs.
    """
    with ExitStack() as stack:
        def open_client(settings: Settings) -> TestClient:
            client = TestClient(make_app(settings))
            stack.callback(client.close)
            return client

        yield open_client


def assert_limited(response: Any) -> str:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    zh, en = error["message"].split(" / ")
    assert "秒后再试" in zh and "retry in" in en  # Chinese first, then English
    return error["message"]


# ------------------------------------------------------------------------------------ two workers
def test_two_workers_on_one_database_share_the_limit(tmp_path: Path, clients: Any) -> None:
    settings = make_settings(tmp_path / "data", rate_limit_per_minute=3)
    worker_a, worker_b = clients(settings), clients(settings)
    assert worker_a.post("/v1/chat", json={"message": "你好"}).status_code == 200
    assert worker_b.post("/v1/chat", json={"message": "你好"}).status_code == 200
    assert worker_a.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "good"}).status_code == 200
    assert worker_b.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "good"}).status_code == 200
    assert worker_a.post("/v1/chat", json={"message": "你好"}).status_code == 200
    assert worker_b.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "good"}).status_code == 200
    # Three requests from this address (and three with this key), whichever worker took them: the
    # fourth is refused by both.
    assert_limited(worker_b.post("/v1/chat", json={"message": "你好"}))
    assert_limited(worker_a.post("/v1/chat", json={"message": "你好"}))
    assert_limited(worker_a.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "good"}))


def test_the_memory_store_keeps_a_limit_per_process(tmp_path: Path, clients: Any) -> None:
    settings = make_settings(tmp_path / "data", rate_limit_per_minute=1, rate_limit_store="memory")
    worker_a, worker_b = clients(settings), clients(settings)
    assert worker_a.post("/v1/chat", json={"message": "你好"}).status_code == 200
    assert_limited(worker_a.post("/v1/chat", json={"message": "你好"}))
    assert worker_b.post("/v1/chat", json={"message": "你好"}).status_code == 200


# ------------------------------------------------------------------------------------ chat
def test_chat_is_limited_per_session_on_both_endpoints_and_across_workers(tmp_path: Path, clients: Any) -> None:
    settings = make_settings(tmp_path / "data", session_rate_limit_per_minute=3)
    worker_a, worker_b = clients(settings), clients(settings)
    first = worker_a.post("/v1/chat", json={"message": "你好"})
    session_id = first.json()["session_id"]
    # The FakeChat keeps sessions per app: the second worker's engine learns this one by a turn of its own.
    worker_b.app.state.services.chat.sessions[session_id] = worker_a.app.state.services.chat.sessions[session_id]
    body = {"message": "车价20万分36期", "session_id": session_id}
    assert worker_a.post("/v1/chat", json=body).status_code == 200
    assert worker_b.post("/v1/chat", json=body).status_code == 200
    assert worker_a.post("/v1/chat/stream", json=body).status_code == 200
    message = assert_limited(worker_b.post("/v1/chat", json=body))
    assert "会话" in message
    assert_limited(worker_a.post("/v1/chat/stream", json=body))
    # The limit is the session's: a new conversation from the same address goes on.
    assert worker_b.post("/v1/chat", json={"message": "你好"}).status_code == 200


def test_chat_is_limited_per_client_address(tmp_path: Path, clients: Any) -> None:
    client = clients(make_settings(tmp_path / "data", rate_limit_per_minute=2))
    assert client.post("/v1/chat", json={"message": "你好"}).status_code == 200
    assert client.post("/v1/chat/stream", json={"message": "你好"}).status_code == 200
    # New sessions each time (no session id): the address limit still holds, on both endpoints.
    assert_limited(client.post("/v1/chat", json={"message": "你好"}))
    assert_limited(client.post("/v1/chat/stream", json={"message": "你好"}))


def test_a_malformed_chat_body_still_gets_its_4xx(tmp_path: Path, clients: Any) -> None:
    client = clients(make_settings(tmp_path / "data"))
    res = client.post("/v1/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400
    res = client.post("/v1/chat", json={"message": "你好", "session_id": 12345})
    assert res.status_code == 422


# ------------------------------------------------------------------------------------ knowledge base
def test_kb_search_is_limited_per_client_address(tmp_path: Path, clients: Any) -> None:
    client = clients(make_settings(tmp_path / "data", rate_limit_per_minute=2))
    # An empty query is a 422 from the route: the limiter runs first, so no index is needed here.
    assert client.get("/v1/kb/search", params={"q": " "}).status_code == 422
    assert client.post("/v1/kb/search", json={"q": " "}).status_code == 422
    assert_limited(client.get("/v1/kb/search", params={"q": " "}))
    assert_limited(client.post("/v1/kb/search", json={"q": " "}))


# ------------------------------------------------------------------------------------ wrong API keys
class Clock:
    def __init__(self) -> None:
        self.now = 6000.0

    def __call__(self) -> float:
        return self.now


def test_after_n_wrong_keys_even_the_right_key_gets_429_until_the_window_passes(tmp_path: Path,
                                                                                  clients: Any) -> None:
    settings = make_settings(tmp_path / "data", auth_failures_per_minute=3)
    client = clients(settings)
    clock = Clock()
    services = client.app.state.services
    client.app.state.rate_limiters = {"auth": DatabaseLimiter(services.engine, 3, 60.0, scope="auth", clock=clock)}
    wrong = {"X-API-Key": "guess"}
    good = {"X-API-Key": "good"}
    assert client.post("/v1/quote", json=QUOTE, headers=good).status_code == 200
    for _ in range(3):  # on a keyed route and on an open one that checks a presented key
        assert client.post("/v1/quote", json=QUOTE, headers=wrong).status_code == 401
    message = assert_limited(client.post("/v1/quote", json=QUOTE, headers=good))
    assert "API密钥错误次数过多" in message and "failed API-key attempts" in message
    assert_limited(client.get("/v1/kb/search", params={"q": " "}, headers=good))
    assert_limited(client.post("/v1/score", json={}, headers=good))
    # A customer without a key is not locked out by someone guessing keys from the same address.
    assert client.post("/v1/quote", json=QUOTE).status_code == 200
    clock.now += 120  # the window (and the one after, which still weighed the failures) has passed
    assert client.post("/v1/quote", json=QUOTE, headers=good).status_code == 200


def test_wrong_keys_are_counted_across_workers(tmp_path: Path, clients: Any) -> None:
    settings = make_settings(tmp_path / "data", auth_failures_per_minute=2)
    worker_a, worker_b = clients(settings), clients(settings)
    assert worker_a.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "guess-1"}).status_code == 401
    assert worker_b.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "guess-2"}).status_code == 401
    assert_limited(worker_a.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "good"}))
    assert_limited(worker_b.post("/v1/quote", json=QUOTE, headers={"X-API-Key": "guess-3"}))
