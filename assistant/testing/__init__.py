"""Test doubles that run for real: a local OpenAI-compatible HTTP server (no provider is ever called)."""

from assistant.testing.fake_openai import (
    FakeOpenAIServer,
    FakeReply,
    FakeToolCall,
    RecordedRequest,
    approx_tokens,
    echo_user_policy,
    last_user_text,
    phrasing_policy,
    turn_context,
    unused_base_url,
)

__all__ = [
    "FakeOpenAIServer",
    "FakeReply",
    "FakeToolCall",
    "RecordedRequest",
    "approx_tokens",
    "echo_user_policy",
    "last_user_text",
    "phrasing_policy",
    "turn_context",
    "unused_base_url",
]
