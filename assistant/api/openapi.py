"""The OpenAPI document tells the truth about errors and keys: one place annotates every route.

``annotate_routes(router)`` runs on each route module's router before the app includes it and gives each
operation the 4xx responses it really returns (with the contract's ``{"error": {"code", "message"}}`` body)
and its ``security``. What a route returns is inferred from how it is built, so a new route is documented
without anyone remembering to:

- a JSON body → 400 (not JSON), 413 (over ``max_request_bytes``), 422 (invalid or out of range);
- query or path parameters → 422; a path parameter → 404 (no such session / loan / document);
- the access dependencies of ``assistant.api.deps`` (each carries an ``access`` marker, and
  ``tool_context`` follows its two tables) → ``X-API-Key`` required (401, 403, 429) or optional
  (401 for a wrong key, 429);
- ``ROUTE_ERRORS`` adds what a handler raises itself (an unknown session on chat, Chroma down on search…).

``install_openapi(app)`` adds the shared components: the ``ErrorResponse`` schema and the security schemes
(``APIKeyHeader``: ``X-API-Key``; ``SessionIdHeader``: ``X-Session-ID`` for a customer's own documents).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from assistant.api.deps import KEYED_OPTIONAL_ROUTES, PARTNER_ROUTES, tool_context

API_KEY_SCHEME = "APIKeyHeader"
SESSION_SCHEME = "SessionIdHeader"
ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"

DESCRIPTIONS: dict[int, str] = {
    400: "请求体不是合法的JSON，或协议格式错误 / the body is not valid JSON (or not the protocol's format)",
    401: "缺少或错误的API密钥（X-API-Key） / missing or wrong API key (X-API-Key)",
    403: "密钥没有该权限，或签名无效 / the key lacks the scope, or the signature is wrong",
    404: "不存在（会话、贷款、文件、车型…） / not found (session, loan, document, car…)",
    409: "与当前状态冲突（不允许的状态变更，或版本已过期） / conflicts with the current state (a transition not "
         "allowed, or a stale version)",
    413: "请求体过大 / the request body is over the limit",
    415: "文件类型不受支持（按文件内容判断） / unsupported file type (judged by its content)",
    422: "输入无效或超出可受理范围（消息指明字段） / invalid or out-of-range input (the message names the field)",
    429: "请求过于频繁，见 Retry-After / rate limited, see Retry-After",
    503: "依赖服务暂时不可用或尚未就绪（知识库索引、Chroma服务器、数据库） / a dependency is down or not ready yet "
         "(knowledge index, Chroma server, database)",
}

# What handlers raise themselves, beyond what their shape implies: (method, path) → statuses.
ROUTE_ERRORS: dict[tuple[str, str], set[int]] = {
    # An unknown or expired session id. (A model endpoint that is down is no error here: the turn falls
    # back to the offline engine, and a refusal inside a turn is said in the reply.)
    ("POST", "/v1/chat"): {404},
    ("POST", "/v1/chat/stream"): {404},
    ("POST", "/v1/copilot"): {404},
    ("GET", "/v1/kb/search"): {503},  # the Chroma server down
    ("POST", "/v1/kb/search"): {503},
    ("GET", "/ready"): {503},  # the index still building, or a store unreachable
    ("POST", "/v1/valuation"): {404},  # a car the catalogue does not know
    # A key (with the documents scope) or the owning session: both checked by the handler.
    ("POST", "/v1/documents"): {401, 403, 404, 429},
    ("GET", "/v1/documents/{document_id}"): {401, 403, 429},
    # WeChat's callback: signature / timestamp (403), channel not configured (404), bad XML (400).
    ("GET", "/wechat"): {403, 404},
    ("POST", "/wechat"): {400, 403, 404, 413},
    ("POST", "/v1/lifecycle/contacts"): {404},  # an unknown loan; conduct rules are a 422 (rule_violation)
    # A key (intake scope) or an existing chat session; the file's own checks: size, type by content.
    ("POST", "/v1/applications/{application_id}/documents"): {401, 403, 404, 413, 415, 429},
    # Applications: an unknown chat session (404); a transition the status does not allow, or a stale version (409).
    ("POST", "/v1/applications"): {404, 409},
    **{("POST", f"/v1/applications/{{application_id}}/{step}"): {409}
       for step in ("submit", "withdraw", "consents", "credit-report", "decision", "contract", "sign")},
}
# Routes whose handler checks credentials itself: the security requirement to document.
ROUTE_SECURITY: dict[tuple[str, str], list[dict[str, list[str]]]] = {
    ("POST", "/v1/documents"): [{API_KEY_SCHEME: []}, {SESSION_SCHEME: []}],
    ("GET", "/v1/documents/{document_id}"): [{API_KEY_SCHEME: []}, {SESSION_SCHEME: []}],
    ("POST", "/v1/applications/{application_id}/documents"): [{API_KEY_SCHEME: []}, {SESSION_SCHEME: []}],
}


class ErrorDetail(BaseModel):
    """What went wrong, for a person (Chinese first) and for code (``code``, ``field``)."""

    code: str = Field(description="stable error code, e.g. invalid_input, unauthorized, rate_limited")
    message: str = Field(description="Chinese first, then English")
    field: str | None = Field(default=None, description="the input field at fault, when there is one")


class ErrorResponse(BaseModel):
    """The contract's error body."""

    error: ErrorDetail


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dep in getattr(dependant, "dependencies", ()) or ():
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _access(route: APIRoute, method: str) -> tuple[str | None, bool]:
    """``("key" | "optional" | None, checks_scope)`` for one operation, from its dependencies."""
    kind: str | None = None
    scoped = False
    for call in _calls(route.dependant):
        marker = getattr(call, "access", None)
        if marker is not None:
            kind = "key" if marker[0] == "key" else (kind or "optional")
            scoped = scoped or marker[0] == "key"
        if call is tool_context:
            if (method, route.path) in PARTNER_ROUTES:
                kind, scoped = "key", True
            elif (method, route.path) in KEYED_OPTIONAL_ROUTES:
                kind, scoped = kind or "optional", True
    return kind, scoped


def route_errors(route: APIRoute, method: str) -> tuple[set[int], list[dict[str, list[str]]] | None]:
    """The 4xx statuses one operation can return, and its security requirement (None: open)."""
    statuses: set[int] = set()
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    dependant = route.dependant
    if dependant.query_params or dependant.path_params or dependant.header_params:
        statuses.add(422)
    if dependant.path_params:
        statuses.add(404)
    kind, scoped = _access(route, method)
    security: list[dict[str, list[str]]] | None = None
    if kind == "key":
        statuses |= {401, 403, 429}
        security = [{API_KEY_SCHEME: []}]
    elif kind == "optional":
        # No key is fine; a key, if sent, must be right (401) and its requests are counted (429).
        statuses |= {401, 429} | ({403} if scoped else set())
        security = [{}, {API_KEY_SCHEME: []}]
    statuses |= ROUTE_ERRORS.get((method, route.path), set())
    security = ROUTE_SECURITY.get((method, route.path), security)
    return statuses, security


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": DESCRIPTIONS[status],
                                "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}
    if status == 429:
        response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return response


def annotate_routes(router: APIRouter) -> None:
    """Give every route of ``router`` its error responses and security (before the app includes it)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        # Routes here have one method each; a multi-method route would get the union.
        statuses: set[int] = set()
        security: list[dict[str, list[str]]] | None = None
        for method in sorted(route.methods or ()):
            found, security = route_errors(route, method)
            statuses |= found
        for status in sorted(statuses):
            # FastAPI documents its own 422 (HTTPValidationError, a shape we never send): ours replaces it.
            route.responses.setdefault(status, _error_response(status))
        if security is not None:
            route.openapi_extra = {**(route.openapi_extra or {}), "security": security}


def install_openapi(app: FastAPI) -> None:
    """Add the error schema and security schemes to ``app``'s OpenAPI document (and drop FastAPI's unused
    ``HTTPValidationError``: every 422 here has the contract's error body)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["ErrorDetail"] = ErrorDetail.model_json_schema()
        schemas["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas["ErrorResponse"].pop("$defs", None)
        components.setdefault("securitySchemes", {}).update({
            API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": "X-API-Key",
                             "description": "API密钥 / API key (partner, staff and copilot endpoints)"},
            SESSION_SCHEME: {"type": "apiKey", "in": "header", "name": "X-Session-ID",
                             "description": "客户自己的会话ID / the customer's own chat session id"},
        })
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if isinstance(operation, dict) and "422" in operation.get("responses", {}):
                    operation["responses"]["422"] = _error_response(422)
        for name in ("HTTPValidationError", "ValidationError"):
            if not _referenced(schema, f"#/components/schemas/{name}"):
                schemas.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_referenced(v, ref) for k, v in node.items() if k != "schemas")
    if isinstance(node, list):
        return any(_referenced(v, ref) for v in node)
    return False
