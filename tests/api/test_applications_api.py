"""``/v1/applications``: partner keys (``applications``) make and follow their own applications, officer keys
(``underwriting``) decide, issue contracts and read the queue; illegal moves and stale versions are 409s with
bilingual messages; personal data comes back masked; the credit report waits for the consent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from tests.api.conftest import tiny_settings
from tests.origination.conftest import BORROWER, ID_NUMBER, PROFILE, TERMS

DEALER = {"X-API-Key": "dealer-a"}
OTHER_DEALER = {"X-API-Key": "dealer-b"}
OFFICER = {"X-API-Key": "officer-1"}
SCORER = {"X-API-Key": "scorer"}
BODY: dict[str, Any] = {"terms": TERMS.model_dump(mode="json", exclude_none=True), "profile": PROFILE,
                        "personal": BORROWER.model_dump(), "consents": [{"purpose": "pre_assessment"}]}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = tiny_settings(tmp_path_factory.mktemp("applications"),
                             api_keys=["dealer-a:applications", "dealer-b:applications", "officer-1:underwriting",
                                       "scorer:score"])
    with TestClient(create_app(settings, Services(settings)), raise_server_exceptions=False) as client:
        yield client


def _create(api: TestClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    res = api.post("/v1/applications", json=body or BODY, headers=DEALER)
    assert res.status_code == 201, res.text
    return res.json()


def test_a_partner_creates_a_draft_with_personal_data_masked(api: TestClient) -> None:
    res = api.post("/v1/applications", json=BODY, headers=DEALER)
    assert res.status_code == 201
    app = res.json()
    assert app["status"] == "draft" and app["version"] == 1 and app["next_actions"] == ["submit", "withdraw"]
    assert app["terms"]["monthly_payment"] == "2438.38" and app["terms"]["apr"]
    assert app["personal"]["id_number"] == "110***********1239" and app["personal"]["name"] == "张*"
    for secret in (ID_NUMBER, BORROWER.phone, BORROWER.name, BORROWER.address):
        assert secret not in res.text
    assert app["customer_message"].startswith(f"您的申请（编号{app['reference']}）已保存为草稿")


@pytest.mark.parametrize(("body", "field"), [
    ({}, None),  # neither a session nor terms
    ({**BODY, "session_id": "abc"}, None),  # both
    ({**BODY, "terms": {**BODY["terms"], "apr": "0.01"}}, None),  # computed figures are not taken from the caller
    ({**BODY, "personal": {"id_number": "123456789012345678"}}, "personal.id_number"),
    ({**BODY, "consents": [{"purpose": "everything"}]}, "consents.0.purpose"),
])
def test_bad_bodies_are_422_naming_the_problem(api: TestClient, body: dict[str, Any], field: str | None) -> None:
    res = api.post("/v1/applications", json=body, headers=DEALER)
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "invalid_input" and " / " in error["message"]
    if field:
        assert error["field"] == field
    assert "123456789012345678" not in res.text


def test_an_unknown_session_is_404(api: TestClient) -> None:
    res = api.post("/v1/applications", json={"session_id": "f" * 32}, headers=DEALER)
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_keys_and_scopes(api: TestClient) -> None:
    app = _create(api)
    path = f"/v1/applications/{app['application_id']}"
    assert api.get(path).status_code == 401
    assert api.get(path, headers=SCORER).status_code == 403
    assert api.get(path, headers=OTHER_DEALER).status_code == 404  # another partner's: not even confirmed
    assert api.get(path, headers=DEALER).status_code == 200 and api.get(path, headers=OFFICER).status_code == 200
    assert api.get("/v1/applications", headers=DEALER).status_code == 403  # the queue is for officers
    decision = {"outcome": "approve"}
    assert api.post(f"{path}/decision", json=decision, headers=DEALER).status_code == 403


def test_illegal_moves_and_stale_versions_are_409(api: TestClient) -> None:
    app = _create(api)
    path = f"/v1/applications/{app['application_id']}"
    res = api.post(f"{path}/sign", json={"accept": True}, headers=DEALER)
    assert res.status_code == 409
    error = res.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["message"].startswith("申请当前状态为“草稿（未提交）”，不能签署 / cannot sign")
    submitted = api.post(f"{path}/submit", json={"version": 1}, headers=DEALER)
    assert submitted.status_code == 200 and submitted.json()["version"] == 2
    stale = api.post(f"{path}/withdraw", json={"version": 1, "reason": "改主意了"}, headers=DEALER)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert api.get(path, headers=DEALER).json()["status"] == "submitted"


def test_the_credit_report_after_consent_and_for_staff_eyes(api: TestClient) -> None:
    app = _create(api)
    path = f"/v1/applications/{app['application_id']}"
    res = api.post(f"{path}/credit-report", json={}, headers=DEALER)
    assert res.status_code == 403 and "征信" in res.json()["error"]["message"]
    consent = api.post(f"{path}/consents", json={"purpose": "credit_report", "evidence": "授权书 No.7",
                                                 "channel": "branch"}, headers=DEALER)
    assert consent.status_code == 200 and [c["purpose"] for c in consent.json()["consents"]] == \
        ["pre_assessment", "credit_report"]
    pulled = api.post(f"{path}/credit-report", json={}, headers=DEALER)
    assert pulled.status_code == 200 and pulled.json()["credit_report"] is None  # the partner does not read it
    report = api.get(path, headers=OFFICER).json()["credit_report"]
    assert report["provider"] == "simulated" and "SIMULATED credit report" in report["note"]
    events = [(e["action"], e["actor"]) for e in api.get(path, headers=OFFICER).json()["events"]]
    assert events == [("create", "partner"), ("consent", "partner"), ("credit_report", "partner")]


def test_from_submission_to_signature(api: TestClient) -> None:
    app = _create(api)
    path = f"/v1/applications/{app['application_id']}"
    api.post(f"{path}/submit", json={}, headers=DEALER)
    declined_without_reason = api.post(f"{path}/decision", json={"outcome": "decline"},
                                       headers=OFFICER)
    assert declined_without_reason.status_code == 422
    approved = api.post(f"{path}/decision", json={"outcome": "approve",
                                                  "conditions": ["提供近6个月银行流水"]}, headers=OFFICER)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert "提供近6个月银行流水" in approved.json()["customer_message"]
    issued = api.post(f"{path}/contract", json={}, headers=OFFICER)
    assert issued.status_code == 200, issued.text
    contract = issued.json()["contract"]
    # The file itself stays behind the documents scope (or the customer's own session).
    assert api.get(contract["url"], headers=OFFICER).status_code == 403
    assert api.post(f"{path}/sign", json={"accept": False}, headers=DEALER).status_code == 422
    signed = api.post(f"{path}/sign", json={"accept": True}, headers=DEALER)
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    signature = signed.json()["signature"]
    assert signature["document_sha256"] == contract["sha256"] and signature["provider"] == "simulated"
    assert signed.json()["next_actions"] == []
    english = api.get(path, params={"lang": "en"}, headers=DEALER).json()["customer_message"]
    assert english.startswith("Your loan contract") and contract["contract_number"] in english


def test_the_queue_lists_by_status_paged(api: TestClient) -> None:
    made = [_create(api)["application_id"] for _ in range(3)]
    for app_id in made:
        api.post(f"/v1/applications/{app_id}/submit", json={}, headers=DEALER)
    res = api.get("/v1/applications", params={"status": "submitted", "limit": 2}, headers=OFFICER)
    assert res.status_code == 200
    page = res.json()
    assert page["total"] >= 3 and len(page["items"]) == 2 and page["limit"] == 2
    assert all(item["status"] == "submitted" for item in page["items"])
    rest = api.get("/v1/applications", params={"status": "submitted", "limit": 200, "offset": 2},
                   headers=OFFICER).json()
    listed = [i["application_id"] for i in page["items"]] + [i["application_id"] for i in rest["items"]]
    assert set(made) <= set(listed) and len(listed) == len(set(listed)) == page["total"]
    item = page["items"][0]
    assert {"principal", "monthly_payment", "apr", "vehicle", "risk_decision", "reference"} <= set(item)
    assert api.get("/v1/applications", params={"status": "paid"}, headers=OFFICER).status_code == 422


def test_the_openapi_document_lists_409_and_the_keys(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    for step in ("submit", "withdraw", "consents", "credit-report", "decision", "contract", "sign"):
        op = schema["paths"][f"/v1/applications/{{application_id}}/{step}"]["post"]
        assert {"401", "403", "404", "409", "422", "429"} <= set(op["responses"]), step
        assert op["security"] == [{"APIKeyHeader": []}]
    assert {"404", "409"} <= set(schema["paths"]["/v1/applications"]["post"]["responses"])


def _with_phone(phone: str) -> dict[str, Any]:
    return {**BODY, "personal": {**BODY["personal"], "phone": phone}, "device_id": "sdk-device-0001"}


def test_submission_runs_the_fraud_checks_for_staff_eyes_only(api: TestClient) -> None:
    app = _create(api, _with_phone("13700000001"))
    path = f"/v1/applications/{app['application_id']}"
    submitted = api.post(f"{path}/submit", json={}, headers=DEALER)
    assert submitted.status_code == 200 and submitted.json()["fraud"] is None  # the partner never sees it
    fraud = api.get(path, headers=OFFICER).json()["fraud"]
    assessment = fraud["assessment"]
    assert assessment["decision"] in ("pass", "review") and 0 <= assessment["score"] <= 1
    assert assessment["model_version"] and fraud["not_checked"] == []
    submit = next(e for e in api.app.state.services.applications.store.events(app["application_id"])
              if e.action == "submit")
    assert submit.data["fraud"]["assessed"] is True and submit.data["fraud"]["decision"] == assessment["decision"]
    assert "fraud" not in api.get(path, headers=DEALER).text.replace('"fraud":null', "")


def test_a_fraud_decline_goes_to_an_officer_and_the_flagged_queue(api: TestClient) -> None:
    # One ID number with three phone numbers in a month (一证多号): the checks recommend declining.
    for phone in ("13800000011", "13800000012"):
        _create(api, _with_phone(phone))
    app = _create(api, _with_phone("13800000013"))
    path = f"/v1/applications/{app['application_id']}"
    submitted = api.post(f"{path}/submit", json={}, headers=DEALER).json()
    assert submitted["status"] == "under_review"  # never declined by the score alone: a person decides
    view = api.get(path, headers=OFFICER).json()
    assert view["fraud"]["assessment"]["decision"] == "decline"
    codes = [s["code"] for s in view["fraud"]["assessment"]["signals"]]
    assert "VELOCITY_ID_PHONES_30D" in codes
    review = next(e for e in view["events"] if e["action"] == "start_review")
    assert review["actor"] == "system" and "VELOCITY_ID_PHONES_30D" in review["reason"]
    flagged = api.get("/v1/applications", params={"fraud": "flagged", "status": ["submitted", "under_review"]},
                      headers=OFFICER).json()
    item = next(i for i in flagged["items"] if i["application_id"] == app["application_id"])
    assert item["fraud_decision"] == "decline" and item["fraud_signals"][0]["zh"]
    assert all(i["fraud_decision"] in ("review", "decline") for i in flagged["items"])
    assert BORROWER.phone not in str(flagged)


def test_the_officer_is_the_key_not_a_body_field(api: TestClient) -> None:
    app = _create(api)
    path = f"/v1/applications/{app['application_id']}"
    api.post(f"{path}/submit", json={}, headers=DEALER)
    spoofed = api.post(f"{path}/decision", json={"outcome": "approve", "officer_id": "someone-else"},
                       headers=OFFICER)
    assert spoofed.status_code == 422  # the body cannot name the officer
    decided = api.post(f"{path}/decision", json={"outcome": "decline", "reasons": ["收入证明不足"]}, headers=OFFICER)
    assert decided.status_code == 200
    from assistant.documents.store import api_key_id

    assert decided.json()["decision"]["officer_id"] == api_key_id("officer-1") != "officer-1"
