"""The store: all-or-nothing writes, sha256 on read, no ID number in the table, the index or the logs."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from assistant.documents.service import DocumentService
from assistant.errors import ConsistencyError, NotFound
from assistant.storage.documents import DocumentRow

from .conftest import BORROWER_ID, OTHER_ID, application, borrower


def test_records_files_and_hashes(documents: DocumentService) -> None:
    issued = documents.generate(["loan_contract", "risk_disclosure", "repayment_schedule"], application(), fmt="md",
                                session_id="s" * 32)
    assert [r.kind for r in issued.documents] == ["loan_contract", "risk_disclosure", "repayment_schedule"]
    assert len({r.contract_number for r in issued.documents}) == 1
    for record in issued.documents:
        path = documents.store.root / record.filename
        content = documents.store.read(record)
        assert hashlib.sha256(content).hexdigest() == record.sha256 == documents.store.get(record.id).sha256
        assert record.size_bytes == len(content) and path.read_bytes() != content  # encrypted at rest
        assert record.template_version.startswith("1.0.0+") and record.session_id == "s" * 32
        assert record.url == f"/v1/documents/{record.id}" and not record.preview
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [r.id for r in documents.store.for_session("s" * 32)] == [r.id for r in issued.documents]


def test_id_number_never_in_clear_in_table_index_or_logs(documents: DocumentService, services) -> None:
    with capture_logs() as logs:
        issued = documents.generate(["loan_contract", "privacy_consent"], application(), fmt="md")
    record = issued.documents[0]
    assert BORROWER_ID in documents.store.read(record).decode("utf-8")  # their own contract: yes
    assert record.borrower_id_masked == "110***********002X"
    with services.sessions() as db:
        rows = db.scalars(select(DocumentRow)).all()
        values = [str(v) for row in rows for v in vars(row).values()]
    assert rows and not any(BORROWER_ID in v or BORROWER_ID.lower() in v for v in values)
    assert BORROWER_ID not in repr(logs) and any(e["event"] == "document_stored" for e in logs)
    db_files = [p for p in services.settings.data_dir.iterdir() if p.name.startswith("assistant.db")]
    assert db_files and not any(BORROWER_ID.encode() in p.read_bytes() for p in db_files)
    # The keyed hash finds a person's documents without the number being stored.
    assert {r.id for r in documents.store.for_borrower(BORROWER_ID)} == {r.id for r in issued.documents}
    assert documents.store.for_borrower(OTHER_ID) == []


def test_failed_commit_leaves_no_files(documents: DocumentService, monkeypatch: pytest.MonkeyPatch) -> None:
    class Boom(RuntimeError):
        pass

    def failing_begin():
        raise Boom("database is down")

    monkeypatch.setattr(documents.store._sessions, "begin", failing_begin)
    with pytest.raises(Boom):
        documents.generate(["loan_contract", "risk_disclosure"], application(), fmt="html")
    assert list(documents.store.root.iterdir()) == []


def test_failure_between_files_removes_the_first(documents: DocumentService, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    calls = {"n": 0}

    def second_fails(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError, match="disk full"):
        documents.generate(["loan_contract", "risk_disclosure"], application(), fmt="md")
    assert list(documents.store.root.iterdir()) == []
    with documents.store._sessions() as db:
        assert db.scalars(select(DocumentRow)).all() == []


def test_tampered_file_is_refused(documents: DocumentService) -> None:
    record = documents.generate(["repayment_schedule"], application(), fmt="md").documents[0]
    path = documents.store.root / record.filename
    token = bytearray(path.read_bytes())
    token[60] ^= 0x01  # one flipped bit in the ciphertext: the token's own HMAC refuses it
    path.write_bytes(bytes(token))
    with pytest.raises(ConsistencyError):
        documents.open(record.id)
    # A file swapped for plain text (as if written before encryption) must still match its record.
    path.write_text("# 还款计划表\n贷款本金 105,000.00 元")
    with pytest.raises(ConsistencyError):
        documents.open(record.id)
    with pytest.raises(NotFound):
        documents.open("../../etc/passwd")
    with pytest.raises(NotFound):
        documents.open("0" * 32)


def test_sweep_removes_only_old_orphans(documents: DocumentService) -> None:
    kept = documents.generate(["repayment_schedule"], application(borrower=borrower()), fmt="md").documents[0]
    root = documents.store.root
    orphan, temp, fresh = root / ("a" * 32 + ".pdf"), root / ".tmp-half.pdf", root / ("b" * 32 + ".md")
    for path in (orphan, temp, fresh):
        path.write_bytes(b"x")
    old = time.time() - 7200
    for path in (orphan, temp, root / kept.filename):
        os.utime(path, (old, old))
    assert documents.store.sweep() == 2
    assert sorted(p.name for p in root.iterdir()) == sorted([kept.filename, fresh.name])


@pytest.mark.parametrize("fmt", ["html", "md", "pdf"])
def test_stored_bytes_hold_no_id_number_and_no_markup(documents: DocumentService, fmt: str) -> None:
    """The file on disk is ciphertext: no ID number, no name, no HTML or PDF marker; a read decrypts."""
    record = documents.generate(["loan_contract"], application(), fmt=fmt).documents[0]
    raw = (documents.store.root / record.filename).read_bytes()
    for clear in (BORROWER_ID.encode(), BORROWER_ID.lower().encode(), "张三".encode(), b"html", b"<!DOCTYPE", b"%PDF",
                  "借款合同".encode()):
        assert clear not in raw
    content = documents.open(record.id)[1]
    assert hashlib.sha256(content).hexdigest() == record.sha256
    marker = {"html": b"<html", "md": BORROWER_ID.encode(), "pdf": b"%PDF-"}[fmt]
    assert marker in content


def test_a_document_stored_in_clear_still_reads_and_rotation_encrypts_it(documents: DocumentService) -> None:
    """Files written before encryption at rest (plain bytes) are the migration path: still served, then
    encrypted in place by ``keys rotate`` (DocumentStore.rotate)."""
    legacy, current = documents.generate(["loan_contract", "repayment_schedule"], application(), fmt="html").documents
    path = documents.store.root / legacy.filename
    clear = documents.store.read(legacy)
    path.write_bytes(clear)  # as the store wrote it before this change
    assert documents.open(legacy.id)[1] == clear
    assert documents.store.rotate() == {"encrypted": 1, "rotated": 0, "current": 1, "unreadable": 0, "missing": 0}
    raw = path.read_bytes()
    assert BORROWER_ID.encode() not in raw and b"html" not in raw
    assert documents.open(legacy.id)[1] == clear
    assert documents.store.rotate()["current"] == 2  # nothing left to do
    assert documents.open(current.id)[1]


def test_documents_follow_a_key_rotation(settings, services) -> None:
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from assistant.services import Services

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = Services(settings.model_copy(update={"pii_key": SecretStr(old)}))
    record = before.documents.generate(["repayment_schedule"], application(), fmt="md").documents[0]
    clear = before.documents.open(record.id)[1]

    during = Services(settings.model_copy(update={"pii_key": SecretStr(new), "pii_previous_keys": [SecretStr(old)]}))
    assert during.documents.open(record.id)[1] == clear  # old ciphertext reads under the new key set
    assert [r.id for r in during.documents.store.for_borrower(BORROWER_ID)] == [record.id]
    assert during.documents.store.rotate()["rotated"] == 1

    after = Services(settings.model_copy(update={"pii_key": SecretStr(new)}))
    assert after.documents.open(record.id)[1] == clear
    stranger = Services(settings.model_copy(update={"pii_key": SecretStr(old)}))
    with pytest.raises(ConsistencyError):
        stranger.documents.open(record.id)  # the retired key alone no longer opens it
