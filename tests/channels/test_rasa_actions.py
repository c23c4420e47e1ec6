"""The rasa-sdk action server: real Rasa webhook payloads posted to rasa-sdk's own app, and the example
bot under integrations/rasa/ checked against what the server serves."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from rasa_sdk import __version__ as rasa_sdk_version

from assistant.domain.quote import quote
from assistant.rasa_actions.actions import STAFF_ACTIONS
from assistant.rasa_actions.server import create_action_app
from assistant.services import Services
from assistant.settings import Settings

RASA_DIR = Path(__file__).resolve().parents[2] / "integrations" / "rasa"
DOMAIN = yaml.safe_load((RASA_DIR / "domain.yml").read_text(encoding="utf-8"))
STAFF_KEY = "rasa-staff-key"
QUOTE_KEY = "rasa-quote-key"


@pytest.fixture(scope="module")
def rasa_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    return Services(Settings(data_dir=tmp_path_factory.mktemp("rasa") / "data",  # type: ignore[call-arg]
                             api_keys=[f"{STAFF_KEY}:lifecycle+score", f"{QUOTE_KEY}:quote"], _env_file=None))


@pytest.fixture(scope="module")
def rasa(rasa_services: Services) -> Iterator[TestClient]:
    # One action server for the module: Sanic keeps process-wide state, and one app per process is how
    # rasa-sdk runs it in production too.
    with TestClient(create_action_app(rasa_services)) as client:
        yield client


def payload(action: str, slots: dict[str, Any], text: str = "", events: list[dict] | None = None,
            active_loop: str | None = None) -> dict[str, Any]:
    """What Rasa posts to the action endpoint (rasa.core.actions.action.RemoteAction)."""
    all_slots = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None} | slots
    return {
        "next_action": action,
        "sender_id": "rasa-user-42",
        "tracker": {
            "sender_id": "rasa-user-42",
            "slots": all_slots,
            "latest_message": {"text": text, "intent": {"name": "inform", "confidence": 0.97}, "entities": [],
                               "message_id": "m1", "metadata": {}},
            "latest_event_time": 1_700_000_000.0,
            "followup_action": None,
            "paused": False,
            "events": events or [{"event": "action", "timestamp": 1_700_000_000.0, "name": "action_listen"},
                                 {"event": "user", "timestamp": 1_700_000_000.1, "text": text,
                                  "parse_data": {"intent": {"name": "inform"}, "entities": []}}],
            "latest_input_channel": "rest",
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": DOMAIN,
        "version": rasa_sdk_version,
    }


def test_quote_action_reads_slots_and_answers_with_the_apr(rasa: TestClient, rasa_services: Services) -> None:
    slots = {"vehicle_price": 200000, "down_payment_ratio": 0.3, "term_months": 36, "quoted_rate": 0.045}
    res = rasa.post("/webhook", json=payload("action_quote_loan", slots))
    assert res.status_code == 200
    body = res.json()
    expected = quote(Decimal("140000.00"), Decimal("0.045"), 36)
    result = body["responses"][0]["custom"]["result"]
    assert Decimal(str(result["monthly_payment"])) == expected.monthly_payment
    assert len(result["schedule"]) == 36
    text = body["responses"][0]["text"]
    assert "年化利率4.50%" in text and f"{expected.monthly_payment:,.2f}" in text
    set_slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert set_slots["monthly_payment"] == float(expected.monthly_payment)
    assert set(set_slots) == {"monthly_payment", "apr"}  # only slots the domain has
    entry = rasa_services.audit.entries(session_id="rasa-user-42")[-1]
    assert entry["event"] == "tool_call" and entry["data"]["tool"] == "quote_loan"


def test_a_flat_rate_from_the_form_prices_as_flat(rasa: TestClient) -> None:
    slots = {"loan_amount": 100000, "term_months": 36, "quoted_rate": 0.035, "rate_type": "flat"}
    result = rasa.post("/webhook", json=payload("action_quote_loan", slots)).json()["responses"][0]["custom"]["result"]
    assert result["apr"] > 0.06  # a 3.5 % flat rate is about 6.5 % a year in truth


def test_missing_arguments_are_asked_for(rasa: TestClient) -> None:
    body = rasa.post("/webhook", json=payload("action_quote_loan", {"term_months": 36})).json()
    assert body["events"] == []
    assert "还需要您提供" in body["responses"][0]["text"] and "贷款金额" in body["responses"][0]["text"]
    assert set(body["responses"][0]["custom"]["missing"]) == {"principal", "annual_rate"}


def test_a_tool_refusal_is_said_not_crashed(rasa: TestClient) -> None:
    slots = {"loan_amount": 100000, "term_months": 120, "quoted_rate": 0.045}
    body = rasa.post("/webhook", json=payload("action_quote_loan", slots)).json()
    assert "期限" in body["responses"][0]["text"]
    assert body["responses"][0]["custom"]["error"]["code"] == "invalid_input"


def test_match_action_lists_offers_with_their_apr(rasa: TestClient) -> None:
    slots = {"budget": 150000, "body_type": "suv", "down_payment_ratio": 0.3, "term_months": 36,
             "monthly_income": 15000}
    body = rasa.post("/webhook", json=payload("action_match_offers", slots, text="预算15万想买SUV")).json()
    text = body["responses"][0]["text"]
    offers = body["responses"][0]["custom"]["result"]["offers"]
    assert offers and "年化利率" in text and text.count("月供") == min(3, len(offers))


def form_payload(slot: str, value: Any) -> dict[str, Any]:
    events = [{"event": "active_loop", "name": "loan_form"},
              {"event": "slot", "name": "requested_slot", "value": slot},
              {"event": "user", "text": str(value), "parse_data": {"intent": {"name": "inform"}, "entities": []}},
              {"event": "slot", "name": slot, "value": value}]
    return payload("validate_loan_form", {slot: value, "requested_slot": slot}, text=str(value), events=events,
                   active_loop="loan_form")


@pytest.mark.parametrize(("slot", "said", "value"), [
    ("vehicle_price", "十五万", 150000),
    ("vehicle_price", "落地价23.8万", 238000),
    ("down_payment_ratio", "三成", 0.3),
    ("down_payment_ratio", "30%", 0.3),
    ("term_months", "三年", 36),
    ("term_months", "36期", 36),
    ("quoted_rate", "年利率4.5%", 0.045),
])
def test_form_validation_normalises_answers(rasa: TestClient, slot: str, said: str, value: Any) -> None:
    body = rasa.post("/webhook", json=form_payload(slot, said)).json()
    set_slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert set_slots[slot] == value
    assert body["responses"] == []


def test_form_validation_sets_flat_rate_type_and_rejects_nonsense(rasa: TestClient) -> None:
    body = rasa.post("/webhook", json=form_payload("quoted_rate", "月费率0.3%")).json()
    set_slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert set_slots == {"quoted_rate": 0.036, "rate_type": "flat"}
    body = rasa.post("/webhook", json=form_payload("term_months", "一百期")).json()
    assert {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"} == {"term_months": None}
    assert "6到60期" in body["responses"][0]["text"]


def test_unknown_action_is_404(rasa: TestClient) -> None:
    res = rasa.post("/webhook", json=payload("action_launch_rocket", {}))
    assert res.status_code == 404
    assert res.json()["action_name"] == "action_launch_rocket"


def test_actions_listing_and_the_example_domain_agree(rasa: TestClient) -> None:
    served = {a["name"] for a in rasa.get("/actions").json()}
    assert "validate_loan_form" in served and "action_quote_loan" in served
    assert set(DOMAIN["actions"]) <= served, set(DOMAIN["actions"]) - served
    # Every form slot has a validator and a question; every rule step is something the bot knows.
    from assistant.rasa_actions.actions import ValidateLoanForm

    for slot in DOMAIN["forms"]["loan_form"]["required_slots"]:
        assert hasattr(ValidateLoanForm, f"validate_{slot}") and f"utter_ask_{slot}" in DOMAIN["responses"]
    rules = yaml.safe_load((RASA_DIR / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    known = set(DOMAIN["actions"]) | set(DOMAIN["responses"]) | set(DOMAIN["forms"])
    for rule in rules:
        for step in rule["steps"]:
            if "action" in step:
                assert step["action"] in known, step["action"]
            if "intent" in step:
                assert step["intent"] in DOMAIN["intents"] or step["intent"] == "nlu_fallback"
    endpoints = yaml.safe_load((RASA_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["url"].endswith(":5055/webhook")
    # The example bot uses a staff-only action (the score), so its endpoint sends the key.
    assert "X-API-Key" in endpoints["action_endpoint"]["headers"]


# --- staff-only actions need a key of their scope --------------------------------------------------------
APPLICANT_SLOTS = {"monthly_income": 20000, "loan_amount": 100000, "vehicle_price": 160000, "term_months": 36}


@pytest.mark.parametrize("action", sorted(STAFF_ACTIONS))
def test_a_staff_action_without_a_key_is_refused_before_it_runs(rasa: TestClient, action: str) -> None:
    res = rasa.post("/webhook", json=payload(action, APPLICANT_SLOTS | {"loan_id": "L1"}))
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "unauthorized" and "X-API-Key" in res.json()["error"]["message"]
    res = rasa.post("/webhook", json=payload(action, APPLICANT_SLOTS), headers={"X-API-Key": "guessed"})
    assert res.status_code == 401


def test_a_key_without_the_scope_is_forbidden(rasa: TestClient) -> None:
    res = rasa.post("/webhook", json=payload("action_score_applicant", APPLICANT_SLOTS),
                    headers={"X-API-Key": QUOTE_KEY})
    assert res.status_code == 403 and "score" in res.json()["error"]["message"]


def test_the_score_action_runs_with_a_score_key(rasa: TestClient) -> None:
    res = rasa.post("/webhook", json=payload("action_score_applicant", APPLICANT_SLOTS),
                    headers={"X-API-Key": STAFF_KEY})
    assert res.status_code == 200
    result = res.json()["responses"][0]["custom"]["result"]
    assert result["decision"] in ("approve", "review", "decline") and "预审结果" in res.json()["responses"][0]["text"]


def test_a_loan_action_runs_as_staff_with_a_lifecycle_key(rasa: TestClient, rasa_services: Services) -> None:
    from tests.lifecycle.conftest import issue

    issue(rasa_services.loans, "LRASA1", "CRASA1")
    res = rasa.post("/webhook", json=payload("action_loan_status", {"loan_id": "LRASA1"}),
                    headers={"X-API-Key": STAFF_KEY})
    assert res.status_code == 200
    result = res.json()["responses"][0]["custom"]["result"]
    assert result["loan_id"] == "LRASA1"  # named by id: only staff may (a customer sees their own loan only)


def test_open_actions_need_no_key(rasa: TestClient) -> None:
    slots = {"loan_amount": 100000, "term_months": 36, "quoted_rate": 0.045}
    assert rasa.post("/webhook", json=payload("action_quote_loan", slots)).status_code == 200
    assert rasa.post("/webhook", json=form_payload("term_months", "36期")).status_code == 200
