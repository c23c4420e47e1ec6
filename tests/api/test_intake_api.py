"""``/v1/applications/{id}/documents``: uploads checked by content, read by OCR, answered masked."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from assistant.api.app import create_app
from assistant.domain.application_state import Actor
from assistant.intake.cards import card_bytes, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind
from assistant.services import Services
from tests.api.conftest import KEY, tiny_settings
from tests.conftest import TEST_API_KEY
from tests.intake.conftest import pdf_bytes, png_bomb
from tests.origination.conftest import BORROWER, TERMS

QUOTE_ONLY = {"X-API-Key": "quote-only-key"}
SEED = 77


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = tiny_settings(tmp_path_factory.mktemp("intake"), api_keys=[TEST_API_KEY, "quote-only-key:quote"])
    with TestClient(create_app(settings, Services(settings)), raise_server_exceptions=False) as client:
        _API[:] = [client]
        yield client


def _application(api: TestClient, session_id: str | None = None) -> str:
    """A real application (uploads go to one that exists), of ``session_id`` when given."""
    record = api.app.state.services.applications.create(TERMS, actor=Actor("partner", "test"), channel="api",
                                                        session_id=session_id)
    return record.id


def _url(application_id: str | None = None, api: TestClient | None = None) -> str:
    return f"/v1/applications/{application_id or _application(api or _API[0])}/documents"


_API: list[TestClient] = []


def _post(api: TestClient, kind: str, data: bytes, *, headers: dict[str, str] | None = None,
          url: str | None = None, filename: str = "photo.jpg", content_type: str = "image/jpeg",
          **form: str):
    return api.post(url or _url(), headers=KEY if headers is None else headers, data={"kind": kind, **form},
                    files={"file": (filename, data, content_type)})


def _error(response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    if code:
        assert body["code"] == code
    zh, sep, en = body["message"].partition(" / ")
    assert sep and any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii()  # Chinese first, then English
    return body["message"]


def test_a_card_is_read_masked_and_cross_checked(api: TestClient) -> None:
    person = person_for_seed(SEED)
    application_id = _application(api)
    image = card_bytes(render_card(DocumentKind.ID_CARD_FRONT, person, seed=SEED))
    planted = "11010519491231002X"
    response = _post(api, "id_card_front", image, url=_url(application_id), applicant_name=person.name,
                     applicant_id_number=planted)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/jpeg" and body["read"] is True and body["id_checksum_ok"] is True
    assert body["fields"]["id_number"] == person.id_number[:3] + "*" * 11 + person.id_number[-4:]
    assert body["fields"]["name"] == person.name[0] + "*" * (len(person.name) - 1)
    assert [m["code"] for m in body["mismatches"]] == ["DOC_ID_MISMATCH"]
    assert person.id_number not in response.text and person.name not in response.text
    assert "image_pixels" in body["checks_passed"]
    received = [e["data"] for e in api.app.state.services.audit.entries(limit=500) if e["event"] == "document_received"]
    assert {"document_id": body["document_id"], "mismatches": ["DOC_ID_MISMATCH"]}.items() <= received[-1].items()
    assert person.id_number not in str(received)

    listed = api.get(_url(application_id), headers=KEY)
    assert listed.status_code == 200
    assert [d["document_id"] for d in listed.json()["documents"]] == [body["document_id"]]
    assert person.id_number not in listed.text
    assert api.get(_url(application_id)).status_code == 401
    assert api.get(_url(application_id), headers=QUOTE_ONLY).status_code == 403


def test_a_renamed_executable_is_415(api: TestClient) -> None:
    message = _error(_post(api, "id_card_front", b"MZ\x90\x00" + b"\0" * 4096, filename="id.jpg"), 415,
                     "unsupported_media_type")
    assert "judged by content" in message


def test_a_50_mb_photo_is_413(api: TestClient) -> None:
    _error(_post(api, "id_card_front", b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024)), 413, "payload_too_large")


def test_an_upload_over_the_json_body_limit_but_under_the_file_limit_is_taken(api: TestClient) -> None:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3)).save(buffer, format="PNG")
    assert 1_048_576 < len(buffer.getvalue()) < 10 * 1_048_576  # max_request_bytes < size < intake_max_bytes
    response = _post(api, "income_proof", buffer.getvalue(), content_type="image/png")
    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == len(buffer.getvalue())


def test_a_decompression_bomb_is_413(api: TestClient) -> None:
    _error(_post(api, "id_card_front", png_bomb(), content_type="image/png"), 413, "decompression_bomb")


def test_a_corrupt_image_is_422(api: TestClient) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), "white").save(buffer, format="JPEG")
    _error(_post(api, "id_card_front", buffer.getvalue()[:500]), 422, "corrupt_file")


def test_a_pdf_with_javascript_is_422_and_a_clean_one_is_taken(api: TestClient) -> None:
    _error(_post(api, "income_proof", pdf_bytes(javascript=True), content_type="application/pdf"), 422,
           "pdf_active_content")
    accepted = _post(api, "income_proof", pdf_bytes(2), filename="statement.png", content_type="image/png")
    assert accepted.status_code == 201 and accepted.json()["content_type"] == "application/pdf"
    assert accepted.json()["read"] is False and accepted.json()["fields"] == {}


def test_bad_kind_and_application_id_are_422(api: TestClient) -> None:
    assert "kind" in _error(_post(api, "passport", pdf_bytes()), 422, "invalid_input")
    assert "application_id" in _error(_post(api, "income_proof", pdf_bytes(), url=_url("not-a-uuid")), 422)


def test_access_needs_the_scope_or_the_customers_session(api: TestClient) -> None:
    _error(_post(api, "income_proof", pdf_bytes(), headers={}), 401, "unauthorized")
    _error(_post(api, "income_proof", pdf_bytes(), headers=QUOTE_ONLY), 403, "forbidden")
    _error(_post(api, "income_proof", pdf_bytes(), headers={"X-Session-ID": "no-such-session"}), 404, "not_found")
    session_id = api.post("/v1/chat", json={"message": "你好"}).json()["session_id"]
    own = _application(api, session_id)
    mine = _post(api, "income_proof", pdf_bytes(), headers={"X-Session-ID": session_id}, url=_url(own))
    assert mine.status_code == 201, mine.text
    # Another session's application, or one no session made: the id alone gives no access.
    _error(_post(api, "income_proof", pdf_bytes(), headers={"X-Session-ID": session_id}), 403, "forbidden")


def test_an_upload_for_an_unknown_application_is_404(api: TestClient) -> None:
    _error(_post(api, "income_proof", pdf_bytes(), url=_url(uuid.uuid4().hex)), 404, "not_found")
    assert api.get(_url(uuid.uuid4().hex), headers=KEY).status_code == 404


def test_the_cross_check_uses_the_applications_personal_data_and_the_upload_is_an_event(api: TestClient) -> None:
    services = api.app.state.services
    person = person_for_seed(SEED)
    # The application names 张三 (BORROWER) with his ID number; the card is someone else's.
    record = services.applications.create(TERMS, actor=Actor("partner", "test"), channel="api", personal=BORROWER)
    services.applications.decide(services.applications.submit(record.id, actor=Actor("customer")).id,
                                 "request_documents", officer_id="li.wei", documents=["身份证正面"])
    image = card_bytes(render_card(DocumentKind.ID_CARD_FRONT, person, seed=SEED))
    body = _post(api, "id_card_front", image, url=_url(record.id)).json()
    codes = {m["code"] for m in body["mismatches"]}
    assert {"DOC_ID_MISMATCH", "DOC_NAME_MISMATCH"} <= codes, body["mismatches"]
    assert BORROWER.id_number not in str(body) and BORROWER.name not in str(body)
    events = services.applications.store.events(record.id)
    received = [e for e in events if e.action == "document_received"]
    assert len(received) == 1 and received[0].data["requested"] is True
    assert received[0].data["document_id"] == body["document_id"] and received[0].actor.kind == "partner"
    assert "DOC_ID_MISMATCH" in received[0].data["mismatches"]
