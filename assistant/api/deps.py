"""FastAPI dependencies: the shared services, API keys with scopes, per-key rate limits.

Access policy (partner vs customer):

- open to customers, no key: the web chat (``/``, ``/v1/chat``, ``/v1/chat/stream``), ``/v1/quote``,
  ``/v1/kb/search``, ``/v1/nlu/parse``, ``/wechat`` (which has its own signature check). A key, if sent,
  must be valid (``quote``: and have the scope) and its per-key limit applies; anonymous streaming chat
  is rate-limited per client address.
- partner endpoints need ``X-API-Key`` with the matching scope: ``score`` and ``match`` (the credit
  model and the dealer's offers are not for anonymous probing), ``copilot``, and ``documents`` when not
  asked by the customer's own session. Missing or unknown key → 401, key without the scope → 403, over
  ``rate_limit_per_minute`` → 429 with Retry-After.
- a customer's session id is the bearer of their access: with it they read their own conversation
  (``GET /v1/chat/{session_id}``) and documents (``X-Session-Id`` header or ``?session_id=``), nobody else's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import Request

from assistant.api.ratelimit import SlidingWindowLimiter
from assistant.errors import Forbidden, RateLimited, Unauthorized
from assistant.services import Services
from assistant.tools.registry import ToolContext


def get_services(request: Request) -> Services:
    """The services built by the app factory."""
    return request.app.state.services


# Partner endpoints: (method, path) → the scope a key needs. Applied by ``tool_context`` (the dependency
# every tool-backed route already takes), so the whole access policy is this one table.
PARTNER_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/v1/score"): "score",
    ("POST", "/v1/match"): "match",
    ("POST", "/v1/match/explain"): "match",
}
# Open endpoints where a presented key is checked against this scope (and rate-limited per key).
KEYED_OPTIONAL_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/v1/quote"): "quote",
}


def tool_context(request: Request) -> ToolContext:
    """A tool context for a plain API call, after the access policy for the route (see PARTNER_ROUTES)."""
    route = (request.method, request.url.path.rstrip("/") or "/")
    if route in PARTNER_ROUTES:
        check_api_key(request, PARTNER_ROUTES[route])
    elif route in KEYED_OPTIONAL_ROUTES and request.headers.get("x-api-key"):
        check_api_key(request, KEYED_OPTIONAL_ROUTES[route])
    return ToolContext(services=get_services(request), channel="api")


def parse_api_keys(entries: list[str]) -> dict[str, frozenset[str] | None]:
    """``key`` → all scopes (None); ``key:score+match`` → those scopes."""
    keys: dict[str, frozenset[str] | None] = {}
    for entry in entries:
        key, _, scopes = entry.partition(":")
        keys[key] = frozenset(s for s in scopes.split("+") if s) if scopes else None
    return keys


def rate_limiter(request: Request) -> SlidingWindowLimiter:
    """The app's limiter (one per app, built on first use from ``rate_limit_per_minute``)."""
    state = request.app.state
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = SlidingWindowLimiter(get_services(request).settings.rate_limit_per_minute, 60.0)
        state.rate_limiter = limiter
    return limiter


def enforce_rate_limit(request: Request, bucket: str, scope: str) -> None:
    """Count one request in ``bucket``; raise RateLimited (429 + Retry-After) when over the limit."""
    wait = rate_limiter(request).hit(bucket)
    if wait is None:
        return
    from assistant import metrics
    from assistant.api.ratelimit import retry_after_header

    metrics.RATE_LIMITED.labels(scope=scope).inc()
    exc = RateLimited(f"请求过于频繁，请 {retry_after_header(wait)} 秒后再试",
                      f"rate limit exceeded, retry in {retry_after_header(wait)} s")
    exc.retry_after = float(wait)  # type: ignore[attr-defined]
    raise exc


def _key_bucket(key: str) -> str:
    # Keys are secrets: the limiter's table holds a digest, not the key.
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def check_api_key(request: Request, scope: str) -> str:
    """Return the caller's key if it is known and allowed ``scope``; 401/403/429 otherwise."""
    keys = parse_api_keys(get_services(request).settings.api_keys)
    key = request.headers.get("x-api-key", "")
    if not key or key not in keys:
        raise Unauthorized("缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
    scopes = keys[key]
    if scopes is not None and scope not in scopes:
        raise Forbidden(f"该API密钥无权访问 {scope}", f"this API key has no '{scope}' scope")
    enforce_rate_limit(request, _key_bucket(key), scope)
    return key


def require_scope(scope: str) -> Callable[[Request], str]:
    """A dependency for partner endpoints: ``dependencies=[Depends(require_scope("score"))]``."""

    def dependency(request: Request) -> str:
        return check_api_key(request, scope)

    dependency.__name__ = f"require_{scope}_key"
    return dependency


def client_address(request: Request) -> str:
    """The caller's address (the socket peer; put a proxy's X-Forwarded-For handling in the proxy)."""
    return request.client.host if request.client else "unknown"


def open_access(scope: str) -> Callable[[Request], str | None]:
    """A dependency for customer endpoints: no key needed; a key, if sent, must be valid.

    Anonymous callers are rate-limited per client address, keyed callers per key (any scope).
    """

    def dependency(request: Request) -> str | None:
        key = request.headers.get("x-api-key")
        if key:
            # A key on an open endpoint must be a real one (a typo should not silently go anonymous),
            # but it needs no particular scope here.
            if key not in parse_api_keys(get_services(request).settings.api_keys):
                raise Unauthorized("错误的API密钥（X-API-Key）", "wrong API key (X-API-Key)")
            enforce_rate_limit(request, _key_bucket(key), scope)
            return key
        enforce_rate_limit(request, f"ip:{client_address(request)}", scope)
        return None

    dependency.__name__ = f"open_{scope}"
    return dependency
