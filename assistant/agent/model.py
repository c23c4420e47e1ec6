"""The narrow interface to a chat model, its LangChain/OpenAI-protocol implementation, and a scripted fake.

Anything that speaks the OpenAI chat-completions protocol works: DeepSeek, Qwen, vLLM, Ollama,
llama.cpp's server. Tests use :class:`ScriptedChatModel` or a local fake HTTP server; never a provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.errors import UpstreamUnavailable

DeltaCallback = Callable[[str], None]


@dataclass
class ModelToolCall:
    """A function call requested by the model."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class ModelReply:
    """What one model call returned."""

    text: str = ""
    tool_calls: list[ModelToolCall] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatModel(Protocol):
    """One call: messages (OpenAI-style dicts) and optional tool schemas in, a reply out."""

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
        on_delta: DeltaCallback | None = None, deadline: float | None = None,
    ) -> ModelReply:
        """Run the model once; stream text deltas to ``on_delta`` when given.

        ``deadline`` (a ``time.monotonic()`` instant) bounds the call, retries included: past it the call
        raises :class:`UpstreamUnavailable` instead of waiting.
        """
        ...


class LangChainChatModel:
    """``langchain_openai.ChatOpenAI`` against ``LLM_BASE_URL`` / ``LLM_MODEL`` / ``LLM_API_KEY``."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float, max_retries: int) -> None:
        from langchain_openai import ChatOpenAI

        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._llm = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers (Ollama, llama.cpp) accept any key
            timeout=timeout_s,
            # Retries are ours (see complete): the client's own would each get a full timeout again.
            max_retries=0,
            temperature=0.2,
            streaming=True,
            stream_usage=True,
        )

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
        on_delta: DeltaCallback | None = None, deadline: float | None = None,
    ) -> ModelReply:
        """Stream one completion within ``deadline`` (retries included); tool calls are assembled from chunks.

        A failed attempt is retried (``max_retries``) only while time is left and nothing was streamed yet,
        and each attempt's HTTP timeout is what remains of the budget, so a slow server costs at most the
        budget, not timeout × (1 + retries).
        """
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        attempts = 0
        streamed: list[bool] = []

        def sink(text: str) -> None:
            streamed.append(True)
            if on_delta is not None:
                on_delta(text)

        while True:
            attempts += 1
            try:
                return self._attempt(messages, tools, sink, deadline)
            except UpstreamUnavailable:
                remaining = deadline - time.monotonic()
                # Text already shown cannot be taken back, so a stream that broke off is not retried.
                if streamed or attempts > self.max_retries or remaining <= 0.05:
                    raise

    def _attempt(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, on_delta: DeltaCallback,
        deadline: float,
    ) -> ModelReply:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

        converted: list[Any] = []
        for m in messages:
            role = m["role"]
            if role == "system":
                converted.append(SystemMessage(m["content"]))
            elif role == "user":
                converted.append(HumanMessage(m["content"]))
            elif role == "assistant":
                calls = [{"id": c["id"], "name": c["name"], "args": c["arguments"]} for c in m.get("tool_calls", [])]
                converted.append(AIMessage(m.get("content") or "", tool_calls=calls))
            elif role == "tool":
                converted.append(ToolMessage(m["content"], tool_call_id=m["tool_call_id"]))
        runnable: Any = self._llm.bind_tools(tools) if tools else self._llm
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UpstreamUnavailable("大模型响应超时", "LLM time budget used up")
        try:
            merged: Any = None
            # The openai client takes a per-request timeout; a server that trickles chunks is cut at the deadline.
            for chunk in runnable.stream(converted, timeout=remaining):
                merged = chunk if merged is None else merged + chunk
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    on_delta(text)
                if time.monotonic() > deadline:
                    raise TimeoutError("turn budget exceeded while streaming")
        except Exception as exc:  # network, timeout, HTTP error, garbage: all mean "fall back"
            raise UpstreamUnavailable("大模型服务暂时不可用", f"LLM endpoint failed: {type(exc).__name__}") from exc
        if merged is None:
            raise UpstreamUnavailable("大模型没有返回内容", "LLM returned nothing")
        reply = ModelReply(text=merged.content if isinstance(merged.content, str) else "")
        for call in getattr(merged, "tool_calls", []) or []:
            reply.tool_calls.append(ModelToolCall(id=call.get("id") or call["name"], name=call["name"],
                                                  arguments=dict(call.get("args") or {})))
        usage = getattr(merged, "usage_metadata", None) or {}
        reply.prompt_tokens = usage.get("input_tokens")
        reply.completion_tokens = usage.get("output_tokens")
        return reply


class ScriptedChatModel:
    """A fake model that replays scripted replies (or computes them from the messages) and records calls."""

    def __init__(self, script: list[ModelReply | Callable[[list[dict[str, Any]]], ModelReply] | Exception]) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
        on_delta: DeltaCallback | None = None, deadline: float | None = None,
    ) -> ModelReply:
        """Return the next scripted reply, streaming its text in small pieces (a spent deadline fails)."""
        self.calls.append({"messages": json.loads(json.dumps(messages, default=str)), "tools": tools,
                           "deadline": deadline})
        if deadline is not None and time.monotonic() >= deadline:
            raise UpstreamUnavailable("大模型响应超时", "LLM time budget used up")
        if not self.script:
            raise UpstreamUnavailable("脚本已用完", "scripted model has no more replies")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        reply = step(messages) if callable(step) else step
        if on_delta is not None:
            for i in range(0, len(reply.text), 8):
                on_delta(reply.text[i:i + 8])
        return reply
