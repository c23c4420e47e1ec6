"""HTTP: /health, /v1/quote and the error contract."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]


def test_quote_contract_shape(client: TestClient) -> None:
    body = {"principal": 50000, "annual_rate": 0.05, "term_months": 12}
    data = client.post("/v1/quote", json=body).json()
    assert data["monthly_payment"] == 4280.37
    assert len(data["schedule"]) == 12
    assert data["schedule"][-1]["balance"] == 0
    assert data["apr"] == 0.05
    assert round(data["total_paid"] - data["total_interest"], 2) == 50000


def test_quote_flat_with_fees(client: TestClient) -> None:
    body = {"principal": 100000, "annual_rate": 0.035, "term_months": 36, "rate_type": "flat", "upfront_fees": 0}
    data = client.post("/v1/quote", json=body).json()
    assert data["monthly_payment"] == 3069.44
    assert data["apr_percent"] == "6.60%"


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/v1/quote" in client.get("/openapi.json").json()["paths"]


def _error(response: object) -> dict:
    data = response.json()  # type: ignore[attr-defined]
    assert set(data) == {"error"}
    assert data["error"]["code"] and data["error"]["message"]
    return data["error"]


def test_bad_inputs_get_4xx_with_message(client: TestClient) -> None:
    cases = [
        {"principal": -1, "annual_rate": 0.05, "term_months": 12},
        {"principal": 0, "annual_rate": 0.05, "term_months": 12},
        {"principal": 1000, "annual_rate": 0.05, "term_months": 61},
        {"principal": 1000, "annual_rate": -0.05, "term_months": 12},
        {"principal": 1000, "annual_rate": 0.5, "term_months": 12},
        {"principal": "abc", "annual_rate": 0.05, "term_months": 12},
        {"annual_rate": 0.05, "term_months": 12},
    ]
    for body in cases:
        response = client.post("/v1/quote", json=body)
        assert response.status_code == 422, body
        error = _error(response)
        assert "/" in error["message"]
    assert _error(client.post("/v1/quote", json={"annual_rate": 0.05, "term_months": 12}))["field"] == "principal"


def test_malformed_json_and_huge_body(client: TestClient) -> None:
    response = client.post("/v1/quote", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"
    huge = b'{"principal": 1' + b"0" * (10 * 1024 * 1024) + b"}"
    response = client.post("/v1/quote", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    # the service stays up
    assert client.get("/health").status_code == 200


def test_unknown_path_uses_error_shape(client: TestClient) -> None:
    response = client.get("/v1/nope")
    assert response.status_code == 404
    _error(response)


def test_unhandled_exception_does_not_leak_traceback(client: TestClient) -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    client.app.include_router(router)  # type: ignore[attr-defined]
    local = TestClient(client.app, raise_server_exceptions=False)  # type: ignore[arg-type]
    response = local.get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert _error(response)["code"] == "internal_error"
