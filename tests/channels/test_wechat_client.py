"""The customer-service API client against a local fake of WeChat's API (127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant import metrics
from assistant.errors import ConfigurationError, UpstreamUnavailable
from assistant.wechat.client import CustomerServiceClient
from tests.channels.fake_wechat_api import FakeWeChatAPI, fake_wechat_api


@pytest.fixture
def api() -> Iterator[FakeWeChatAPI]:
    with fake_wechat_api() as fake:
        yield fake


def client_for(api: FakeWeChatAPI, **kw: object) -> CustomerServiceClient:
    waits: list[float] = []
    client = CustomerServiceClient(api.base_url, "wx-app", "app-secret", sleep=waits.append, **kw)  # type: ignore[arg-type]
    client.waits = waits  # type: ignore[attr-defined]
    return client


def test_sends_text_with_a_cached_token(api: FakeWeChatAPI) -> None:
    client = client_for(api)
    client.send_text("openid-1", "您好，月供4164.57元，年化利率4.50%")
    client.send_text("openid-1", "第二条")
    assert api.tokens_issued == 1
    assert [m["text"]["content"] for m in api.sent] == ["您好，月供4164.57元，年化利率4.50%", "第二条"]
    assert api.sent[0]["touser"] == "openid-1" and api.sent[0]["msgtype"] == "text"


def test_retries_server_errors_and_busy_with_backoff(api: FakeWeChatAPI) -> None:
    before = metrics.WECHAT_RETRIES._value.get()
    api.script = [(502, {}), (200, {"errcode": -1, "errmsg": "system busy"})]
    client = client_for(api, backoff_s=0.5)
    client.send_text("openid-1", "你好")
    assert len(api.sent) == 1
    assert client.waits == [0.5, 1.0]  # type: ignore[attr-defined]
    assert metrics.WECHAT_RETRIES._value.get() == before + 2


def test_an_expired_token_is_fetched_again_once(api: FakeWeChatAPI) -> None:
    client = client_for(api)
    client.send_text("openid-1", "一")
    api.script = [(200, {"errcode": 42001, "errmsg": "access_token expired"})]
    client.send_text("openid-1", "二")
    assert api.tokens_issued == 2
    assert [m["text"]["content"] for m in api.sent] == ["一", "二"]


def test_gives_up_after_max_attempts(api: FakeWeChatAPI) -> None:
    api.script = [(500, {})] * 3
    client = client_for(api, max_attempts=3)
    with pytest.raises(UpstreamUnavailable):
        client.send_text("openid-1", "你好")
    assert api.sent == []


def test_a_refused_message_is_an_error_not_a_retry_loop(api: FakeWeChatAPI) -> None:
    client = client_for(api)
    client.access_token()
    api.script = [(200, {"errcode": 45015, "errmsg": "response out of time limit"})]
    with pytest.raises(UpstreamUnavailable, match="45015"):
        client.send_text("openid-1", "你好")


def test_unreachable_endpoint_and_missing_credentials() -> None:
    client = CustomerServiceClient("http://127.0.0.1:9", "wx-app", "s", sleep=lambda _s: None, timeout_s=2)
    with pytest.raises(UpstreamUnavailable):
        client.send_text("o", "x")
    with pytest.raises(ConfigurationError):
        CustomerServiceClient("http://127.0.0.1:9", "wx-app", "")
