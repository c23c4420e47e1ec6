"""Prometheus metrics in a dedicated registry (so tests and several apps in one process don't clash).

The chat engine increments TURNS / TURN_LATENCY / TOOL_CALLS / FALLBACKS / HANDOFFS; the WeChat
customer-service client increments WECHAT_RETRIES; ``GET /metrics`` renders :data:`REGISTRY`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

TURNS = Counter("loan_assistant_turns", "Chat turns answered.", registry=REGISTRY)
TURN_LATENCY = Histogram(
    "loan_assistant_turn_latency_seconds",
    "Time to answer one chat turn, by engine.",
    ["engine"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0),
    registry=REGISTRY,
)
TOOL_CALLS = Counter("loan_assistant_tool_calls", "Tool invocations, by tool.", ["tool"], registry=REGISTRY)
FALLBACKS = Counter(
    "loan_assistant_fallbacks", "Turns where the engine fell back (LLM down -> offline engine).", registry=REGISTRY
)
HANDOFFS = Counter("loan_assistant_handoffs", "Conversations handed to a human agent.", registry=REGISTRY)
WECHAT_RETRIES = Counter(
    "loan_assistant_wechat_retries",
    "Retries on the WeChat channel: WeChat re-sending a message we already had, and our own retries of "
    "the customer-service message API.",
    registry=REGISTRY,
)
WECHAT_MESSAGES = Counter(
    "loan_assistant_wechat_messages", "WeChat messages received, by type and how they were answered.",
    ["msg_type", "delivery"], registry=REGISTRY,
)
RATE_LIMITED = Counter("loan_assistant_rate_limited", "Requests refused with 429, by scope.", ["scope"],
                       registry=REGISTRY)
AUDIT_EVENTS = Counter("loan_assistant_audit_events", "Entries appended to the audit trail, by event.", ["event"],
                       registry=REGISTRY)


def render() -> tuple[bytes, str]:
    """The registry in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
