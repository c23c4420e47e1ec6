"""``/wechat``: handshake, signatures, plaintext and safe (AES) mode, retries, the 5-second window,
long replies, unsupported message types — through real HTTP requests shaped like WeChat's."""

from __future__ import annotations

import base64
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from wechatpy.crypto import WeChatCrypto

from assistant import metrics
from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from assistant.wechat.crypto import signature
from assistant.wechat.messages import TEXT_LIMIT_BYTES
from tests.channels.fake_wechat_api import FakeWeChatAPI, fake_wechat_api
from tests.channels.fakes import FakeChat

TOKEN = "wechat-token"
APP_ID = "wx-app"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OPENID = "oCustomerOpenId123"


@pytest.fixture
def wx_api() -> Iterator[FakeWeChatAPI]:
    with fake_wechat_api() as api:
        yield api


@pytest.fixture
def wx_settings(tmp_path: Path, wx_api: FakeWeChatAPI) -> Settings:
    return Settings(data_dir=tmp_path / "data", wechat_token=TOKEN, wechat_app_id=APP_ID,  # type: ignore[call-arg]
                    wechat_app_secret="app-secret", wechat_encoding_aes_key=AES_KEY,
                    wechat_api_base=wx_api.base_url, wechat_reply_timeout_s=4.0, _env_file=None)


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def wx(wx_settings: Settings, chat: FakeChat) -> Iterator[TestClient]:
    services = Services(wx_settings)
    services.chat = chat  # type: ignore[misc]
    app = create_app(wx_settings, services)
    with TestClient(app) as client:
        yield client
    bridge = getattr(app.state, "wechat_bridge", None)
    if bridge is not None:
        bridge.close()


def signed(nonce: str = "1234567", timestamp: str | None = None, **extra: str) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    return {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


def text_xml(content: str, msg_id: str = "1000001", openid: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def reply_fields(body: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(body)}


# ---------------------------------------------------------------------------------------- handshake
def test_handshake_echoes_echostr_with_a_good_signature(wx: TestClient) -> None:
    res = wx.get("/wechat", params=signed(echostr="8413218409834"))
    assert res.status_code == 200 and res.text == "8413218409834"


def test_handshake_with_a_wrong_signature_is_403(wx: TestClient) -> None:
    params = signed(echostr="x")
    params["signature"] = "0" * 40
    res = wx.get("/wechat", params=params)
    assert res.status_code == 403
    assert "签名" in res.json()["error"]["message"]
    assert wx.get("/wechat", params={"echostr": "x"}).status_code == 403


def test_not_configured_is_404(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, Services(settings))) as client:
        assert client.get("/wechat", params=signed(echostr="1")).status_code == 404


# ---------------------------------------------------------------------------------------- plaintext mode
def test_text_message_gets_a_passive_reply(wx: TestClient, chat: FakeChat) -> None:
    res = wx.post("/wechat", params=signed(openid=OPENID), content=text_xml("车价20万首付三成分36期月供多少"))
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/xml")
    fields = reply_fields(res.text)
    assert fields["ToUserName"] == OPENID and fields["FromUserName"] == "gh_account"
    assert fields["MsgType"] == "text"
    assert "月供" in fields["Content"] and "年化利率" in fields["Content"]
    assert "参考：年化利率说明" in fields["Content"]
    # The session belongs to this follower: the second message continues it.
    wx.post("/wechat", params=signed(), content=text_xml("你好", msg_id="1000002"))
    assert chat.calls[0][1] == chat.calls[1][1] and chat.calls[0][2] == "wechat"
    assert OPENID not in chat.calls[0][1]


def test_wrong_signature_is_403_and_nothing_is_processed(wx: TestClient, chat: FakeChat) -> None:
    params = signed()
    params["signature"] = signature("another-token", params["timestamp"], params["nonce"])
    res = wx.post("/wechat", params=params, content=text_xml("你好"))
    assert res.status_code == 403
    stale = signed(timestamp=str(int(time.time()) - 3600))
    assert wx.post("/wechat", params=stale, content=text_xml("你好")).status_code == 403
    assert chat.calls == []


@pytest.mark.parametrize("body", [
    "<xml><ToUserName>unclosed</xml>",
    "not xml at all",
    "",
    "<html><body>hi</body></html>",
    "<xml><Content>no sender</Content></xml>",
    '<!DOCTYPE xml [<!ENTITY x "boom">]><xml><ToUserName>&x;</ToUserName></xml>',
])
def test_malformed_xml_is_400(wx: TestClient, chat: FakeChat, body: str) -> None:
    res = wx.post("/wechat", params=signed(), content=body)
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "malformed_xml"
    assert chat.calls == []


def test_a_retried_msgid_is_not_processed_twice(wx: TestClient, chat: FakeChat) -> None:
    before = metrics.WECHAT_RETRIES._value.get()
    first = wx.post("/wechat", params=signed(), content=text_xml("你好", msg_id="777"))
    again = wx.post("/wechat", params=signed(nonce="999"), content=text_xml("你好", msg_id="777"))
    assert len(chat.calls) == 1
    assert reply_fields(again.text)["Content"] == reply_fields(first.text)["Content"]
    assert metrics.WECHAT_RETRIES._value.get() == before + 1


@pytest.mark.parametrize(("extra", "expect"), [
    ("<MsgType><![CDATA[image]]></MsgType><PicUrl>http://x/1.jpg</PicUrl><MsgId>2001</MsgId>", "只能阅读文字"),
    ("<MsgType><![CDATA[voice]]></MsgType><MediaId>m</MediaId><Format>amr</Format><MsgId>2002</MsgId>",
     "只能阅读文字"),
    ("<MsgType><![CDATA[location]]></MsgType><Location_X>23.1</Location_X><MsgId>2003</MsgId>", "只能阅读文字"),
    ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>", "欢迎关注"),
    ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey>k</EventKey>", "只能阅读文字"),
])
def test_other_message_types_get_a_polite_text(wx: TestClient, chat: FakeChat, extra: str, expect: str) -> None:
    body = (f"<xml><ToUserName>gh_account</ToUserName><FromUserName>{OPENID}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>{extra}</xml>")
    res = wx.post("/wechat", params=signed(), content=body)
    assert res.status_code == 200
    assert expect in reply_fields(res.text)["Content"]
    assert chat.calls == []


def test_unsubscribe_gets_success_and_voice_recognition_is_read_as_text(wx: TestClient, chat: FakeChat) -> None:
    body = (f"<xml><ToUserName>gh</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>event</MsgType><Event>unsubscribe</Event></xml>")
    assert wx.post("/wechat", params=signed(), content=body).text == "success"
    voice = (f"<xml><ToUserName>gh</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>2</CreateTime>"
             "<MsgType>voice</MsgType><MediaId>m</MediaId><Recognition>转人工</Recognition><MsgId>3001</MsgId></xml>")
    assert "人工" in reply_fields(wx.post("/wechat", params=signed(), content=voice).text)["Content"]
    assert chat.calls[0][0] == "转人工"


# ---------------------------------------------------------------------------------------- safe (AES) mode
def reference_crypto() -> WeChatCrypto:
    return WeChatCrypto(TOKEN, AES_KEY, APP_ID)


def test_safe_mode_round_trip_against_wechatpy(wx: TestClient, chat: FakeChat) -> None:
    ref = reference_crypto()
    ts, nonce = str(int(time.time())), "5555"
    envelope = ref.encrypt_message(text_xml("车价20万首付三成分36期月供多少", msg_id="4001"), nonce, ts)
    env = reply_fields(envelope)
    params = {**signed(nonce=nonce, timestamp=ts), "encrypt_type": "aes", "msg_signature": env["MsgSignature"],
              "openid": OPENID}
    res = wx.post("/wechat", params=params, content=envelope)
    assert res.status_code == 200
    reply = reply_fields(res.text)
    assert set(reply) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"} and reply["Nonce"] == nonce
    plain = ref.decrypt_message(res.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    assert "年化利率" in reply_fields(plain)["Content"]
    assert chat.calls[0][0] == "车价20万首付三成分36期月供多少"


def test_safe_mode_with_a_wrong_msg_signature_or_app_is_403(wx: TestClient, chat: FakeChat) -> None:
    ts, nonce = str(int(time.time())), "6666"
    envelope = reference_crypto().encrypt_message(text_xml("你好", msg_id="4002"), nonce, ts)
    params = {**signed(nonce=nonce, timestamp=ts), "encrypt_type": "aes", "msg_signature": "f" * 40}
    assert wx.post("/wechat", params=params, content=envelope).status_code == 403
    other_app = WeChatCrypto(TOKEN, AES_KEY, "wx-someone-else").encrypt_message(text_xml("你好"), nonce, ts)
    params["msg_signature"] = reply_fields(other_app)["MsgSignature"]
    res = wx.post("/wechat", params=params, content=other_app)
    assert res.status_code == 403 and res.json()["error"]["code"] == "bad_app_id"
    assert chat.calls == []


# ---------------------------------------------------------------------------------------- 5-second window
def test_a_slow_turn_answers_success_then_arrives_by_the_customer_service_api(
        wx_settings: Settings, wx_api: FakeWeChatAPI) -> None:
    gate = threading.Event()
    chat = FakeChat(reply_delay=gate)
    services = Services(wx_settings.model_copy(update={"wechat_reply_timeout_s": 0.05}))
    services.chat = chat  # type: ignore[misc]
    app = create_app(services.settings, services)
    with TestClient(app) as client:
        res = client.post("/wechat", params=signed(), content=text_xml("提前还款有违约金吗", msg_id="5001"))
        assert res.text == "success"
        # WeChat's retry while the turn is still running: no second turn, still "success".
        retry = client.post("/wechat", params=signed(nonce="42"), content=text_xml("提前还款有违约金吗", msg_id="5001"))
        assert retry.text == "success"
        gate.set()
        assert app.state.wechat_bridge.wait_idle(timeout=30)
    app.state.wechat_bridge.close()
    assert len(chat.calls) == 1
    assert wx_api.sent == [{"touser": OPENID, "msgtype": "text",
                            "text": {"content": wx_api.sent[0]["text"]["content"]}}]
    assert "违约金" in wx_api.sent[0]["text"]["content"]


def test_a_long_reply_is_split_passive_first_then_the_rest(wx: TestClient, chat: FakeChat,
                                                            wx_api: FakeWeChatAPI) -> None:
    sentence = "提前还款需提前三十天向贷款机构提出申请，违约金按合同约定收取，具体以合同条款为准。"
    chat.long_reply = sentence * 60  # ≈ 7,500 bytes
    res = wx.post("/wechat", params=signed(), content=text_xml("提前还款怎么办理", msg_id="6001"))
    first = reply_fields(res.text)["Content"]
    assert len(first.encode("utf-8")) <= TEXT_LIMIT_BYTES
    assert wx.app.state.wechat_bridge.wait_idle(timeout=30)
    rest = [m["text"]["content"] for m in wx_api.sent]
    assert rest and all(len(p.encode("utf-8")) <= TEXT_LIMIT_BYTES for p in rest)
    assert first + "".join(rest) == chat.long_reply
    assert all(p.endswith("。") for p in [first, *rest])  # cut at sentence ends


def test_the_real_chat_service_answers_on_wechat(wx_settings: Settings) -> None:
    services = Services(wx_settings)
    app = create_app(wx_settings, services)
    with TestClient(app) as client:
        res = client.post("/wechat", params=signed(), content=text_xml("你好", msg_id="7001"))
        assert res.status_code == 200
        assert reply_fields(res.text)["Content"]
        sid = app.state.wechat_bridge.session_id_for(OPENID)
        assert services.chat.transcript(sid)[0] == {"role": "customer", "text": "你好"}
    app.state.wechat_bridge.close()
