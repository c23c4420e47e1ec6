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
from assistant.testing.understanding import state_from_prompt, understanding_policy

__all__ = [
    "FakeOpenAIServer",
    "FakeReply",
    "FakeToolCall",
    "RecordedRequest",
    "approx_tokens",
    "echo_user_policy",
    "last_user_text",
    "phrasing_policy",
    "state_from_prompt",
    "turn_context",
    "understanding_policy",
    "unused_base_url",
]
