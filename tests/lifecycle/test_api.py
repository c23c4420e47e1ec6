"""HTTP: the lifecycle endpoints, keyed access, the HTML dashboard."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.lifecycle.book import LoanBook
from tests.lifecycle.conftest import issue

H = {"X-API-Key": "test-key"}


def test_keyed_access(sim_client: TestClient) -> None:
    assert sim_client.get("/v1/lifecycle/portfolio").status_code == 401
    assert sim_client.get("/v1/lifecycle/portfolio", headers={"X-API-Key": "narrow"}).status_code == 403
    assert sim_client.get("/v1/lifecycle/portfolio", headers={"X-API-Key": "wrong"}).status_code == 401


def test_portfolio_roll_rates_and_warnings(sim_client: TestClient) -> None:
    p = sim_client.get("/v1/lifecycle/portfolio", headers=H).json()
    assert p["run"]["loans"] == p["totals"]["loans"] > 0
    assert sum(c["loans"] for c in p["cells"]) == p["totals"]["loans"]
    assert p["simulated_label"] and isinstance(p["totals"]["outstanding"], float)
    assert {c["bucket"] for c in p["cells"]} <= {"M0", "M1", "M2", "M3+"}
    r = sim_client.get("/v1/lifecycle/roll-rates", headers=H).json()
    assert set(r["average"]) == {"M0", "M1", "M2", "M3+"}
    m0 = r["average"]["M0"]
    assert abs(sum(v for k, v in m0.items() if k != "loans") - 1) < 0.01 and m0["M0"] > 0.9
    w = sim_client.get("/v1/lifecycle/warnings", headers=H, params={"min_level": 2, "limit": 5}).json()
    assert len(w["warnings"]) == 5 and w["total"] >= 5
    levels = [x["level"] for x in w["warnings"]]
    assert levels == sorted(levels, reverse=True) and min(levels) >= 2
    assert all(x["reasons"] and x["action"] for x in w["warnings"])
    loan_id = w["warnings"][0]["loan_id"]
    status = sim_client.get(f"/v1/lifecycle/loans/{loan_id}", headers=H).json()
    assert status["loan_id"] == loan_id and status["simulated"] is True
    assert status["warning_reasons"] == w["warnings"][0]["reasons"]
    plan = sim_client.get(f"/v1/lifecycle/loans/{loan_id}/collection", headers=H).json()
    assert plan["staff"]["actions"] and plan["consequences_zh"]
    top = sim_client.get("/v1/lifecycle/customers/top", headers=H, params={"limit": 3}).json()
    assert len(top["customers"]) == 3


def test_html_dashboard(sim_client: TestClient) -> None:
    page = sim_client.get("/lifecycle", headers=H)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "模拟数据" in page.text and "滚动率" in page.text and "高危" in page.text and "<script" not in page.text
    login = sim_client.get("/lifecycle")
    assert login.status_code == 401 and 'name="key"' in login.text
    bad = sim_client.post("/lifecycle/login", data={"key": "wrong"}, follow_redirects=False)
    assert bad.status_code == 401
    ok = sim_client.post("/lifecycle/login", data={"key": "test-key"}, follow_redirects=False)
    assert ok.status_code == 303 and "httponly" in ok.headers["set-cookie"].lower()
    assert sim_client.get("/lifecycle").status_code == 200  # the cookie now carries the key
    sim_client.cookies.clear()


@pytest.mark.usefixtures("backend")  # on SQLite and PostgreSQL
def test_book_a_loan_and_reconcile_repayments(api: TestClient) -> None:
    body = {"customer_id": "C7", "product_id": "bank_auto_loan", "principal": 60000, "annual_rate": 0.05,
            "term_months": 12, "disbursed_on": "2026-06-10", "vehicle": {"vehicle_price": 90000}}
    created = api.post("/v1/lifecycle/loans", json=body, headers=H)
    assert created.status_code == 201
    loan = created.json()
    assert loan["monthly_payment"] == 5136.45 and loan["apr_percent"] == "5.00%"
    events = [{"event_id": "E1", "loan_id": loan["loan_id"], "paid_on": "2026-07-10", "amount": 5136.45},
              {"event_id": "E1", "loan_id": loan["loan_id"], "paid_on": "2026-07-10", "amount": 5136.45},
              {"event_id": "E2", "loan_id": "NO-SUCH-LOAN", "paid_on": "2026-07-10", "amount": 100}]
    report = api.post("/v1/lifecycle/repayments", json={"events": events}, headers=H).json()
    assert (report["applied"], report["duplicates"], report["rejected"]) == (1, 1, 1)
    assert report["applied_amount"] == 5136.45
    exceptions = api.get("/v1/lifecycle/repayments/exceptions", headers=H).json()["records"]
    assert {r["kind"] for r in exceptions} == {"duplicate", "unknown_loan"}
    bad = api.post("/v1/lifecycle/repayments", json={"events": [{"event_id": "x"}]}, headers=H)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


@pytest.mark.usefixtures("backend")  # on SQLite and PostgreSQL
def test_conduct_violation_is_a_clear_4xx(api: TestClient, book: LoanBook) -> None:
    issue(book)
    night = {"loan_id": "L1", "channel": "call", "template": "call_opening", "at": "2026-11-20T22:30:00+08:00"}
    response = api.post("/v1/lifecycle/contacts", json=night, headers=H)
    assert response.status_code == 422 and response.json()["error"]["code"] == "rule_violation"
    assert "8:00" in response.json()["error"]["message"]
    ok = api.post("/v1/lifecycle/contacts", json={**night, "at": "2026-11-20T10:00:00+08:00"}, headers=H)
    assert ok.status_code == 201 and ok.json()["contact_id"]


@pytest.mark.usefixtures("backend")  # on SQLite and PostgreSQL
def test_monitor_endpoint(api: TestClient, book: LoanBook) -> None:
    issue(book)
    report = api.post("/v1/lifecycle/monitor", json={"as_of": "2026-11-20"}, headers=H).json()
    assert report["loans"] == 1 and report["by_level"]["3"] == 1
