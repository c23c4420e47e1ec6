"""The OpenAPI document lists the errors each route really gives, with the contract's error body, and the
``X-API-Key`` security scheme; a wrong method is a 405 that says which methods are allowed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import KEY

ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def schema(api: TestClient) -> dict[str, Any]:
    res = api.get("/openapi.json")
    assert res.status_code == 200
    return res.json()


def _op(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method.lower()]


def _statuses(schema: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(code) for code in _op(schema, method, path)["responses"] if code.isdigit()}


def test_the_api_key_scheme_is_declared(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                       "description": schemes["APIKeyHeader"]["description"]}
    assert schemes["SessionIdHeader"]["name"] == "X-Session-ID"


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/score"), ("POST", "/v1/match"), ("POST", "/v1/match/explain"), ("POST", "/v1/copilot"),
    ("GET", "/v1/lifecycle/portfolio"), ("POST", "/v1/lifecycle/loans"), ("GET", "/v1/lifecycle/loans/{loan_id}"),
])
def test_keyed_routes_require_the_key_and_list_401_403_429(schema: dict[str, Any], method: str, path: str) -> None:
    assert _op(schema, method, path)["security"] == [{"APIKeyHeader": []}]
    assert {401, 403, 429} <= _statuses(schema, method, path)


@pytest.mark.parametrize(("method", "path", "scoped"), [
    ("POST", "/v1/quote", True), ("POST", "/v1/chat", False), ("POST", "/v1/chat/stream", False),
    ("GET", "/v1/kb/search", False), ("POST", "/v1/kb/search", False),
])
def test_open_routes_take_an_optional_key(schema: dict[str, Any], method: str, path: str, scoped: bool) -> None:
    # ``{}``: no key is fine; a key, if sent, is checked (401) and counted (429).
    assert _op(schema, method, path)["security"] == [{}, {"APIKeyHeader": []}]
    statuses = _statuses(schema, method, path)
    assert {401, 429} <= statuses and (403 in statuses) == scoped


def test_documents_take_a_key_or_the_customer_session(schema: dict[str, Any]) -> None:
    for method, path in (("POST", "/v1/documents"), ("GET", "/v1/documents/{document_id}")):
        assert _op(schema, method, path)["security"] == [{"APIKeyHeader": []}, {"SessionIdHeader": []}]
        assert {401, 403, 404, 429} <= _statuses(schema, method, path)


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("POST", "/v1/quote", {400, 413, 422}),  # a JSON body: malformed, too large, invalid
    ("GET", "/v1/chat/{session_id}", {404, 422}),
    ("POST", "/v1/chat", {404}),  # an unknown session (a model that is down falls back: no 503)
    ("POST", "/v1/chat/stream", {404}),
    ("GET", "/v1/kb/search", {422, 503}),  # the Chroma server down
    ("POST", "/v1/valuation", {404, 422}),
    ("POST", "/wechat", {400, 403, 404, 413}),
    ("GET", "/v1/lifecycle/warnings", {422}),
])
def test_routes_list_the_errors_they_give(schema: dict[str, Any], method: str, path: str, expected: set[int]) -> None:
    assert expected <= _statuses(schema, method, path)


def test_routes_do_not_list_errors_they_cannot_give(schema: dict[str, Any]) -> None:
    assert 503 not in _statuses(schema, "POST", "/v1/chat")  # the offline engine answers when the model is down
    assert 404 not in _statuses(schema, "POST", "/v1/quote") and 401 not in _statuses(schema, "POST", "/v1/nlu/parse")
    assert not {401, 403, 429} & _statuses(schema, "POST", "/v1/valuation")  # open, no key checked


def test_health_is_open_and_lists_no_errors(schema: dict[str, Any]) -> None:
    op = _op(schema, "GET", "/health")
    assert "security" not in op and _statuses(schema, "GET", "/health") == {200}


def test_every_error_response_has_the_contract_body(schema: dict[str, Any]) -> None:
    body = schema["components"]["schemas"]["ErrorResponse"]
    assert body["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert {"code", "message"} <= set(detail["required"])
    seen = 0
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            for code, response in op["responses"].items():
                if code.startswith("4") or code.startswith("5"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path)
                    seen += 1
    assert seen > 50
    # FastAPI's own 422 shape (``{"detail": [...]}``) is never sent, so it is not documented either.
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_429_documents_retry_after(schema: dict[str, Any]) -> None:
    assert "Retry-After" in _op(schema, "POST", "/v1/score")["responses"]["429"]["headers"]


def test_documented_401_is_what_a_keyed_route_answers(api: TestClient, schema: dict[str, Any]) -> None:
    res = api.post("/v1/score", json={})
    assert res.status_code == 401 and 401 in _statuses(schema, "POST", "/v1/score")
    assert set(res.json()) == {"error"} and {"code", "message"} <= set(res.json()["error"])


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/v1/quote", {"POST"}),
    ("GET", "/v1/score", {"POST"}),
    ("PUT", "/health", {"GET"}),
    ("DELETE", "/v1/kb/search", {"GET", "POST"}),
])
def test_a_wrong_method_is_405_with_allow(api: TestClient, method: str, path: str, allowed: set[str]) -> None:
    res = api.request(method, path, headers=KEY)
    assert res.status_code == 405
    assert {m.strip() for m in res.headers["allow"].split(",")} == allowed
    error = res.json()["error"]
    assert error["code"] == "method_not_allowed" and error["message"].startswith("不支持该请求方法")
