"""WeChat's retries of one message reaching another worker (two apps on one database, as two worker
processes or hosts are), on SQLite and PostgreSQL: the message is processed once, the retry gets the same
passive reply (or ``success`` while the turn is still running), and the shared table holds no OpenID,
MsgId or reply text in clear."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from assistant.storage.wechat_seen import WeChatSeenRow
from tests.channels.fake_wechat_api import FakeWeChatAPI, fake_wechat_api
from tests.channels.fakes import FakeChat
from tests.channels.test_wechat import AES_KEY, APP_ID, OPENID, TOKEN, reply_fields, signed, text_xml

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def wx_api() -> Iterator[FakeWeChatAPI]:
    with fake_wechat_api() as api:
        yield api


@pytest.fixture
def wx_settings(settings: Settings, wx_api: FakeWeChatAPI) -> Settings:
    return settings.model_copy(update={
        "wechat_token": TOKEN, "wechat_app_id": APP_ID, "wechat_app_secret": SecretStr("app-secret"),
        "wechat_encoding_aes_key": AES_KEY,
        "wechat_api_base": wx_api.base_url, "wechat_reply_timeout_s": 4.0})


class _Workers:
    """Two apps on the same DATA_DIR and database, each with its own scripted engine."""

    def __init__(self, settings: Settings, gate: threading.Event | None = None) -> None:
        self.chats = [FakeChat(reply_delay=gate), FakeChat(reply_delay=gate)]
        self.services: list[Services] = []
        self.apps: list[Any] = []
        self.clients: list[TestClient] = []
        for chat in self.chats:
            services = Services(settings)
            services.chat = chat  # type: ignore[misc]
            app = create_app(settings, services)  # no lifespan: the scripted engine reads no index
            self.services.append(services)
            self.apps.append(app)
            self.clients.append(TestClient(app))

    def post(self, worker: int, body: str, nonce: str) -> str:
        res = self.clients[worker].post("/wechat", params=signed(nonce=nonce), content=body)
        assert res.status_code == 200, res.text
        return res.text

    def close(self) -> None:
        for client, app in zip(self.clients, self.apps, strict=True):
            bridge = getattr(app.state, "wechat_bridge", None)
            if bridge is not None:
                bridge.wait_idle(timeout=30)
                bridge.close()
            client.close()


@pytest.fixture
def workers(wx_settings: Settings) -> Iterator[_Workers]:
    both = _Workers(wx_settings)
    yield both
    both.close()


def test_a_retry_that_reaches_the_other_worker_gets_the_same_reply(workers: _Workers) -> None:
    first = workers.post(0, text_xml("车价20万首付三成分36期", msg_id="880001"), nonce="1")
    again = workers.post(1, text_xml("车价20万首付三成分36期", msg_id="880001"), nonce="2")
    once_more = workers.post(1, text_xml("车价20万首付三成分36期", msg_id="880001"), nonce="3")
    assert len(workers.chats[0].calls) == 1 and workers.chats[1].calls == []
    assert reply_fields(again)["Content"] == reply_fields(once_more)["Content"] == reply_fields(first)["Content"]
    # A new message is new on either worker.
    workers.post(1, text_xml("分24期呢", msg_id="880002"), nonce="4")
    assert len(workers.chats[1].calls) == 1


def test_the_shared_table_holds_nothing_in_clear(workers: _Workers) -> None:
    reply = reply_fields(workers.post(0, text_xml("车价20万首付三成分36期", msg_id="880003"), nonce="1"))["Content"]
    with workers.services[0].sessions() as db:
        rows = db.scalars(select(WeChatSeenRow)).all()
    assert len(rows) == 1 and rows[0].mode == "passive"
    stored = " ".join(str(v) for v in vars(rows[0]).values())
    assert OPENID not in stored and "880003" not in stored and reply[:8] not in stored


def test_a_retry_on_the_other_worker_while_the_turn_runs_is_success(wx_settings: Settings,
                                                                    wx_api: FakeWeChatAPI) -> None:
    gate = threading.Event()
    both = _Workers(wx_settings.model_copy(update={"wechat_reply_timeout_s": 0.05}), gate=gate)
    try:
        assert both.post(0, text_xml("提前还款有违约金吗", msg_id="880004"), nonce="1") == "success"
        assert both.post(1, text_xml("提前还款有违约金吗", msg_id="880004"), nonce="2") == "success"
        gate.set()
        assert both.apps[0].state.wechat_bridge.wait_idle(timeout=30)
    finally:
        gate.set()
        both.close()
    assert len(both.chats[0].calls) == 1 and both.chats[1].calls == []
    assert [m["touser"] for m in wx_api.sent] == [OPENID]
