"""Structured logging (structlog): JSON lines with the request id, personal data masked."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
from typing import Any

import structlog

from assistant.privacy import mask_pii


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    return value


def _mask_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask ID numbers, phones and cards in every string field before it is written (also inside a
    traceback's frames and exception messages)."""
    for key, value in list(event.items()):
        event[key] = _mask_value(value)
    return event


def _add_process(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Which process wrote the line: under ``serve --workers N`` the lines of all workers share one stream."""
    event.setdefault("pid", os.getpid())
    event.setdefault("worker", multiprocessing.current_process().name)
    return event


# Tracebacks as a JSON structure (exception type, message, frames) — without the frames' local variables,
# which would carry the customer's messages and ids.
_dict_tracebacks = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


# A path segment that names a route, not a record: letters (a digit or three: "v1"), dots, dashes.
_PLAIN_SEGMENT = re.compile(r"(?=[^0-9]*(?:[0-9][^0-9]*){0,3}$)[A-Za-z0-9_.-]{1,40}")
_QUERY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,31}")
# "key=value" after "?" or "&": the value goes, the key stays (URLs in uvicorn's and httpx's lines carry
# search text, session ids, and for the WeChat API an access token or the AppSecret itself).
_QUERY_VALUE = re.compile(r"([?&][^=&?\s\"'#<>]{1,64}=)[^&\s\"'#<>]*")


def redact_path(path: str) -> str:
    """A path fit for a log: segments that look like ids become ``{id}``, query values are dropped
    (keys kept): ``/v1/chat/3f2a…?session_id=…&k=5`` → ``/v1/chat/{id}?session_id=&k=``."""
    path, has_query, query = path.partition("?")
    redacted = "/".join(seg if not seg or _PLAIN_SEGMENT.fullmatch(seg) else "{id}" for seg in path.split("/"))
    if has_query:
        keys = [part.partition("=")[0] for part in query.split("&") if part]
        redacted += "?" + "&".join((key if _QUERY_KEY.fullmatch(key) else "{key}") + "=" for key in keys)
    return redacted


class PiiLogFilter(logging.Filter):
    """Mask personal data in a stdlib record (uvicorn, httpx, any library): the formatted message with
    query values dropped and ID numbers, phones, cards, names masked; its traceback and stack too.

    Installed for every record of the process by :func:`configure_logging` (a record factory, so no
    handler — uvicorn's, pytest's, an operator's — ever sees the clear text).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn's own access line (when someone runs uvicorn with it on): its path with query.
            client, method, path, version, status = record.args
            record.args = (client, method, redact_path(str(path)), version, status)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep its template, drop the arguments
            message = str(record.msg)
        record.msg = mask_pii(_QUERY_VALUE.sub(r"\1", message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_pii(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True


_PII_FILTER = PiiLogFilter()


def install_stdlib_masking() -> None:
    """Mask every stdlib log record as it is made (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_pii", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _PII_FILTER.filter(record)
        return record

    factory.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class _CurrentStderr:
    """``sys.stderr`` as it is at each write: a stream bound once would outlive a redirect (a test's capture,
    a CLI's) and fail on "I/O operation on closed file" ever after."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    """Configure structlog and the stdlib root logger once per process.

    JSON mode writes JSON only: structlog's records and the stdlib's (uvicorn's, any library's) alike,
    each with the pid and worker that wrote it, exceptions as a structured ``exception`` field.
    Lines go to ``stream`` when given, else to whatever ``sys.stderr`` is at each write.
    """
    out = stream if stream is not None else _CurrentStderr()
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    exceptions: list[Any] = [_dict_tracebacks] if json else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_process,
            *exceptions,
            _mask_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # One write() per record (the line and its newline together): a background thread's record can
        # then never be spliced into another's, or into a stdlib (uvicorn) line, on the shared stderr.
        logger_factory=structlog.WriteLoggerFactory(file=out),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    if json:
        handler = logging.StreamHandler(out)  # type: ignore[arg-type]  # one write() per record, line and newline together
        handler.setFormatter(structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                               structlog.stdlib.add_logger_name,
                               structlog.processors.TimeStamper(fmt="iso", utc=True), _add_process],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _dict_tracebacks,
                        _mask_event, renderer],
        ))
        logging.basicConfig(level=level.upper(), handlers=[handler])
    else:
        logging.basicConfig(level=level.upper(), stream=out, format="%(levelname)s %(name)s %(message)s")
    # A library's warning is a log record too, not a bare line on stderr. Off first: a second call is a no-op
    # otherwise, even after something (a warnings.catch_warnings block) put the original hook back.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    install_stdlib_masking()


def get_logger(name: str) -> Any:
    """A bound structlog logger."""
    return structlog.get_logger(name)
