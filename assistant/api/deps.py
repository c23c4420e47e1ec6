"""FastAPI dependencies: the shared services and API-key checks."""

from __future__ import annotations

from fastapi import Request

from assistant.errors import Forbidden, Unauthorized
from assistant.services import Services
from assistant.tools.registry import ToolContext


def get_services(request: Request) -> Services:
    """The services built by the app factory."""
    return request.app.state.services


def tool_context(request: Request) -> ToolContext:
    """A tool context for a plain API call."""
    return ToolContext(services=get_services(request), channel="api")


def parse_api_keys(entries: list[str]) -> dict[str, frozenset[str] | None]:
    """``key`` → all scopes (None); ``key:score+match`` → those scopes."""
    keys: dict[str, frozenset[str] | None] = {}
    for entry in entries:
        key, _, scopes = entry.partition(":")
        keys[key] = frozenset(s for s in scopes.split("+") if s) if scopes else None
    return keys


def check_api_key(request: Request, scope: str) -> str:
    """Return the caller's key if it is known and allowed ``scope``; 401/403 otherwise."""
    keys = parse_api_keys(get_services(request).settings.api_keys)
    key = request.headers.get("x-api-key", "")
    if not key or key not in keys:
        raise Unauthorized("缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
    scopes = keys[key]
    if scopes is not None and scope not in scopes:
        raise Forbidden(f"该API密钥无权访问 {scope}", f"this API key has no '{scope}' scope")
    return key
