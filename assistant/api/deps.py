"""FastAPI dependencies: the shared services, API keys with scopes, rate limits.

Access policy (partner vs customer):

- open to customers, no key: the web chat (``/``, ``/v1/chat``, ``/v1/chat/stream``), ``/v1/quote``,
  ``/v1/kb/search``, ``/v1/nlu/parse``, ``/wechat`` (which has its own signature check). A key, if sent,
  must be valid (``quote``: and have the scope) and its per-key limit applies; anonymous chat (both
  endpoints) and knowledge-base search are rate-limited per client address, chat also per session id
  (``session_rate_limit_per_minute``).
- staff endpoints need ``X-API-Key`` with their scope: ``/metrics`` (``metrics``), the agent desk page
  ``/desk`` (``copilot`` or ``underwriting``; from a browser, the key typed once into its login form is kept
  in an HttpOnly, SameSite=Strict cookie, which every keyed route accepts in place of the header — the
  officer workbench calls ``/v1/applications`` with it), the loan book (``lifecycle``). With no keys
  configured they answer 401, like every keyed route.
- partner endpoints need ``X-API-Key`` with the matching scope: ``score`` and ``match`` (the credit
  model and the dealer's offers are not for anonymous probing), ``copilot``, and ``documents`` when not
  asked by the customer's own session. Missing or unknown key → 401, key without the scope → 403, over
  ``rate_limit_per_minute`` → 429 with Retry-After. After ``auth_failures_per_minute`` wrong keys from
  one client address, every request from it that presents a key gets 429 — a right key too — until
  the window has passed (key guessing gets nowhere).
- the limits are shared by every worker when ``rate_limit_store`` is ``database`` (see api/ratelimit.py).
- a customer's session id is the bearer of their access: with it they read their own conversation
  (``GET /v1/chat/{session_id}``) and documents (``X-Session-Id`` header or ``?session_id=``), nobody else's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from assistant.api.ratelimit import RateLimiter, build_limiter, retry_after_header
from assistant.apikeys import parse_api_keys
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


# Each limit: the setting that holds it. ``key`` counts requests per API key, or per client address
# for anonymous callers; ``session`` chat turns per session id; ``auth`` wrong keys per client address.
LIMIT_SETTINGS: dict[str, str] = {
    "key": "rate_limit_per_minute",
    "session": "session_rate_limit_per_minute",
    "auth": "auth_failures_per_minute",
}


def rate_limiter(request: Request, name: str = "key") -> RateLimiter:
    """The app's limiter ``name`` (see LIMIT_SETTINGS), built on first use in the ``rate_limit_store``."""
    state = request.app.state
    limiters: dict[str, RateLimiter] | None = getattr(state, "rate_limiters", None)
    if limiters is None:
        limiters = state.rate_limiters = {}
    limiter = limiters.get(name)
    if limiter is None:
        services = get_services(request)
        settings = services.settings
        limiter = limiters[name] = build_limiter(settings.rate_limit_store, getattr(settings, LIMIT_SETTINGS[name]),
                                                 name, lambda: services.engine)
    return limiter


def _rate_limited(wait: float, scope: str, zh: str, en: str) -> RateLimited:
    from assistant import metrics

    metrics.RATE_LIMITED.labels(scope=scope).inc()
    seconds = retry_after_header(wait)
    exc = RateLimited(f"{zh}，请 {seconds} 秒后再试", f"{en}, retry in {seconds} s")
    exc.retry_after = float(wait)  # type: ignore[attr-defined]
    return exc


def enforce_rate_limit(request: Request, bucket: str, scope: str, name: str = "key") -> None:
    """Count one request in ``bucket`` of limiter ``name``; RateLimited (429 + Retry-After) when over."""
    wait = rate_limiter(request, name).hit(bucket)
    if wait is None:
        return
    if name == "session":
        raise _rate_limited(wait, scope, "该会话发送消息过于频繁", "too many messages in this session")
    raise _rate_limited(wait, scope, "请求过于频繁", "rate limit exceeded")


def _refuse_locked_out(request: Request) -> None:
    """429 for a client address that sent too many wrong keys lately — even if this key is right."""
    wait = rate_limiter(request, "auth").peek(f"ip:{client_address(request)}")
    if wait is not None:
        raise _rate_limited(wait, "auth", "API密钥错误次数过多", "too many failed API-key attempts")


def _wrong_key(request: Request, zh: str, en: str) -> Unauthorized:
    """Count a failed key attempt against the client address; the 401 to raise."""
    rate_limiter(request, "auth").hit(f"ip:{client_address(request)}")
    return Unauthorized(zh, en)


def _key_bucket(key: str) -> str:
    # Keys are secrets: the limiter's table holds a digest, not the key.
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]


# The officer desk's login cookie (set by ``/desk/login``, HttpOnly, SameSite=Strict): staff pages call
# the JSON API with it instead of a key in script-readable storage.
DESK_COOKIE = "desk_key"


def presented_key(request: Request) -> str:
    """The caller's key: the ``X-API-Key`` header, else the desk's login cookie (a staff browser), else ""."""
    return request.headers.get("x-api-key") or request.cookies.get(DESK_COOKIE, "")


def check_api_key(request: Request, scope: str, key: str | None = None) -> str:
    """Return the caller's key if it is known and allowed ``scope``; 401/403/429 otherwise.

    The key is the ``X-API-Key`` header, or the desk's login cookie, unless ``key`` is given."""
    keys = parse_api_keys(get_services(request).settings.api_keys)
    if key is None:
        key = presented_key(request)
    if not key:
        raise Unauthorized("缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
    _refuse_locked_out(request)
    if key not in keys:
        raise _wrong_key(request, "缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
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
    dependency.access = ("key", scope)  # type: ignore[attr-defined]  # read by api/openapi.py
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
            _refuse_locked_out(request)
            if key not in parse_api_keys(get_services(request).settings.api_keys):
                raise _wrong_key(request, "错误的API密钥（X-API-Key）", "wrong API key (X-API-Key)")
            enforce_rate_limit(request, _key_bucket(key), scope)
            return key
        enforce_rate_limit(request, f"ip:{client_address(request)}", scope)
        return None

    dependency.__name__ = f"open_{scope}"
    dependency.access = ("optional", scope)  # type: ignore[attr-defined]  # read by api/openapi.py
    return dependency


async def _body_session_id(request: Request) -> str | None:
    """The ``session_id`` of a JSON chat body, if any (FastAPI caches the body: the route reads it too)."""
    try:
        body: Any = await request.json()
    except Exception:  # not JSON: the route's own validation answers with the 4xx
        return None
    session_id = body.get("session_id") if isinstance(body, dict) else None
    return session_id if isinstance(session_id, str) and session_id else None


async def chat_access(request: Request) -> str | None:
    """The dependency of ``/v1/chat`` and ``/v1/chat/stream``: open access (per key or client address)
    and, when the body names a session, ``session_rate_limit_per_minute`` per session id."""
    session_id = await _body_session_id(request)
    # The limiters may query the database: off the event loop.
    return await run_in_threadpool(_chat_limits, request, session_id)


chat_access.access = ("optional", "chat")  # type: ignore[attr-defined]  # read by api/openapi.py
_open_chat = open_access("chat")


def _chat_limits(request: Request, session_id: str | None) -> str | None:
    key = _open_chat(request)
    if session_id is not None:
        enforce_rate_limit(request, f"session:{session_id}", "chat_session", name="session")
    return key
