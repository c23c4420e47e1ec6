"""One error hierarchy for the whole assistant.

Every error carries a stable ``code`` and a message in Chinese followed by English. The HTTP layer
maps classes to status codes in one place (``assistant.api.errors``); nothing else knows about HTTP.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a request or operation that cannot be served, with a bilingual message."""

    code: str = "internal_error"

    def __init__(self, zh: str, en: str, *, code: str | None = None, field: str | None = None) -> None:
        self.zh = zh
        self.en = en
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Chinese first, English after it."""
        return f"{self.zh} / {self.en}"


class InvalidInput(AssistantError):
    """The caller sent something we cannot use (wrong type, out of range, missing)."""

    code = "invalid_input"


class RuleViolation(AssistantError):
    """Well-formed, but a lending rule (regulatory or product) forbids it."""

    code = "rule_violation"


class NotFound(AssistantError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"


class Unauthorized(AssistantError):
    """Missing or wrong credentials."""

    code = "unauthorized"


class Forbidden(AssistantError):
    """Credentials are valid but do not allow this (scope, ownership, signature)."""

    code = "forbidden"


class RateLimited(AssistantError):
    """Too many requests for this key in the current window."""

    code = "rate_limited"


class PayloadTooLarge(AssistantError):
    """The request body is over the configured limit."""

    code = "payload_too_large"


class UpstreamUnavailable(AssistantError):
    """A dependency (LLM endpoint, Chroma server, WeChat API) is down, slow or answered garbage."""

    code = "upstream_unavailable"


class ConfigurationError(AssistantError):
    """The installation is incomplete (missing model file, font, template): a startup error."""

    code = "configuration_error"


class ConsistencyError(AssistantError):
    """A computed artefact does not agree with its source (e.g. a contract's totals vs the schedule)."""

    code = "consistency_error"
