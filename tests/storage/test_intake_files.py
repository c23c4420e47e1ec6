"""Applicants' documents at rest: the file and the fields read from it are encrypted in the row."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from assistant.intake.cards import card_bytes, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind
from assistant.keys import rotate_all
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.crypto import generate_key, looks_encrypted

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
    raw = "".join(str(value) for value in row.values())
    for secret in (person.name, person.id_number, person.id_number[6:14]):
        assert secret not in raw
    assert "IHDR" not in raw and looks_encrypted(base64.urlsafe_b64decode(row["file_encrypted"]))
    assert store.content(record.id) == image
    assert store.list(application_id)[0].ocr == ocr
    assert row["application_id"] == application_id



def test_key_rotation_re_encrypts_the_file_and_the_fields(settings: Settings, services: Services) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"card" * 100
    record = services.intake.store.add(application_id=uuid.uuid4().hex, kind="income_proof",
                                       content_type="image/png", data=data, sha256="0" * 64, ocr={"fields": {}})
    old_key = services.cipher.keys[0].decode()
    rotated = Services(settings.model_copy(update={"pii_key": SecretStr(generate_key()),
                                                   "pii_previous_keys": [SecretStr(old_key)]}))
    report = rotate_all(rotated)
    assert report["intake_files.file_encrypted"]["rotated"] == 1
    assert report["intake_files.ocr_encrypted"]["rotated"] == 1
    fresh = Services(settings.model_copy(update={"pii_key": rotated.settings.pii_key, "pii_previous_keys": []}))
    assert fresh.intake.store.content(record.id) == data
    assert fresh.intake.store.get(record.id).ocr == {"fields": {}}
