"""The narrow interface to a chat model, its LangChain/OpenAI-protocol implementation, and a scripted fake.

Anything that speaks the OpenAI chat-completions protocol works: DeepSeek, Qwen, vLLM, Ollama,
llama.cpp's server. Tests use :class:`ScriptedChatModel` or a local fake HTTP server; never a provider.
"""

from __future__ import annotations

import json
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
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        """Run the model once; stream text deltas to ``on_delta`` when given."""
        ...


class LangChainChatModel:
    """``langchain_openai.ChatOpenAI`` against ``LLM_BASE_URL`` / ``LLM_MODEL`` / ``LLM_API_KEY``."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float, max_retries: int) -> None:
        from langchain_openai import ChatOpenAI

        self._llm = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers (Ollama, llama.cpp) accept any key
            timeout=timeout_s,
            max_retries=max_retries,
            temperature=0.2,
            streaming=True,
            stream_usage=True,
        )

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        """Stream one completion; tool calls are assembled from the streamed chunks."""
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
        try:
            merged: Any = None
            for chunk in runnable.stream(converted):
                merged = chunk if merged is None else merged + chunk
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text and on_delta is not None:
                    on_delta(text)
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
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        """Return the next scripted reply, streaming its text in small pieces."""
        self.calls.append({"messages": json.loads(json.dumps(messages, default=str)), "tools": tools})
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
