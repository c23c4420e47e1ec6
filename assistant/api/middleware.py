"""ASGI middleware: request ids, access logs and HTTP metrics, and the request-size limit.

The access line is the only one written for a request (``serve`` turns uvicorn's own off): it names
the route template (``/v1/chat/{session_id}``), never the path as sent, and of the query string only
its keys — search text, session ids and document ids stay out of the logs.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence

import structlog
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import metrics
from assistant.api.errors import error_body
from assistant.logs import get_logger, redact_path


def route_template(scope: Scope) -> str | None:
    """The template of the route that answered (``/v1/documents/{document_id}``), or that would have
    (a 413 from the size limit is sent before routing); None when no route matches."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        router = getattr(scope.get("app"), "router", None)
        for candidate in getattr(router, "routes", ()):
            try:
                match, _ = candidate.matches(scope)
            except Exception:  # a route that cannot judge this scope is not the one
                continue
            if match is Match.FULL:
                template = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
                break
    return str(template) if template else None


def loggable_path(scope: Scope) -> str:
    """The request's route template, else its path with id-like segments replaced; no query string."""
    return route_template(scope) or redact_path(str(scope.get("path", "")))


def query_keys(scope: Scope) -> str | None:
    """The query string's keys, values dropped (``k,q``); None without a query string."""
    raw = scope.get("query_string") or b""
    if not raw:
        return None
    return redact_path("?" + raw.decode("latin-1")).lstrip("?").replace("=", "").replace("&", ",")


class RequestContextMiddleware:
    """Give each request an id (``X-Request-ID``), bind it to the logs, log the access line and count the
    request in the HTTP metrics (by route template: a path as sent would make a series per session)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            template = route_template(scope)
            method = str(scope.get("method"))
            fields = {"method": method, "path": template or redact_path(str(scope.get("path", ""))),
                      "status": status_holder["status"], "ms": round(seconds * 1000, 2)}
            if (keys := query_keys(scope)) is not None:
                fields["query_keys"] = keys
            # Looked up per request, not cached at import: the logging configuration in force applies.
            get_logger("assistant.access").info("request", **fields)
            metrics.observe_request(method, template, status_holder["status"], seconds)
            structlog.contextvars.unbind_contextvars("request_id")


# Document uploads (assistant/api/routes/intake.py) take files far larger than any JSON body; their own
# limit is ``intake_max_bytes`` plus the multipart envelope.
UPLOAD_PATHS = re.compile(r"^/v1/applications/[^/]+/documents/?$")
UPLOAD_FORM_OVERHEAD = 64 * 1024


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (or a ``path_limits`` path's own limit) with 413, by Content-Length
    or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 path_limits: Sequence[tuple[re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = tuple(path_limits)

    def limit_for(self, path: str) -> int:
        """The byte limit of a request to ``path``."""
        return next((limit for pattern, limit in self.path_limits if pattern.match(path)), self.max_bytes)

    async def _reject(self, send: Send, max_bytes: int) -> None:
        body = json.dumps(
            error_body(
                "payload_too_large",
                f"请求体超过上限（{max_bytes}字节） / request body exceeds {max_bytes} bytes",
            ),
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        max_bytes = self.limit_for(scope.get("path", ""))
        if length is not None and length.isdigit() and int(length) > max_bytes:
            await self._reject(send, max_bytes)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send, max_bytes)
        except Exception:
            if too_large and not started:
                await self._reject(send, max_bytes)
            else:
                raise


class _TooLarge(Exception):
    pass
