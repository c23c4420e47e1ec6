"""``POST /v1/documents`` and ``GET`` of its url: formats, content types, access, 4xx naming the field."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.errors import NotFound
from assistant.services import Services
from assistant.settings import Settings

from ..conftest import TEST_API_KEY
from .conftest import application

KEY = {"X-API-Key": TEST_API_KEY}
CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def _stored(services: Services) -> list[str]:
    root = services.settings.data_dir / "documents"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


@pytest.mark.parametrize("fmt", ["pdf", "html", "md"])
def test_post_then_get_with_api_key(client: TestClient, fmt: str) -> None:
    response = client.post("/v1/documents", json={"kind": "loan_contract", "application": application(),
                                                  "format": fmt}, headers=KEY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {"document_id", "kind", "url", "sha256"} and body["kind"] == "loan_contract"
    assert body["url"] == f"/v1/documents/{body['document_id']}"
    file = client.get(body["url"], headers=KEY)
    assert file.status_code == 200
    assert file.headers["content-type"] == CONTENT_TYPES[fmt]
    assert file.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''" in file.headers["content-disposition"]
    assert hashlib.sha256(file.content).hexdigest() == body["sha256"]


def test_default_format_is_pdf_and_english_disclosure(client: TestClient) -> None:
    body = client.post("/v1/documents", json={"kind": "risk_disclosure", "application": application(), "lang": "en"},
                       headers=KEY).json()
    assert body["format"] == "pdf"
    assert client.get(body["url"], headers=KEY).content.startswith(b"%PDF-")


def test_session_owns_its_documents(client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions: dict[str, dict[str, Any] | None] = {"owner-session": application(), "empty-session": None}

    def session_application(session_id: str) -> dict[str, Any] | None:
        if session_id not in sessions:
            raise NotFound("会话不存在或已过期", "unknown session id")
        return sessions[session_id]

    monkeypatch.setattr(services, "session_application", session_application, raising=False)
    # {"session_id"} form, no key: the session's own agreed loan.
    response = client.post("/v1/documents", json={"kind": "repayment_schedule", "session_id": "owner-session",
                                                  "format": "md"})
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert client.get(url, headers={"X-Session-ID": "owner-session"}).status_code == 200
    assert client.get(url, params={"session_id": "owner-session"}).status_code == 200
    assert client.get(url, headers={"X-Session-ID": "someone-else"}).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(url, headers=KEY).status_code == 200  # staff / integrators with a documents key

    # An application posted by a chat session is owned by it too.
    response = client.post("/v1/documents", json={"kind": "privacy_consent", "application": application(),
                                                  "format": "html"}, headers={"X-Session-ID": "owner-session"})
    assert response.status_code == 201
    assert client.get(response.json()["url"], headers={"X-Session-ID": "owner-session"}).status_code == 200

    empty = client.post("/v1/documents", json={"kind": "loan_contract", "session_id": "empty-session"})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "session_id"
    unknown = client.post("/v1/documents", json={"kind": "loan_contract", "session_id": "nope"})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "contract", "application": application()}, "kind"),
        ({"kind": "loan_contract", "application": application(), "format": "docx"}, "format"),
        ({"kind": "loan_contract", "application": application(), "lang": "en"}, "lang"),
        ({"kind": "loan_contract", "application": {"annual_rate": 0.04, "term_months": 36}}, "application.principal"),
        ({"kind": "loan_contract", "application": application(borrower={"name": "张三"})},
         "application.borrower.id_number"),
        ({"kind": "loan_contract", "application": application(term_months=72)}, "application.term_months"),
        ({"kind": "loan_contract"}, "application"),
        ({"kind": "loan_contract", "application": application(), "session_id": "x"}, "session_id"),
        ({"kind": "loan_contract", "application": application(quoted={"apr": 0.0472})}, "application.quoted.apr"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(client: TestClient, services: Services, body: dict, field: str) -> None:
    response = client.post("/v1/documents", json=body, headers=KEY)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["field"] == field and " / " in error["message"]
    assert "11010519491231002X" not in response.text
    assert _stored(services) == []


def test_credentials(client: TestClient) -> None:
    body = {"kind": "loan_contract", "application": application(), "format": "md"}
    assert client.post("/v1/documents", json=body).status_code == 401
    assert client.post("/v1/documents", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/v1/documents/" + "0" * 32, headers=KEY).status_code == 404


def test_key_without_documents_scope_is_forbidden(tmp_path) -> None:
    from assistant.api.app import create_app

    settings = Settings(data_dir=tmp_path / "d", api_keys=["k1:score"], _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, Services(settings))) as client:
        response = client.post("/v1/documents", json={"kind": "loan_contract", "application": application()},
                               headers={"X-API-Key": "k1"})
    assert response.status_code == 403
