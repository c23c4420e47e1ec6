"""The one place where errors become HTTP statuses and ``{"error": {"code", "message"}}`` bodies."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assistant import errors as e
from assistant.errors import describe_validation_error
from assistant.logs import get_logger

log = get_logger(__name__)

STATUS: dict[type[e.AssistantError], int] = {
    e.InvalidInput: 422,
    e.RuleViolation: 422,
    e.ConsistencyError: 422,
    e.NotFound: 404,
    e.Unauthorized: 401,
    e.Forbidden: 403,
    e.Conflict: 409,
    e.RateLimited: 429,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.UpstreamUnavailable: 503,
    e.ConfigurationError: 500,
}

_HTTP_MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求格式错误", "bad request"),
    404: ("not_found", "未找到该地址", "no such path"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app serves at this request's path (for a 405's ``Allow``)."""
    routes = request.app.router.routes
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)]


def status_for(exc: e.AssistantError) -> int:
    """The HTTP status of an assistant error (nearest registered base class)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    """The contract's error shape."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str, str | None]:
    errors = exc.errors()
    first = dict(errors[0]) if errors else {}
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return 400, "malformed_json", "请求体不是合法的JSON / the request body is not valid JSON", None
    field, zh, en = describe_validation_error(first, skip=("body", "query", "path", "header", "cookie"))
    if kind == "missing":
        return 422, "invalid_input", f"缺少必填字段 {field} / missing required field {field}", field
    return 422, "invalid_input", f"{zh} / {en}", field


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; unhandled exceptions become a 500 without a traceback."""

    @app.exception_handler(e.AssistantError)
    async def _assistant_error(_request: Request, exc: e.AssistantError) -> JSONResponse:
        status = status_for(exc)
        retry_after = math.ceil(float(getattr(exc, "retry_after", 60) or 60))
        headers = {"Retry-After": str(retry_after)} if status == 429 else None
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message, field = _validation_message(exc)
        return JSONResponse(error_body(code, message, field), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh, en = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理", str(exc.detail)))
        # Keep the headers Starlette set (the JSON body must not lose them); a 405's ``Allow`` is recomputed
        # over every route of the path: Starlette names only the first route's methods (GET and POST
        # /v1/kb/search are two routes).
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
        return JSONResponse(error_body(code, f"{zh} / {en}"), status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        from assistant.api.middleware import loggable_path  # the middleware imports this module

        log.error("unhandled_error", path=loggable_path(request.scope), error=type(exc).__name__)
        return JSONResponse(
            error_body("internal_error", "服务内部错误，请稍后再试 / internal error, please try again later"),
            status_code=500,
        )
