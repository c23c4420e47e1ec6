"""Applicants' documents at rest: the file and the fields read from it are encrypted in the row."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from assistant.intake.cards import card_bytes, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind
from assistant.services import Services
from assistant.storage.crypto import looks_encrypted

pytestmark = pytest.mark.usefixtures("backend")


def test_no_plaintext_name_or_id_number_in_the_stored_row(services: Services) -> None:
    person = person_for_seed(11)
    image = card_bytes(render_card(DocumentKind.ID_CARD_FRONT, person), "PNG")
    ocr = {"kind": "id_card_front", "fields": {"name": person.name, "id_number": person.id_number}}
    application_id = uuid.uuid4().hex
    store = services.intake.store
    record = store.add(application_id=application_id, kind="id_card_front", content_type="image/png", data=image,
                       sha256="0" * 64, ocr=ocr)
    with services.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM intake_files WHERE id = :id"), {"id": record.id}).mappings().one()
    raw = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row.values())
    for secret in (person.name, person.id_number, person.id_number[6:14]):
        assert secret.encode() not in raw
    assert b"IHDR" not in raw and looks_encrypted(bytes(row["blob"]))
    assert store.content(record.id) == image
    assert store.list(application_id)[0].ocr == ocr
    assert row["application_id"] == application_id
