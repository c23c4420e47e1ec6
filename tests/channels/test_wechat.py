"""``/wechat``: handshake, signatures, plaintext and safe (AES) mode, retries, the 5-second window,
long replies, unsupported message types — through real HTTP requests shaped like WeChat's."""

from __future__ import annotations

import base64
import codecs
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wechatpy.crypto import WeChatCrypto

from assistant import metrics
from assistant.api.app import create_app
from assistant.services import Services
from assistant.settings import Settings
from assistant.wechat.bridge import WeChatBridge
from assistant.wechat.client import CustomerServiceClient
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
    # No lifespan: its warm-up builds the knowledge index, which the scripted engine never reads.
    client = TestClient(app)
    yield client
    client.close()
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
    client = TestClient(create_app(settings, Services(settings)))  # no lifespan: no index to build
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
    client, app = slow_app(wx_settings, chat)
    res = client.post("/wechat", params=signed(), content=text_xml("提前还款有违约金吗", msg_id="5001"))
    assert res.text == "success"
    # WeChat's retry while the turn is still running: no second turn, still "success".
    retry = client.post("/wechat", params=signed(nonce="42"), content=text_xml("提前还款有违约金吗", msg_id="5001"))
    assert retry.text == "success"
    gate.set()
    assert app.state.wechat_bridge.wait_idle(timeout=30)
    app.state.wechat_bridge.close()
    client.close()
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


# ---------------------------------------------------------------------------------------- DTDs in every encoding
def full_message(content: str, msg_id: str = "8001", prolog: str = "") -> str:
    return prolog + text_xml(content, msg_id=msg_id)


DTD_MESSAGE = ('<!DOCTYPE xml [<!ENTITY x "boom">]>' + text_xml("&x;", msg_id="8000")).replace(
    "<![CDATA[&x;]]>", "&x;")
BOMS = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}


def encoded(text: str, encoding: str, bom: bool) -> bytes:
    return (BOMS[encoding] if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("encoding", list(BOMS))
def test_a_dtd_is_refused_in_every_encoding(wx: TestClient, chat: FakeChat, encoding: str, bom: bool) -> None:
    res = wx.post("/wechat", params=signed(), content=encoded(DTD_MESSAGE, encoding, bom))
    assert res.status_code == 400, res.text
    assert res.json()["error"]["code"] == "malformed_xml"
    assert chat.calls == []


@pytest.mark.parametrize(("declared", "codec"), [
    ("UTF-16", "utf-16-le"), ("UTF-16", "utf-16-be"), ("ISO-8859-1", "latin-1"), ("GBK", "gbk"),
    ("UTF-7", "utf-7"), ("US-ASCII", "ascii"),
])
def test_a_dtd_is_refused_whatever_the_prolog_declares(wx: TestClient, chat: FakeChat, declared: str,
                                                       codec: str) -> None:
    body = f'<?xml version="1.0" encoding="{declared}"?>{DTD_MESSAGE}'.encode(codec)
    res = wx.post("/wechat", params=signed(), content=body)
    assert res.status_code == 400, res.text
    assert chat.calls == []


def test_a_dtd_inside_the_safe_mode_envelope_is_refused(wx: TestClient, chat: FakeChat) -> None:
    ts, nonce = str(int(time.time())), "7777"
    envelope = reference_crypto().encrypt_message(DTD_MESSAGE, nonce, ts)
    params = {**signed(nonce=nonce, timestamp=ts), "encrypt_type": "aes",
              "msg_signature": reply_fields(envelope)["MsgSignature"]}
    res = wx.post("/wechat", params=params, content=envelope)
    assert res.status_code == 400 and res.json()["error"]["code"] == "malformed_xml"
    assert chat.calls == []


@pytest.mark.parametrize(("body", "label"), [
    (encoded(full_message("月供多少", "8101"), "utf-16-le", True), "utf-16 with a mark"),
    (encoded(full_message("月供多少", "8102"), "utf-16-be", False), "utf-16-be without a mark"),
    (encoded(full_message("月供多少", "8103"), "utf-32-le", True), "utf-32"),
    (full_message("月供多少", "8104", '<?xml version="1.0" encoding="GBK"?>').encode("gbk"), "declared GBK"),
    (encoded(full_message("月供多少", "8105", '<?xml version="1.0" encoding="UTF-8"?>'), "utf-8", True),
     "utf-8 with a mark and a prolog"),
])
def test_a_plain_message_is_read_in_any_of_these_encodings(wx: TestClient, chat: FakeChat, body: bytes,
                                                            label: str) -> None:
    res = wx.post("/wechat", params=signed(), content=body)
    assert res.status_code == 200, (label, res.text)
    assert chat.calls[0][0] == "月供多少"


def test_a_customer_typing_markup_in_their_message_is_answered(wx: TestClient, chat: FakeChat) -> None:
    res = wx.post("/wechat", params=signed(), content=text_xml("<!DOCTYPE 是什么意思？<!-- -->", msg_id="8201"))
    assert res.status_code == 200
    assert chat.calls[0][0] == "<!DOCTYPE 是什么意思？<!-- -->"


def test_an_unknown_declared_encoding_is_a_400_not_a_500(wx: TestClient, chat: FakeChat) -> None:
    body = full_message("你好", "8301", '<?xml version="1.0" encoding="x-no-such-codec"?>').encode()
    res = wx.post("/wechat", params=signed(), content=body)
    assert res.status_code == 400 and res.json()["error"]["code"] == "malformed_xml"


# ---------------------------------------------------------------------------------------- never silently dropped
def slow_app(settings: Settings, chat: FakeChat, **overrides: object) -> tuple[TestClient, Any]:
    """An app whose replies miss a short passive window (the scripted engine waits for its gate)."""
    services = Services(settings.model_copy(update={"wechat_reply_timeout_s": 0.05, **overrides}))
    services.chat = chat  # type: ignore[misc]
    app = create_app(services.settings, services)
    return TestClient(app), app


def test_a_late_reply_whose_push_fails_goes_out_with_the_next_answer(wx_settings: Settings,
                                                                      wx_api: FakeWeChatAPI) -> None:
    gate = threading.Event()
    chat = FakeChat(reply_delay=gate)
    client, app = slow_app(wx_settings, chat)
    # WeChat refuses the customer-service message (45015: the 48-hour window has closed, say).
    wx_api.script = [(200, {"access_token": "token-x", "expires_in": 7200}),
                     (200, {"errcode": 45015, "errmsg": "response out of time limit"})]
    assert client.post("/wechat", params=signed(), content=text_xml("提前还款有违约金吗", msg_id="9001")).text == \
        "success"
    gate.set()
    bridge = app.state.wechat_bridge
    assert bridge.wait_idle(timeout=30)
    assert wx_api.sent == []
    follower = bridge.session_id_for(OPENID)
    assert bridge.outbox.pending(follower) == 1  # kept, not dropped
    # The customer writes again (now answered in time): the missed answer comes first, then the new one.
    res = client.post("/wechat", params=signed(nonce="2"), content=text_xml("你好", msg_id="9002"))
    content = reply_fields(res.text)["Content"]
    assert content.startswith("抱歉，之前给您的回复未能及时送达")
    assert "违约金" in content and content.index("违约金") < content.index("关于您刚才的消息")
    assert bridge.outbox.pending(follower) == 0
    # Given once: the message after that has no apology.
    again = client.post("/wechat", params=signed(nonce="3"), content=text_xml("你好", msg_id="9003"))
    assert "未能及时送达" not in reply_fields(again.text)["Content"]
    bridge.close()
    client.close()


def test_without_the_customer_service_api_a_late_reply_waits_for_the_next_message_on_any_worker(
        wx_settings: Settings) -> None:
    gate = threading.Event()
    first_chat = FakeChat(reply_delay=gate)
    worker_a, app_a = slow_app(wx_settings, first_chat, wechat_app_secret=None)
    assert worker_a.post("/wechat", params=signed(), content=text_xml("提前还款有违约金吗", msg_id="9101")).text \
        == "success"
    gate.set()
    assert app_a.state.wechat_bridge.wait_idle(timeout=30)
    # The next message reaches another worker on the same database.
    worker_b, app_b = slow_app(wx_settings, FakeChat(), wechat_app_secret=None)
    res = worker_b.post("/wechat", params=signed(nonce="5"), content=text_xml("你好", msg_id="9102"))
    content = reply_fields(res.text)["Content"]
    assert "未能及时送达" in content and "违约金" in content
    assert app_a.state.wechat_bridge.outbox.pending() == 0
    for app, client in ((app_a, worker_a), (app_b, worker_b)):
        app.state.wechat_bridge.close()
        client.close()


def test_the_unsent_rest_of_a_long_reply_is_kept_too(wx: TestClient, chat: FakeChat,
                                                      wx_api: FakeWeChatAPI) -> None:
    sentence = "提前还款需提前三十天向贷款机构提出申请，违约金按合同约定收取，具体以合同条款为准。"
    chat.long_reply = sentence * 60  # four messages' worth: one passive, three by the API
    # A bridge whose API client does not wait between its retries (the test never sleeps).
    bridge = wx.app.state.wechat_bridge = WeChatBridge(
        wx.app.state.services, client=CustomerServiceClient(wx_api.base_url, APP_ID, "app-secret",
                                                            sleep=lambda _s: None))
    wx_api.script = [(503, {})] * 3  # the token endpoint is down for all three attempts
    res = wx.post("/wechat", params=signed(), content=text_xml("提前还款怎么办理", msg_id="9201"))
    first = reply_fields(res.text)["Content"]
    assert bridge.wait_idle(timeout=30)
    assert wx_api.sent == [] and bridge.outbox.pending() == 1
    chat.long_reply = None
    res = wx.post("/wechat", params=signed(nonce="8"), content=text_xml("你好", msg_id="9202"))
    assert bridge.wait_idle(timeout=30)
    # The API is back: the kept rest and the new answer arrive, passive first, then by the API.
    delivered = (reply_fields(res.text)["Content"] + "".join(m["text"]["content"] for m in wx_api.sent))
    kept = delivered.replace("\n", "").split("补发如下：", 1)[1].split("关于您刚才的消息：", 1)[0]
    assert first + kept == sentence * 60
    assert bridge.outbox.pending() == 0
