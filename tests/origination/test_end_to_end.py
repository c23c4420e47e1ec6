"""From a chat to a signed contract, with the offline engine: plans, consent and a pre-assessment in chat;
then the partner makes the application from the session, it is submitted, an officer approves it, the
contract is issued and signed — and at each step the customer, asking in chat, reads the real status.

A chat "review" outcome (转人工) opens a submitted application by itself, in the officer's queue."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.agent.flows import FLOWS
from assistant.agent.flows.base import FlowRun
from assistant.agent.turn import TurnDraft
from assistant.api.app import create_app
from assistant.services import Services
from assistant.tools.registry import ToolContext
from tests.api.conftest import tiny_settings
from tests.conftest import TEST_API_KEY
from tests.origination.conftest import BORROWER, audit_entries

KEY = {"X-API-Key": TEST_API_KEY}  # all scopes: partner and officer in one key, as a small dealer-lender runs it
APPROVE_CHAT = ("预算15万左右，想买台SUV，首付三成分3年", "我是公务员 35岁 有房 月薪5万", "帮我做个预评估", "同意")
REVIEW_CHAT = ("预算15万左右，想买台SUV，首付三成分3年", "选第一个", "我月薪3万能贷下来吗", "同意", "同意")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """Services on a fresh DATA_DIR with the tiny knowledge corpus (its index builds in a second)."""
    return Services(tiny_settings(tmp_path))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


def chat(services: Services, *messages: str) -> tuple[str, list[Any]]:
    turns: list[Any] = []
    session_id = None
    for message in messages:
        turn = services.chat.handle(message, session_id)
        session_id = turn.session_id
        turns.append(turn)
    assert session_id is not None
    return session_id, turns


def asks_status(services: Services, session_id: str, lang: str = "zh") -> str:
    """The customer asks "我的申请到哪一步了": the application_status flow, as the dialogue manager runs it."""
    state = services.chat.state(session_id)
    state.lang = lang
    draft = TurnDraft(intent="application_status")
    run = FlowRun(state=state, draft=draft, ctx=ToolContext(services=services, session_id=session_id, channel="app"),
                  text="我的申请到哪一步了", prompts=services.prompts, services=services)
    FLOWS["application_status"].run(run)
    assert [c.name for c in draft.tool_calls] == ["application_status"] and draft.tool_calls[0].error is None
    return draft.reply


def test_from_a_chat_to_a_signed_contract(client: TestClient, services: Services) -> None:
    sid, turns = chat(services, *APPROVE_CHAT)
    assert turns[0].offers and "score_applicant" in [c.name for c in turns[-1].tool_calls]
    state = services.chat.state(sid)
    assert state.consent and state.last_decision["decision"] == "approve"
    assert "还没有提交贷款申请" in asks_status(services, sid)

    # The dealer's system makes the application from the session, adding what chat never asks for.
    res = client.post("/v1/applications", headers=KEY, json={
        "session_id": sid, "personal": BORROWER.model_dump(),
        "consents": [{"purpose": "credit_report", "evidence": "征信查询授权书 No.2026-001"}]})
    assert res.status_code == 201, res.text
    app = res.json()
    app_id, ref = app["application_id"], app["reference"]
    offer = turns[-1].offers or turns[1].offers
    assert app["terms"]["vehicle"]["series"] == state.application["vehicle"]["series"]
    assert Decimal(app["terms"]["principal"]) == Decimal(str(state.application["principal"]))
    assert offer and app["profile"]["monthly_income"] == "50000" and app["profile"]["employment_type"] == "fixed"
    assert [c["purpose"] for c in app["consents"]] == ["pre_assessment", "credit_report"]
    assert app["risk"]["decision"] == "approve" and app["risk"]["source"] == "chat"
    assert asks_status(services, sid).startswith(f"您的申请（编号{ref}）已保存为草稿")
    # The same session again: the same application, not a second one.
    again = client.post("/v1/applications", headers=KEY, json={"session_id": sid})
    assert again.status_code == 200 and again.json()["application_id"] == app_id

    path = f"/v1/applications/{app_id}"
    assert client.post(f"{path}/submit", json={"version": again.json()["version"]}, headers=KEY).status_code == 200
    assert "正在排队等待审核" in asks_status(services, sid)
    assert client.post(f"{path}/credit-report", json={}, headers=KEY).status_code == 200

    docs = client.post(f"{path}/decision", headers=KEY,
                       json={"outcome": "request_documents", "documents": ["近6个月工资流水"]})
    assert docs.status_code == 200
    status = asks_status(services, sid)
    assert status.startswith(f"您的申请（编号{ref}）目前在人工审核中") and "近6个月工资流水" in status

    approved = client.post(f"{path}/decision", headers=KEY, json={
        "outcome": "approve", "conditions": ["放款前办理车辆抵押登记"],
        "version": docs.json()["version"]})
    assert approved.status_code == 200
    assert "已审批通过" in asks_status(services, sid) and "车辆抵押登记" in asks_status(services, sid)

    issued = client.post(f"{path}/contract", json={}, headers=KEY)
    assert issued.status_code == 200, issued.text
    contract = issued.json()["contract"]
    # The customer opens the contract with their own session; it states the figures of the chat's offer.
    pdf = client.get(contract["url"], headers={"X-Session-ID": sid})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert issued.json()["terms"]["monthly_payment"] == app["terms"]["monthly_payment"]
    assert contract["contract_number"] in asks_status(services, sid)

    signed = client.post(f"{path}/sign", json={"accept": True, "evidence": "app-otp-ok"}, headers=KEY)
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    final = asks_status(services, sid)
    assert "签署完成" in final and f"申请（编号{ref}）已办结" in final
    assert "signed on" in asks_status(services, sid, "en")

    moves = [(e["action"], e["actor"]) for e in client.get(path, headers=KEY).json()["events"]]
    assert moves == [("create", "partner"), ("submit", "partner"), ("credit_report", "partner"),
                     ("request_documents", "officer"), ("approve", "officer"), ("issue_contract", "officer"),
                     ("sign", "customer")]
    assert [e["action"] for e in audit_entries(services, app_id)] == [m[0] for m in moves]
    assert services.audit.verify().ok


def test_a_review_outcome_in_chat_opens_a_submitted_application(client: TestClient, services: Services) -> None:
    sid, turns = chat(services, *REVIEW_CHAT)
    last = turns[-1]
    assert last.handoff and services.chat.state(sid).last_decision["decision"] == "review"
    record = services.applications.latest_for_session(sid)
    assert record is not None and record.status.value == "submitted"
    assert record.risk is not None and record.risk.decision == "review" and record.risk.reasons
    assert record.consent("pre_assessment") is not None and record.terms.vehicle is not None
    assert f"编号{record.id[:8].upper()}" in last.reply  # the customer is told the reference
    queue = client.get("/v1/applications", params={"status": "submitted"}, headers=KEY).json()
    assert record.id in [item["application_id"] for item in queue["items"]]
    assert "正在排队等待审核" in asks_status(services, sid)
    # Asking again in chat (the same outcome) updates that application; it makes no second one.
    services.chat.handle("同意", sid)
    services.chat.handle("帮我做个预评估", sid)
    assert services.applications.latest_for_session(sid).id == record.id
    entries = audit_entries(services, record.id)
    assert [(e["action"], e["actor"]) for e in entries][:2] == [("create", "customer"), ("submit", "system")]
