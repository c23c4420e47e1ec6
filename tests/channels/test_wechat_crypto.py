"""Our WeChat crypto against the reference implementation (wechatpy), both directions, and the splitter."""

from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import PrpCrypto
from wechatpy.utils import check_signature as wechatpy_check_signature

from assistant.errors import ConfigurationError, Forbidden, InvalidInput
from assistant.wechat.crypto import MessageCrypto, signature
from assistant.wechat.messages import parse_xml, split_text, text_reply

AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
APP_ID = "wx1234567890abcdef"


@pytest.fixture
def ours() -> MessageCrypto:
    return MessageCrypto("tok", AES_KEY, APP_ID)


def reference() -> PrpCrypto:
    return PrpCrypto(base64.b64decode(AES_KEY + "="))


def test_signature_matches_wechatpy() -> None:
    wechatpy_check_signature("tok", signature("tok", "1700000000", "98765"), "1700000000", "98765")


@pytest.mark.parametrize("message", ["", "a", "<xml>你好</xml>", "x" * 12, "x" * 44, "汽车" * 1000])
def test_we_decrypt_what_wechatpy_encrypts_and_vice_versa(ours: MessageCrypto, message: str) -> None:
    # Lengths around the 32-byte padding boundary included (16 random + 4 length + msg + app id).
    assert ours.decrypt(reference().encrypt(message, APP_ID).decode()) == message
    assert reference().decrypt(ours.encrypt(message), APP_ID) == message


def test_a_message_for_another_app_or_a_tampered_one_is_refused(ours: MessageCrypto) -> None:
    with pytest.raises(Forbidden):
        ours.decrypt(reference().encrypt("<xml/>", "wx-other").decode())
    cipher = bytearray(base64.b64decode(ours.encrypt("<xml>hello</xml>")))
    cipher[-1] ^= 0x55  # corrupts the padding block
    with pytest.raises(Forbidden):
        ours.decrypt(base64.b64encode(bytes(cipher)).decode())
    with pytest.raises(InvalidInput):
        ours.decrypt("not base64 !!!")


def test_envelope_signature_is_checked(ours: MessageCrypto) -> None:
    envelope = parse_xml(ours.encrypt_envelope("<xml><A>1</A></xml>", "1700000000", "321"))
    assert ours.decrypt_envelope(envelope["Encrypt"], envelope["MsgSignature"], "1700000000", "321") == \
        "<xml><A>1</A></xml>"
    with pytest.raises(Forbidden):
        ours.decrypt_envelope(envelope["Encrypt"], envelope["MsgSignature"], "1700000001", "321")


def test_a_bad_encoding_aes_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        MessageCrypto("tok", "short", APP_ID)


def test_split_text_keeps_everything_within_the_byte_limit() -> None:
    text = "第一句话。" * 500 + "没有句号的超长段落" * 400
    pieces = split_text(text, limit=2048)
    assert "".join(pieces) == text
    assert all(len(p.encode("utf-8")) <= 2048 for p in pieces)
    assert split_text("短消息") == ["短消息"]
    assert split_text("   ") == []


def test_reply_xml_escapes_cdata_terminators() -> None:
    xml = text_reply("openid", "gh", "a]]>b<c>")
    assert parse_xml(xml)["Content"] == "a]]>b<c>"
