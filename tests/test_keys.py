"""``loan-assistant keys generate`` and ``keys rotate``: every encrypted column and document, counted."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from assistant.agent.types import SessionState
from assistant.cli import main
from assistant.keys import encrypted_columns
from assistant.services import Services
from assistant.settings import Settings, get_settings
from assistant.wechat.outbox import UndeliveredReplies

from .documents.conftest import BORROWER_ID, application

ID = "110101199003071234"


def test_generate_prints_a_fresh_fernet_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    first = capsys.readouterr().out.strip()
    Fernet(first.encode())  # a valid key (raises otherwise)
    main(["keys", "generate"])
    assert capsys.readouterr().out.strip() != first


def test_encrypted_columns_are_found_by_name(services: Services) -> None:
    _ = services.engine
    names = {f"{table.name}.{column}" for table, column in encrypted_columns()}
    assert {"chat_sessions.state", "chat_messages.text_encrypted", "wechat_undelivered.text_encrypted"} <= names


def env(monkeypatch: pytest.MonkeyPatch, settings: Settings, current: str, previous: str = "") -> None:
    monkeypatch.setenv("LOAN_ASSISTANT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOAN_ASSISTANT_PII_KEY", current)
    monkeypatch.setenv("LOAN_ASSISTANT_PII_PREVIOUS_KEYS", previous)
    get_settings.cache_clear()


def test_rotate_reencrypts_every_column_and_document(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        env(monkeypatch, settings, old)
        before = Services(get_settings())
        before.session_store.save(SessionState(session_id="s" * 32, channel="app"),
                                  [("customer", f"身份证{ID}", "apply"), ("assistant", "好的", "apply")],
                                  version=None)
        UndeliveredReplies(before.sessions, before.cipher).record("o" * 28, f"您的证件{ID}已登记", "timeout")
        record = before.documents.generate(["loan_contract"], application(), fmt="html").documents[0]
        legacy = before.documents.generate(["repayment_schedule"], application(), fmt="md").documents[0]
        (before.documents.store.root / legacy.filename).write_bytes(before.documents.store.read(legacy))

        env(monkeypatch, settings, new, old)
        assert main(["keys", "rotate"]) == 0
        out = capsys.readouterr().out
        assert "chat_sessions.state: rotated 1, current 0, unreadable 0" in out
        assert "chat_messages.text_encrypted: rotated 2" in out
        assert "wechat_undelivered.text_encrypted: rotated 1" in out
        assert "documents (files): encrypted 1, rotated 1, current 0, unreadable 0" in out
        assert "re-encrypted 6 item(s)" in out
        assert main(["keys", "rotate"]) == 0
        assert "re-encrypted 0 item(s)" in capsys.readouterr().out  # nothing left under the old key

        env(monkeypatch, settings, new)  # the old key dropped: everything still reads
        after = Services(get_settings())
        assert after.session_store.load("s" * 32).session_id == "s" * 32
        assert after.session_store.transcript("s" * 32, masked=False)[0]["text"] == f"身份证{ID}"
        assert UndeliveredReplies(after.sessions, after.cipher).claim("o" * 28) == [f"您的证件{ID}已登记"]
        assert BORROWER_ID in after.documents.open(record.id)[1].decode()
        assert "借款人：张三" in after.documents.open(legacy.id)[1].decode()
        raw = (after.documents.store.root / legacy.filename).read_bytes()
        assert "张三".encode() not in raw and "还款计划表".encode() not in raw
    finally:
        get_settings.cache_clear()


def test_rotate_reports_what_no_key_opens(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    lost, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        env(monkeypatch, settings, lost)
        Services(get_settings()).session_store.save(SessionState(session_id="t" * 32), [], version=None)
        env(monkeypatch, settings, new)
        assert main(["keys", "rotate"]) == 1
        out = capsys.readouterr().out
        assert "chat_sessions.state: rotated 0, current 0, unreadable 1" in out and "do not drop" in out
        with Services(get_settings()).engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM chat_sessions")).scalar_one() == 1  # left as it was
    finally:
        get_settings.cache_clear()
