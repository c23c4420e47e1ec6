"""Nothing personal in the logs: the app's access line names routes, not paths, and drops query values;
uvicorn's own access line is off; every stdlib record (uvicorn, httpx, any library) is masked."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.logs import configure_logging, install_stdlib_masking
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
DOCUMENT_ID = "5d1c2b3a-9e8f-4a7b-8c6d-0123456789ab"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put structlog, the root logger and the record factory back as they were."""
    saved_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    yield
    structlog.configure(**saved_config)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.setLogRecordFactory(factory)


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> io.StringIO:
    """The production logging configuration (JSON lines to stderr), stderr being this buffer."""
    stream = io.StringIO()  # never closed: a logger cached now may still write here after the test
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("INFO", json=True, stream=stream)  # pytest swaps sys.stderr back for the call phase
    monkeypatch.undo()
    return stream


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_the_access_line_names_the_route_and_holds_no_personal_data(tmp_path: Path, json_logs: io.StringIO) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    services = Services(settings)
    services.chat = FakeChat()  # type: ignore[misc]
    client = TestClient(create_app(settings, services))  # no lifespan: nothing here needs the index
    session_id = client.post("/v1/chat", json={"message": "你好"}).json()["session_id"]
    assert client.get(f"/v1/chat/{session_id}").status_code == 200
    # A query with an ID number and a phone (k is invalid: a 422 before any search, no index needed).
    search = client.get("/v1/kb/search", params={"q": f"我的身份证{ID_NUMBER}手机{PHONE}", "k": "x"})
    assert search.status_code == 422
    client.get(f"/v1/documents/{DOCUMENT_ID}", params={"session_id": session_id})
    assert client.get(f"/no/such/{session_id}").status_code == 404
    client.close()

    written = json_logs.getvalue()
    for secret in (ID_NUMBER, ID_NUMBER[:17], PHONE, session_id, DOCUMENT_ID, "我的身份证"):
        assert secret not in written, secret
    lines = access_lines(json_logs)
    assert [line["path"] for line in lines] == [
        "/v1/chat", "/v1/chat/{session_id}", "/v1/kb/search", "/v1/documents/{document_id}", "/no/such/{id}"]
    assert lines[2]["query_keys"] == "q,k" and lines[2]["status"] == 422
    assert lines[3]["query_keys"] == "session_id"
    assert all(line["request_id"] and line["method"] for line in lines)


def test_serve_and_the_action_server_turn_uvicorns_access_log_off(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from assistant import cli
    from assistant.rasa_actions import server
    from assistant.settings import get_settings

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr("assistant.logs.configure_logging", lambda *_a, **_k: None)
    monkeypatch.setattr("assistant.kb.embeddings.share_cores", lambda _workers: None)
    monkeypatch.setenv("LOAN_ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    # serve --workers names its metrics directory in the environment: undone after the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    get_settings.cache_clear()
    try:
        assert cli.main(["serve"]) == 0
        assert cli.main(["serve", "--workers", "2"]) == 0
        monkeypatch.setattr(server, "create_action_app", lambda _services: object())
        assert server.actions_command(type("Args", (), {"host": "127.0.0.1", "port": 5055})()) == 0
    finally:
        get_settings.cache_clear()
    assert len(calls) == 3
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str((tmp_path / "data" / "prometheus").resolve())
    assert all(call["access_log"] is False and call["log_config"] is None for call in calls)


def test_uvicorns_access_line_is_scrubbed_if_someone_turns_it_on(caplog: pytest.LogCaptureFixture,
                                                                 restore_logging: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A live server started by an earlier test leaves uvicorn's own logging config behind (its access
    # logger disabled or not propagating); this test is about the masking, so it starts from a plain logger.
    access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access, "disabled", False)
    monkeypatch.setattr(access, "propagate", True)
    install_stdlib_masking()
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="uvicorn.access")  # its own level may have been set higher
    session_id = "3f2a9c0d8e7b4a1f9c2d3e4f5a6b7c8d"
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET",
                                             f"/v1/chat/{session_id}?q={ID_NUMBER}&k=5", "1.1", 200)
    line = caplog.records[-1].getMessage()
    assert line == '127.0.0.1:50000 - "GET /v1/chat/{id}?q=&k= HTTP/1.1" 200'


def test_every_stdlib_record_is_masked(caplog: pytest.LogCaptureFixture, restore_logging: None) -> None:
    install_stdlib_masking()
    install_stdlib_masking()  # idempotent: one mask, not two factories
    caplog.set_level(logging.INFO)
    logging.getLogger("uvicorn.error").warning("bad request from %s, id %s", PHONE, ID_NUMBER)
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET",
                                    "https://api.example.test/cgi-bin/token?grant_type=client_credential"
                                    "&appid=wx-app&secret=the-app-secret", "HTTP/1.1", 200, "OK")
    try:
        raise ValueError(f"cannot parse {ID_NUMBER}")
    except ValueError:
        logging.getLogger("some.library").exception("failed for %s", PHONE)
    text = caplog.text
    for secret in (ID_NUMBER[:17], PHONE, "the-app-secret"):
        assert secret not in text, secret
    assert "secret=" in text and "grant_type=&appid=" in text  # keys kept, values gone
    assert "ValueError: cannot parse" in text  # the traceback is still there, masked
    assert "138****5678" in text
