"""The hash-chained audit trail: appends, masking, and detection of edits, deletions, reorders, truncation."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from assistant.audit import hash_session_id
from assistant.cli import main
from assistant.services import Services
from assistant.settings import get_settings

SESSION = "3f2a9c0d7e6b4a1f8c5d2e9b0a7f6c3d"


def fill(services: Services, n: int = 5) -> None:
    for i in range(n):
        services.audit.record("tool_call", SESSION, {"tool": "quote_loan", "arguments": {"principal": 140000 + i}})


def sql(services: Services, statement: str) -> None:
    with services.engine.begin() as conn:
        conn.execute(text(statement))


def kinds(services: Services) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in services.audit.verify().problems}


def test_an_untouched_chain_verifies(services: Services) -> None:
    fill(services)
    report = services.audit.verify()
    assert report.ok and report.entries == 5 and report.head_seq == 5
    entries = services.audit.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    assert services.audit.verify(expect_head=entries[-1]["hash"]).ok


def test_no_personal_data_in_clear(services: Services) -> None:
    services.audit.record("decision", SESSION, {
        "note": "客户手机13812345678，身份证110101199003071234", "name": "张三", "monthly_income": 12000,
        "nested": [{"bank_card": "6222020200112233445"}], "session_id": SESSION,
    })
    with services.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_log")) for v in row)
    for secret in ("13812345678", "110101199003071234", "张三", "6222020200112233445", SESSION):
        assert secret not in raw
    entry = services.audit.entries(session_id=SESSION)[0]
    assert entry["session"] == hash_session_id(SESSION)
    assert entry["data"]["monthly_income"] == 12000


def test_an_edited_entry_is_detected(services: Services) -> None:
    fill(services)
    sql(services, "UPDATE audit_log SET data = replace(data, '140002', '999999') WHERE seq = 3")
    assert kinds(services) == {(3, "edited")}


def test_an_edited_entry_with_a_recomputed_hash_is_detected(services: Services) -> None:
    fill(services)
    from assistant.audit.log import entry_hash

    with services.engine.begin() as conn:
        seq, ts, event, session, data, prev = conn.execute(text(
            "SELECT seq, ts, event, session_hash, data, prev_hash FROM audit_log WHERE seq = 2")).one()
        forged = data.replace("140001", "1")
        conn.execute(text("UPDATE audit_log SET data = :d, hash = :h WHERE seq = 2"),
                     {"d": forged, "h": entry_hash(seq, ts, event, session, forged, prev)})
    assert (3, "edited") in kinds(services)


def test_a_deleted_entry_is_detected(services: Services) -> None:
    fill(services)
    sql(services, "DELETE FROM audit_log WHERE seq = 2")
    assert kinds(services) == {(3, "deleted")}


def test_reordered_entries_are_detected(services: Services) -> None:
    fill(services)
    sql(services, "UPDATE audit_log SET seq = -1 WHERE seq = 2")
    sql(services, "UPDATE audit_log SET seq = 2 WHERE seq = 4")
    sql(services, "UPDATE audit_log SET seq = 4 WHERE seq = -1")
    found = kinds(services)
    assert {(2, "reordered"), (4, "reordered")} <= found


def test_entries_cut_off_the_end_are_detected(services: Services) -> None:
    fill(services)
    head = services.audit.entries()[-1]["hash"]
    sql(services, "DELETE FROM audit_log WHERE seq >= 4")
    assert kinds(services) == {(3, "truncated")}
    assert any(p.kind == "head_mismatch" for p in services.audit.verify(expect_head=head).problems)


def test_cli_verify_exit_codes(services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                               ) -> None:
    fill(services, 3)
    monkeypatch.setenv("LOAN_ASSISTANT_DATA_DIR", str(services.settings.data_dir))
    get_settings.cache_clear()
    try:
        assert main(["audit", "verify"]) == 0
        assert "intact" in capsys.readouterr().out
        sql(services, "UPDATE audit_log SET event = 'nothing' WHERE seq = 1")
        assert main(["audit", "verify"]) == 1
        out = capsys.readouterr().out
        assert "#1 edited" in out and "TAMPERED" in out
    finally:
        get_settings.cache_clear()


def test_the_head_log_tracks_every_entry(services: Services) -> None:
    fill(services, 2)
    lines = Path(services.settings.data_dir / "audit_head.log").read_text().splitlines()
    assert lines == [f"{e['seq']} {e['hash']}" for e in services.audit.entries()]


def rehash_from(services: Services, k: int, forge: str = "140001") -> str:
    """Play the attacker who holds DATA_DIR but not the audit key: edit entry ``k`` and re-hash every entry
    from it on with plain SHA-256 (all anyone without the key can compute); returns the new last hash."""
    from assistant.audit.log import entry_hash

    with services.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, ts, event, session_hash, data, prev_hash FROM audit_log "
                                 "WHERE seq >= :k ORDER BY seq"), {"k": k}).all()
        prev = rows[0][5]
        for seq, ts, event, session, data, _ in rows:
            data = data.replace(forge, "1")
            digest = entry_hash(seq, ts, event, session, data, prev)
            conn.execute(text("UPDATE audit_log SET data = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"d": data, "p": prev, "h": digest, "s": seq})
            prev = digest
    return prev


def head_log(services: Services) -> Path:
    return Path(services.settings.data_dir / "audit_head.log")


def test_a_chain_rehashed_from_an_entry_fails_even_with_the_head_log_rewritten(services: Services) -> None:
    """Entry 2 edited and the chain re-hashed from it on, head log rewritten to match: before the chain had
    a key this verified; now every re-hashed entry fails its keyed hash."""
    fill(services, 4)
    last = rehash_from(services, 2)
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq")).all()
    head_log(services).write_text("".join(f"{seq} {digest}\n" for seq, digest in rows))
    # The attacker also points the signed head at the new end (they cannot sign it).
    sql(services, f"UPDATE audit_anchor SET hash = '{last}'")
    report = services.audit.verify()
    assert not report.ok
    assert {(2, "edited"), (3, "edited"), (4, "edited"), (4, "head_mismatch")} <= kinds(services)


def test_a_rehashed_chain_is_caught_by_the_signed_head_alone(services: Services) -> None:
    fill(services, 4)
    rehash_from(services, 3, forge="140002")
    head_log(services).unlink()
    assert {(3, "edited"), (4, "edited"), (4, "head_mismatch")} <= kinds(services)


def test_the_tail_and_the_head_log_cut_together_are_detected(services: Services) -> None:
    """Entries 4-5 deleted and the head log cut to match: the signed head (entry 5, HMAC under the audit
    key, rewritten with every append) still names entry 5, and nobody without the key can sign entry 3."""
    fill(services, 5)
    sql(services, "DELETE FROM audit_log WHERE seq >= 4")
    lines = head_log(services).read_text().splitlines()[:3]
    head_log(services).write_text("".join(line + "\n" for line in lines))
    report = services.audit.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "truncated")]
    assert "5" in report.problems[0].detail


def test_a_head_signed_without_the_key_is_refused(services: Services) -> None:
    import hashlib

    fill(services, 5)
    sql(services, "DELETE FROM audit_log WHERE seq >= 4")
    head_log(services).unlink()
    with services.engine.begin() as conn:
        digest = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
        fake = hashlib.sha256(f"3 {digest} 0".encode()).hexdigest()
        conn.execute(text("UPDATE audit_anchor SET seq = 3, hash = :h, signature = :s"), {"h": digest, "s": fake})
    assert kinds(services) == {(3, "head_mismatch")}


def test_removing_the_signed_head_too_is_detected_and_stays_recorded(services: Services) -> None:
    fill(services, 5)
    sql(services, "DELETE FROM audit_log WHERE seq >= 4")
    sql(services, "DELETE FROM audit_anchor")
    head_log(services).unlink()
    assert kinds(services) == {(3, "unanchored")}
    # The service writes on: the chain itself now says its head had gone missing.
    services.audit.record("tool_call", SESSION, {"tool": "quote_loan"})
    entries = services.audit.entries()
    assert [e["event"] for e in entries[-2:]] == ["audit_head_missing", "tool_call"]
    assert kinds(services) == {(4, "head_missing")}


def test_a_trail_written_before_the_key_is_anchored_by_the_next_entry(services: Services) -> None:
    """A trail from before this change (plain SHA-256, no signed head): verify says it is unanchored; the
    first keyed entry signs its end, after which re-hashing the old entries is caught too."""
    from assistant.audit.log import GENESIS, entry_hash

    prev = GENESIS
    with services.engine.begin() as conn:
        for seq in (1, 2, 3):
            data = f'{{"n":{seq}}}'
            digest = entry_hash(seq, f"2026-01-0{seq}T00:00:00+00:00", "decision", None, data, prev)
            conn.execute(text("INSERT INTO audit_log (seq, ts, event, session_hash, data, prev_hash, hash) "
                              "VALUES (:s, :t, 'decision', NULL, :d, :p, :h)"),
                         {"s": seq, "t": f"2026-01-0{seq}T00:00:00+00:00", "d": data, "p": prev, "h": digest})
            prev = digest
    assert kinds(services) == {(3, "unanchored")}
    services.audit.record("tool_call", SESSION, {"tool": "quote_loan"})
    report = services.audit.verify()
    assert report.ok and report.entries == 4
    rehash_from(services, 2, forge='"n":2')
    assert (4, "edited") in kinds(services)  # entry 4 (keyed) links to the original entry 3


def test_another_key_cannot_verify_or_extend_the_chain(settings, tmp_path: Path) -> None:
    first = Services(settings.model_copy(update={"audit_key": SecretStr("k" * 32)}))
    fill(first, 3)
    assert first.audit.verify().ok
    other = Services(settings.model_copy(update={"audit_key": SecretStr("z" * 32)}))
    found = {(p.seq, p.kind) for p in other.audit.verify().problems}
    assert {(1, "edited"), (2, "edited"), (3, "edited"), (3, "head_mismatch")} <= found
    # Entries appended under the wrong key do not pass as the real key's either.
    other.audit.record("tool_call", SESSION, {"tool": "quote_loan"})
    found = {(p.seq, p.kind) for p in first.audit.verify().problems}
    assert {(4, "edited"), (4, "head_mismatch")} <= found and (3, "edited") not in found


def test_cli_verify_with_expected_head(services: Services, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A head noted elsewhere catches even a whole older copy of the database put back (which the signed
    head, restored with it, cannot)."""
    fill(services, 3)
    head = services.audit.entries()[-1]["hash"]
    monkeypatch.setenv("LOAN_ASSISTANT_DATA_DIR", str(services.settings.data_dir))
    get_settings.cache_clear()
    try:
        assert main(["audit", "verify", "--expect-head", head]) == 0
        fill(services, 1)
        assert main(["audit", "verify", "--expect-head", head]) == 1
        assert "head_mismatch" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


# ------------------------------------------------------------------ every channel records decisions and documents
SCORE = {"monthly_income": 15000, "loan_amount": 100000, "vehicle_price": 160000, "term_months": 36}
ID_NUMBER = "11010519491231002X"
BORROWER = {"name": "张三", "id_number": ID_NUMBER, "phone": "13800138000", "address": "北京市朝阳区建国路88号"}


@pytest.fixture
def api(services: Services):
    """The HTTP app without its warm-up (no knowledge index to build: these routes need none)."""
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app

    client = TestClient(create_app(services.settings, services))
    yield client
    client.close()


def raw_trail(services: Services) -> str:
    with services.engine.connect() as conn:
        return " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_log")) for v in row)


def events(services: Services, event: str) -> list[dict]:
    return [e for e in services.audit.entries(limit=1000) if e["event"] == event]


def test_partner_api_score_decisions_are_recorded(api, services: Services) -> None:
    from assistant.documents.store import api_key_id
    from tests.conftest import TEST_API_KEY

    res = api.post("/v1/score", json={**SCORE, "applicant_id": ID_NUMBER}, headers={"X-API-Key": TEST_API_KEY})
    assert res.status_code == 200
    [entry] = events(services, "decision")
    assert entry["data"]["decision"] == res.json()["decision"] and entry["data"]["grade"] == res.json()["grade"]
    assert entry["data"]["channel"] == "api" and entry["data"]["api_key_id"] == api_key_id(TEST_API_KEY)
    assert entry["data"]["model_version"] == res.json()["model_version"] and entry["session"] is None
    assert ID_NUMBER not in raw_trail(services) and TEST_API_KEY not in raw_trail(services)
    assert services.audit.verify().ok


def test_partner_api_documents_are_recorded(api, services: Services) -> None:
    from tests.conftest import TEST_API_KEY

    application = {"principal": 150000, "annual_rate": 0.045, "term_months": 60, "borrower": BORROWER}
    res = api.post("/v1/documents", json={"kind": "repayment_schedule", "format": "md",
                                             "application": application}, headers={"X-API-Key": TEST_API_KEY})
    assert res.status_code == 201, res.text
    [entry] = events(services, "document_issued")
    body = res.json()
    assert entry["data"]["document_id"] == body["document_id"] and entry["data"]["sha256"] == body["sha256"]
    assert entry["data"]["contract_number"] == body["contract_number"] and entry["data"]["channel"] == "api"
    raw = raw_trail(services)
    assert ID_NUMBER not in raw and "13800138000" not in raw and "张三" not in raw


def test_rasa_actions_record_decisions(services: Services) -> None:
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from assistant.rasa_actions.actions import ToolAction
    from assistant.tools.registry import load_all_tools

    action = ToolAction(load_all_tools().get("score_applicant"), services)
    tracker = Tracker("rasa-user-7", dict(SCORE), {"text": "能贷吗"}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {"slots": {}}))
    assert "预审结果" in dispatcher.messages[0]["text"]
    [entry] = events(services, "decision")
    assert entry["data"]["channel"] == "rasa" and entry["session"] == hash_session_id("rasa-user-7")
    assert entry["data"]["decision"] == dispatcher.messages[0]["custom"]["result"]["decision"]


def test_chat_decisions_go_through_the_same_recorder(services: Services) -> None:
    chat = services.chat
    turn = None
    for text_ in ("我月薪8000能贷吗", "同意", "想贷10万"):
        turn = chat.handle(text_, session_id=turn.session_id if turn else None, channel="web")
    [entry] = events(services, "decision")
    assert entry["session"] == hash_session_id(turn.session_id) and entry["data"]["channel"] == "web"
    assert entry["data"]["decision"] == chat.state(turn.session_id).last_decision["decision"]
    assert {e["data"]["tool"] for e in events(services, "tool_call")} >= {"score_applicant"}


def test_copilot_replays_are_staff_entries_not_customer_sessions(services: Services,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The copilot answers a pasted transcript by replaying it through the chat in a scratch session:
    the trail gets one ``copilot_replay`` entry per replayed turn that ran a tool, attached to no
    session, and none of the customer-session entries (tool calls, decisions, documents)."""
    import importlib

    from assistant.copilot import CopilotRequest, assist

    # Knowledge-base citations are beside the point here (and would build the whole index).
    monkeypatch.setattr(importlib.import_module("assistant.copilot.assist"), "_citations", lambda s, q: [])

    out = assist(services, CopilotRequest(transcript=[
        {"role": "customer", "text": "我月薪8000能贷吗"}, {"role": "customer", "text": "同意"},
        {"role": "customer", "text": "想贷10万"}]))
    assert out.suggested_reply
    entries = services.audit.entries(limit=1000)
    assert entries and {e["event"] for e in entries} == {"copilot_replay"}
    assert all(e["session"] is None and e["data"]["actor"] == "staff" for e in entries)
    assert any("score_applicant" in e["data"]["tools"] for e in entries)
    assert services.audit.verify().ok
