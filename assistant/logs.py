"""Structured logging (structlog): JSON lines with the request id, personal data masked."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from assistant.privacy import mask_pii


def _mask_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask ID numbers, phones and cards in every string field before it is written."""
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = mask_pii(value)
    return event


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")


def get_logger(name: str) -> Any:
    """A bound structlog logger."""
    return structlog.get_logger(name)
