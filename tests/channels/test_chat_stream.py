"""``POST /v1/chat/stream`` (Server-Sent Events)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from tests.channels.fakes import FakeChat


def parse_sse(body: str) -> list[tuple[str, dict]]:
    """``event:``/``data:`` blocks → (event, data) pairs."""
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
def fake_chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def chat_client(settings: Settings, fake_chat: FakeChat) -> Iterator[TestClient]:
    services = Services(settings)
    services.chat = fake_chat  # type: ignore[misc]  # cached_property: the instance attribute wins
    with TestClient(create_app(settings, services)) as client:
        yield client


def test_stream_relays_deltas_then_the_turn(chat_client: TestClient) -> None:
    res = chat_client.post("/v1/chat/stream", json={"message": "车价20万首付三成分36期月供多少"})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(res.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "delta" and kinds[-2:] == ["turn", "done"]
    turn = events[-2][1]["turn"]
    streamed = "".join(data["text"] for kind, data in events if kind == "delta")
    assert streamed == turn["reply"]
    assert turn["offers"][0]["apr"] > 0 and turn["quote"]["schedule"][0]["period"] == 1


def test_stream_continues_a_session(chat_client: TestClient, fake_chat: FakeChat) -> None:
    first = parse_sse(chat_client.post("/v1/chat/stream", json={"message": "你好"}).text)
    sid = first[-2][1]["turn"]["session_id"]
    second = parse_sse(chat_client.post("/v1/chat/stream", json={"message": "转人工", "session_id": sid}).text)
    assert second[-2][1]["turn"]["session_id"] == sid and second[-2][1]["turn"]["handoff"] is True
    assert [c[1] for c in fake_chat.calls] == [sid, sid]


def test_bad_input_is_a_plain_json_error(chat_client: TestClient) -> None:
    res = chat_client.post("/v1/chat/stream", json={"message": "   "})
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "invalid_input"
    res = chat_client.post("/v1/chat/stream", json={"message": "你好", "session_id": "nope"})
    assert res.status_code == 404
    assert "会话" in res.json()["error"]["message"]
    res = chat_client.post("/v1/chat/stream", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400


def test_a_failure_mid_stream_is_an_error_event(chat_client: TestClient, fake_chat: FakeChat) -> None:
    def broken(*_args: object, **_kw: object) -> Iterator[dict]:
        yield {"type": "delta", "text": "好的"}
        raise RuntimeError("boom")

    fake_chat.stream = broken  # type: ignore[method-assign]
    events = parse_sse(chat_client.post("/v1/chat/stream", json={"message": "你好"}).text)
    assert [kind for kind, _ in events] == ["delta", "error", "done"]
    assert events[1][1]["error"]["code"] == "internal_error"


def test_customer_reads_only_their_own_session(chat_client: TestClient) -> None:
    turn = parse_sse(chat_client.post("/v1/chat/stream", json={"message": "你好"}).text)[-2][1]["turn"]
    res = chat_client.get(f"/v1/chat/{turn['session_id']}")
    assert res.status_code == 200
    assert res.json()["transcript"][0] == {"role": "customer", "text": "你好"}
    assert chat_client.get("/v1/chat/" + "0" * 32).status_code == 404


def test_stream_through_the_real_engine(client: TestClient) -> None:
    """The real ChatService behind the route (whatever its engine answers, the protocol holds)."""
    res = client.post("/v1/chat/stream", json={"message": "你好"})
    assert res.status_code == 200
    events = parse_sse(res.text)
    assert events[-1][0] == "done"
    turn = next(data["turn"] for kind, data in events if kind == "turn")
    assert turn["reply"] and turn["session_id"]
    assert client.get(f"/v1/chat/{turn['session_id']}").json()["transcript"][0]["role"] == "customer"


def test_the_history_returns_each_replys_structured_parts(client: TestClient) -> None:
    """What the page draws beside a reply (here the quote's schedule, and its citations if any) comes back
    from ``GET /v1/chat/{id}`` as it came with the turn, so a reload can draw it again."""
    events = parse_sse(client.post("/v1/chat/stream", json={"message": "车价20万首付三成分36期月供多少"}).text)
    turn = next(data["turn"] for kind, data in events if kind == "turn")
    assert turn["quote"] and len(turn["quote"]["schedule"]) == 36
    transcript = client.get(f"/v1/chat/{turn['session_id']}").json()["transcript"]
    assert transcript[0] == {"role": "customer", "text": "车价20万首付三成分36期月供多少"}
    reply = transcript[1]
    assert reply["role"] == "assistant" and reply["text"] == turn["reply"]
    expected = {k: turn[k] for k in ("offers", "quote", "citations", "documents", "handoff") if turn[k]}
    assert reply["parts"] == expected
