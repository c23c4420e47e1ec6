"""``/metrics`` and the agent desk ``/desk`` are for staff: an API key with their scope (``metrics``,
``copilot``), like every keyed route; customers' open routes stay open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from tests.api.conftest import tiny_settings

SCRAPER = "scrape-key"
DESK_AGENT = "agent-key"
PARTNER = "dealer-key"
QUOTE = {"principal": 50000, "annual_rate": 0.05, "term_months": 12}


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = tiny_settings(tmp_path_factory.mktemp("staff"),
                             api_keys=[f"{SCRAPER}:metrics", f"{DESK_AGENT}:copilot", f"{PARTNER}:score"])
    with TestClient(create_app(settings, Services(settings))) as client:
        yield client


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "guessed"}])
def test_metrics_without_a_right_key_is_401(staff: TestClient, headers: dict[str, str]) -> None:
    res = staff.get("/metrics", headers=headers)
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "unauthorized" and "loan_assistant_" not in res.text


def test_metrics_with_a_key_of_another_scope_is_403(staff: TestClient) -> None:
    res = staff.get("/metrics", headers={"X-API-Key": PARTNER})
    assert res.status_code == 403 and "metrics" in res.json()["error"]["message"]


def test_metrics_with_the_metrics_scope_is_served(staff: TestClient) -> None:
    res = staff.get("/metrics", headers={"X-API-Key": SCRAPER})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    assert "# TYPE loan_assistant_turns" in res.text


def test_the_desk_without_a_key_is_the_login_form(staff: TestClient) -> None:
    res = staff.get("/desk")
    assert res.status_code == 401 and res.headers["content-type"].startswith("text/html")
    assert 'action="/desk/login"' in res.text and 'id="transcript"' not in res.text


def test_the_desk_with_a_copilot_key_in_the_header(staff: TestClient) -> None:
    res = staff.get("/desk", headers={"X-API-Key": DESK_AGENT})
    assert res.status_code == 200 and 'id="transcript"' in res.text
    assert DESK_AGENT not in res.text  # the key is never served back
    assert staff.get("/desk", headers={"X-API-Key": PARTNER}).status_code == 403
    assert staff.get("/desk", headers={"X-API-Key": "guessed"}).status_code == 401


def test_the_desk_login_sets_an_httponly_strict_cookie(tmp_path: Path) -> None:
    settings = tiny_settings(tmp_path, api_keys=[f"{DESK_AGENT}:copilot", f"{PARTNER}:score"])
    with TestClient(create_app(settings, Services(settings))) as client:
        wrong = client.post("/desk/login", data={"key": PARTNER}, follow_redirects=False)
        assert wrong.status_code == 401 and "copilot" in wrong.text and "set-cookie" not in wrong.headers
        res = client.post("/desk/login", data={"key": DESK_AGENT}, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"] == "/desk"
        cookie = res.headers["set-cookie"]
        assert "desk_key=" in cookie and "HttpOnly" in cookie and "Path=/;" in cookie
        assert "samesite=strict" in cookie.lower()
        page = client.get("/desk")  # the cookie is sent back by the client
        assert page.status_code == 200 and 'id="transcript"' in page.text and DESK_AGENT not in page.text


def test_a_revoked_desk_cookie_asks_to_log_in_again(staff: TestClient) -> None:
    res = staff.get("/desk", cookies={"desk_key": "revoked-key"})
    assert res.status_code == 401 and 'action="/desk/login"' in res.text


def test_with_no_keys_configured_staff_routes_are_closed_and_open_routes_open(tmp_path: Path) -> None:
    settings = tiny_settings(tmp_path, api_keys=[])  # development without keys
    with TestClient(create_app(settings, Services(settings))) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"X-API-Key": "anything"}).status_code == 401
        assert client.get("/desk").status_code == 401
        assert client.post("/v1/quote", json=QUOTE).status_code == 200
        assert client.get("/").status_code == 200  # the customer's web chat
        assert client.get("/health").status_code == 200


def test_the_desk_cookie_opens_the_workbench_and_its_api_for_an_underwriting_key(tmp_path: Path) -> None:
    settings = tiny_settings(tmp_path, api_keys=["officer-key:underwriting", f"{PARTNER}:score"])
    with TestClient(create_app(settings, Services(settings))) as client:
        assert client.get("/v1/applications").status_code == 401  # no cookie yet
        res = client.post("/desk/login", data={"key": "officer-key"}, follow_redirects=False)
        assert res.status_code == 303
        page = client.get("/desk")
        assert page.status_code == 200 and 'id="workbench"' in page.text and 'id="transcript"' not in page.text
        assert client.get("/v1/applications?status=submitted").status_code == 200  # the cookie is the key
        assert client.get("/v1/handoffs").status_code == 200
        assert client.get("/v1/applications", headers={"X-API-Key": PARTNER}).status_code == 403  # a header wins


def test_handed_off_chats_are_listed_for_the_desk(staff: TestClient) -> None:
    session_id = staff.post("/v1/chat", json={"message": "转人工"}).json()["session_id"]
    assert staff.get("/v1/handoffs").status_code == 401
    assert staff.get("/v1/handoffs", headers={"X-API-Key": PARTNER}).status_code == 403
    items = staff.get("/v1/handoffs", headers={"X-API-Key": DESK_AGENT}).json()
    assert session_id in [i["session_id"] for i in items]
