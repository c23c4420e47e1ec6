"""API keys from settings, for every channel that checks one (the HTTP API, the rasa action server).

``API_KEYS`` entries: ``key`` (all scopes) or ``key:score+match`` (those scopes). No I/O, no framework: the
HTTP layer (``assistant.api.deps``) adds rate limits and lockout on top.
"""

from __future__ import annotations

import hmac

from assistant.errors import AssistantError, Forbidden, Unauthorized


def parse_api_keys(entries: list[str]) -> dict[str, frozenset[str] | None]:
    """``key`` → all scopes (None); ``key:score+match`` → those scopes."""
    keys: dict[str, frozenset[str] | None] = {}
    for entry in entries:
        key, _, scopes = entry.partition(":")
        keys[key] = frozenset(s for s in scopes.split("+") if s) if scopes else None
    return keys


def key_refusal(entries: list[str], key: str | None, scope: str) -> AssistantError | None:
    """None if ``key`` is configured and allowed ``scope``; else the Unauthorized / Forbidden to raise.

    With no keys configured every key is refused: a keyed capability is closed until keys are set."""
    if not key:
        return Unauthorized("缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
    for known, scopes in parse_api_keys(entries).items():
        # Compare every configured key in constant time: the answer's timing says nothing about the key.
        if known and hmac.compare_digest(known.encode(), key.encode()):
            if scopes is not None and scope not in scopes:
                return Forbidden(f"该API密钥无权访问 {scope}", f"this API key has no '{scope}' scope")
            return None
    return Unauthorized("缺少或错误的API密钥（X-API-Key）", "missing or wrong API key (X-API-Key)")
