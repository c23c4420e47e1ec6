"""JSON mode writes JSON only: structlog's lines and the stdlib's, each naming its process, an exception
as a structured field with personal data masked and no frame locals."""

from __future__ import annotations

import io
import json
import logging
import os
import warnings
from typing import Any

import pytest

from assistant.logs import configure_logging, get_logger
from tests.channels.test_access_log import restore_logging  # noqa: F401 (a fixture)

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> io.StringIO:  # noqa: F811
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    root = logging.getLogger()
    # pytest's capture handlers on the root would keep basicConfig from installing ours.
    monkeypatch.setattr(root, "handlers", [])
    # A live uvicorn server earlier in the run leaves its own handlers on uvicorn's loggers, not propagating.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lib = logging.getLogger(name)
        monkeypatch.setattr(lib, "handlers", [])
        monkeypatch.setattr(lib, "propagate", True)
        monkeypatch.setattr(lib, "level", logging.NOTSET)
    configure_logging("INFO", json=True, stream=buffer)  # pytest swaps sys.stderr back for the call phase
    return buffer


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]  # every line parses


def test_every_line_is_json_with_the_process_and_tracebacks_are_fields(stream: io.StringIO) -> None:
    secret_local = f"客户手机{PHONE}"  # a frame local: must not reach the log
    try:
        raise ValueError(f"cannot parse {ID_NUMBER}")
    except ValueError:
        get_logger("assistant.test").exception("failed", detail=f"for {PHONE}")
        logging.getLogger("uvicorn.error").exception("library failed")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
    lines = _lines(stream)
    assert [line["event"] for line in lines[:3]] == ["failed", "library failed", "Started server process [42]"]
    assert "a library's warning" in lines[3]["event"] and lines[3]["logger"] == "py.warnings"
    assert all(line["pid"] == os.getpid() and line["worker"] == "MainProcess" for line in lines)
    for line in lines[:2]:
        (exc,) = line["exception"]
        assert exc["exc_type"] == "ValueError" and exc["frames"]
        assert all("locals" not in frame for frame in exc["frames"])
    written = stream.getvalue()
    for secret in (ID_NUMBER, PHONE, secret_local):
        assert secret not in written, secret
    assert "138****5678" in written
