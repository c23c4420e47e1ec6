"""The hash-chained audit trail: appends, masking, and detection of edits, deletions, reorders, truncation."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
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


def test_a_chain_rewritten_with_fresh_hashes_is_detected(services: Services) -> None:
    """Someone with database access edits entry 2 and recomputes every hash after it: the chain is
    self-consistent again, but no longer matches the head log written at the time."""
    fill(services, 4)
    from assistant.audit.log import entry_hash

    with services.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, ts, event, session_hash, data, prev_hash FROM audit_log "
                                 "ORDER BY seq")).all()
        prev = rows[0][5]
        for seq, ts, event, session, data, _ in rows:
            data = data.replace("140001", "1")
            digest = entry_hash(seq, ts, event, session, data, prev)
            conn.execute(text("UPDATE audit_log SET data = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"d": data, "p": prev, "h": digest, "s": seq})
            prev = digest
    problems = services.audit.verify().problems
    assert [(p.seq, p.kind) for p in problems] == [(2, "head_mismatch")]
