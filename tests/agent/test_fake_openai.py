"""The fake OpenAI server speaks the wire protocol the real ``openai`` client expects."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import openai
import pytest

from assistant.testing import FakeOpenAIServer, FakeReply, FakeToolCall, approx_tokens, unused_base_url

TOOLS = [{"type": "function", "function": {"name": "quote_loan", "description": "Price a loan",
                                           "parameters": {"type": "object", "properties": {}}}}]
MESSAGES = [{"role": "system", "content": "你是助手"}, {"role": "user", "content": "贷10万分36期月供多少"}]


def client_for(server: FakeOpenAIServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=timeout)


def answer(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Any:
    if tools:
        return FakeReply(text="我来算一下。", tool_calls=[
            FakeToolCall("quote_loan", {"principal": 100000, "term_months": 36, "note": "十万"}, id="call_a"),
            FakeToolCall("quote_loan", {"principal": 50000, "term_months": 12}),
        ])
    return "月供约2952.40元，年化利率（APR）4.00%。"


def test_non_streaming_text_and_usage():
    with FakeOpenAIServer(answer) as server:
        response = client_for(server).chat.completions.create(model="fake", messages=MESSAGES)
    choice = response.choices[0]
    assert choice.message.content == "月供约2952.40元，年化利率（APR）4.00%。"
    assert choice.finish_reason == "stop"
    assert response.usage.prompt_tokens == approx_tokens(MESSAGES) == server.requests[0].prompt_tokens
    assert response.usage.prompt_tokens == math.ceil(len("你是助手贷10万分36期月供多少") / 1.5)
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_non_streaming_tool_calls():
    with FakeOpenAIServer(answer) as server:
        response = client_for(server).chat.completions.create(model="fake", messages=MESSAGES, tools=TOOLS)
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in message.tool_calls] == ["quote_loan", "quote_loan"]
    assert message.tool_calls[0].id == "call_a" and message.tool_calls[1].id
    assert json.loads(message.tool_calls[0].function.arguments) == {"principal": 100000, "term_months": 36,
                                                                     "note": "十万"}
    # Tool schemas count towards the prompt, as with real providers.
    assert server.requests[0].prompt_tokens == approx_tokens(MESSAGES, TOOLS) > approx_tokens(MESSAGES)


def test_streaming_text_in_pieces_with_a_usage_chunk():
    with FakeOpenAIServer(answer, chunk_chars=3) as server:
        stream = client_for(server).chat.completions.create(
            model="fake", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "月供约2952.40元，年化利率（APR）4.00%。"
    assert all(len(p) <= 3 for p in pieces) and len(pieces) > 5
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == approx_tokens(MESSAGES)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_streaming_without_usage_sends_no_usage_chunk():
    with FakeOpenAIServer(answer) as server:
        chunks = list(client_for(server).chat.completions.create(model="fake", messages=MESSAGES, stream=True))
    assert all(c.choices for c in chunks)


def test_streaming_tool_call_deltas_reassemble():
    with FakeOpenAIServer(answer, chunk_chars=2) as server:
        chunks = list(client_for(server).chat.completions.create(model="fake", messages=MESSAGES, tools=TOOLS,
                                                                 stream=True))
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += delta.id or ""
            entry["name"] += (delta.function.name or "") if delta.function else ""
            entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] == "call_a" and calls[0]["name"] == "quote_loan"
    assert json.loads(calls[0]["arguments"])["note"] == "十万"
    assert json.loads(calls[1]["arguments"]) == {"principal": 50000, "term_months": 12}
    argument_pieces = [d for c in chunks for d in (c.choices[0].delta.tool_calls or []) if d.id is None]
    assert len(argument_pieces) > 4  # arguments arrive in several pieces, as from real servers
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_every_request_is_recorded():
    with FakeOpenAIServer(answer) as server:
        client_for(server).chat.completions.create(model="fake", messages=MESSAGES, tools=TOOLS)
        client_for(server).chat.completions.create(model="fake", messages=MESSAGES, stream=True).close()
    first, second = server.completions
    assert first.messages == MESSAGES and first.tools == TOOLS and not first.stream
    assert second.stream and second.tools is None
    assert "贷10万分36期月供多少" in server.all_text()
    assert first.headers["authorization"] == "Bearer k"
    assert len(server.replies) == 2


@pytest.mark.parametrize("mode,error", [
    ("http_500", openai.InternalServerError),
    ("garbage", Exception),
    ("hang", openai.APITimeoutError),
])
def test_failure_modes(mode, error):
    with FakeOpenAIServer(answer) as server:
        server.fail(mode, times=1)
        with pytest.raises(error):
            client_for(server, timeout=0.3).chat.completions.create(model="fake", messages=MESSAGES)
        # `times=1`: the next request is served normally again.
        response = client_for(server).chat.completions.create(model="fake", messages=MESSAGES)
        assert response.choices[0].message.content
        assert [r.mode for r in server.completions] == [mode, "ok"]


def test_garbage_stream_is_not_the_protocol():
    with FakeOpenAIServer(answer) as server:
        server.fail("garbage")
        with pytest.raises(Exception):  # noqa: B017 - any client-side parse failure will do
            list(client_for(server).chat.completions.create(model="fake", messages=MESSAGES, stream=True))


def test_stall_sends_a_first_piece_then_nothing():
    with FakeOpenAIServer(answer, chunk_chars=4) as server:
        server.fail("stall")
        stream = client_for(server, timeout=0.3).chat.completions.create(model="fake", messages=MESSAGES,
                                                                          stream=True)
        received = []
        with pytest.raises(openai.APITimeoutError):
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    received.append(chunk.choices[0].delta.content)
    assert received == ["月供约2"]


def test_a_broken_policy_is_a_500_and_kept_for_the_test():
    def broken(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Any:
        raise ValueError("policy bug")

    with FakeOpenAIServer(broken) as server, pytest.raises(openai.InternalServerError):
        client_for(server).chat.completions.create(model="fake", messages=MESSAGES)
    assert isinstance(server.errors[0], ValueError)


def test_models_list_and_unknown_paths():
    with FakeOpenAIServer() as server:
        assert [m.id for m in client_for(server).models.list()] == ["fake"]
        response = httpx.post(server.base_url + "/embeddings", json={"input": "x"})
    assert response.status_code == 404 and response.json()["error"]


def test_an_unused_base_url_refuses_connections():
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=unused_base_url(), api_key="k", max_retries=0, timeout=2).chat.completions.create(
            model="fake", messages=MESSAGES)
