"""WeChat message XML: parsing what WeChat posts, building passive replies, splitting long texts."""

from __future__ import annotations

import codecs
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

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


# Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"),
)
# Without a mark, how "<" (or "<?") looks in each wide encoding (XML 1.0, appendix F).
_WIDE_STARTS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"),
)
_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]{0,39})[\"']",
                                re.IGNORECASE)
# Any markup declaration (<!DOCTYPE, <!ENTITY, <!ELEMENT, <!ATTLIST, <!NOTATION) once the CDATA sections
# and comments — where a customer's own text may hold "<!" — are taken out.
_CDATA_OR_COMMENT = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)
_MARKUP_DECLARATION = re.compile(r"<!")


def _malformed(zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, code="malformed_xml")


def decode_xml(raw: bytes) -> str:
    """The text of an XML body, decoded the way an XML parser would: byte-order mark, else the shape of
    the first characters (UTF-16/32 without a mark), else the prolog's ``encoding=``, else UTF-8."""
    encoding: str | None = None
    for bom, name in _BOMS:
        if raw.startswith(bom):
            encoding, raw = name, raw[len(bom):]
            break
    else:
        encoding = next((name for start, name in _WIDE_STARTS if raw.startswith(start)), None)
    if encoding is None:
        declared = _DECLARED_ENCODING.match(raw)
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        codecs.lookup(encoding)
        return raw.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise _malformed("XML编码无法识别或内容与编码不符", f"unreadable XML encoding ({encoding})") from exc


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The child elements of ``<xml>`` as a dict; InvalidInput (→ 400) for anything else.

    DTDs and entity declarations are refused outright in every encoding (no entity-expansion tricks on
    an endpoint open to the internet): the body is first decoded as an XML parser would decode it
    (so a UTF-16 or UTF-32 body, or one declaring another encoding, is checked as text, not as bytes),
    then parsed by defusedxml, which refuses a DTD at the parser itself as a second line.
    """
    text = body if isinstance(body, str) else decode_xml(body)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise _malformed("请求体为空", "empty body")
    if _MARKUP_DECLARATION.search(_CDATA_OR_COMMENT.sub("", text)):
        raise _malformed("不接受带DTD或实体声明的XML", "XML with a DTD or entity declarations is not accepted")
    # Already text: the declaration's encoding no longer applies (the parser would reject a mismatch).
    text = _DECLARATION.sub("", text, count=1)
    try:
        root = DefusedET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _malformed("不接受带DTD或实体声明的XML", "XML with a DTD or entities is not accepted") from exc
    except (ET.ParseError, ValueError) as exc:
        raise _malformed("XML格式错误", f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise _malformed("根元素应为 <xml>", "the root element must be <xml>")
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
