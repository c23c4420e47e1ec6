"""WeChat message XML: parsing what WeChat posts, building passive replies, splitting long texts."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from assistant.errors import InvalidInput

# A text message (passive reply or customer-service message) holds at most 2048 bytes of UTF-8.
TEXT_LIMIT_BYTES = 2048
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


@dataclass(frozen=True)
class InboundMessage:
    """One message or event from WeChat (fields by their WeChat names, lower-cased)."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    content: str = ""
    msg_id: str | None = None
    event: str | None = None
    event_key: str | None = None
    recognition: str | None = None  # speech-to-text of a voice message, when the account enables it
    encrypt: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; sender + time + event for events (which carry no MsgId)."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.from_user}:{self.create_time}:{self.event or self.msg_type}"


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The child elements of ``<xml>`` as a dict; InvalidInput (→ 400) for anything else.

    DTDs are refused outright (no entity expansion tricks on an endpoint open to the internet).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise InvalidInput("请求体为空", "empty body", code="malformed_xml")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise InvalidInput("不接受带DTD的XML", "XML with a DTD is not accepted", code="malformed_xml")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise InvalidInput("XML格式错误", f"malformed XML: {exc}", code="malformed_xml") from exc
    if root.tag != "xml":
        raise InvalidInput("根元素应为 <xml>", "the root element must be <xml>", code="malformed_xml")
    return {child.tag: (child.text or "").strip() for child in root}


def to_message(fields: dict[str, str]) -> InboundMessage:
    """Interpret parsed fields as a message; InvalidInput when required fields are missing."""
    missing = [name for name in ("ToUserName", "FromUserName", "MsgType") if not fields.get(name)]
    if missing:
        raise InvalidInput(f"缺少字段 {', '.join(missing)}", f"missing field(s) {', '.join(missing)}",
                           code="malformed_xml")
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except ValueError as exc:
        raise InvalidInput("CreateTime 应为整数", "CreateTime must be an integer", code="malformed_xml") from exc
    return InboundMessage(
        to_user=fields["ToUserName"], from_user=fields["FromUserName"], create_time=create_time,
        msg_type=fields["MsgType"].lower(), content=fields.get("Content", ""), msg_id=fields.get("MsgId") or None,
        event=(fields.get("Event") or "").lower() or None, event_key=fields.get("EventKey") or None,
        recognition=fields.get("Recognition") or None, fields=fields,
    )


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """A passive text reply (``to_user`` is the customer's OpenID, ``from_user`` the account)."""
    return (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{_cdata(content)}</Content></xml>")


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes, at sentence ends where possible."""
    text = text.strip()
    if len(text.encode("utf-8")) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        if not sentence:
            continue
        if len((current + sentence).encode("utf-8")) <= limit:
            current += sentence
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(sentence.encode("utf-8")) > limit:  # one sentence over the limit: cut by characters
            cut = _fit(sentence, limit)
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        current = sentence
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def _fit(text: str, limit: int) -> int:
    """The longest prefix length (in characters) whose UTF-8 encoding fits in ``limit`` bytes."""
    size = 0
    for i, ch in enumerate(text):
        size += len(ch.encode("utf-8"))
        if size > limit:
            return max(i, 1)
    return len(text)
