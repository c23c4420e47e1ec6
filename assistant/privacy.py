"""Personal-data detection and masking (ID numbers, phone numbers, bank cards, names, addresses).

Pure text functions: used by the log pipeline (irreversible masking) and by the LLM engine
(reversible placeholders, restored only inside local tool calls).

Names are found where the text says so (我叫 / 姓名 / my name is) and, without a cue, by jieba's
part-of-speech tagger (a person name, ``nr``, that starts with a common surname), which ships its
dictionary inside the package. Addresses are found by their shape (a road or estate followed by a
house number, building, unit, room). Nothing is masked inside an identifier: a uuid or a long hex id
may hold an 11-digit run that is not a phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.segmenter import pos_tagger

# 18-digit resident ID (last char may be X), mainland mobile numbers, 16–19 digit bank cards.
ID_NUMBER = re.compile(r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
BANK_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
# "我叫张三" / "姓名：李四" / "my name is ..." — names where the text says it is a name.
NAME_ZH = re.compile(r"(?:我叫|我是|姓名[:：]?\s*|本人|联系人[:：]?\s*|户主[:：]?\s*)"
                     r"([\u4e00-\u9fa5]{2,4})(?=[，,。.\s]|$)")
NAME_EN = re.compile(r"(?:[Mm]y name is|[Nn]ame\s*[:：]|\bI am|\bI'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
# Words that follow "I am" / "I'm" without being a name.
_NOT_EN_NAMES = frozenset({
    "Interested", "Looking", "Planning", "Not", "From", "Here", "Calling", "Trying", "Going", "A", "An", "The",
    "Sorry", "Fine", "Good", "Ok", "Okay", "Self", "Employed", "Retired", "Married", "Single", "Thinking", "Just",
    "Still", "Also", "Currently", "Buying", "Asking", "Wondering", "Happy", "Ready", "Able", "Unable", "New",
})
# A road or estate name (not crossing a city/district unit or a verb before it), then its numbers.
_PLACE_CHAR = r"(?:(?![省市区县镇乡在住于到是的])[\u4e00-\u9fa5])"
_ADDRESS_ZH = re.compile(
    rf"{_PLACE_CHAR}{{1,6}}(?:路|街|大道|巷|弄|胡同)\s*\d+\s*号"
    r"(?:\s*[\d-]+\s*(?:号楼|栋|幢|楼|单元|室|层|号))*(?:\s*\d{3,4}(?!\d))?"
    rf"|{_PLACE_CHAR}{{1,8}}(?:小区|花园|公寓|大厦|家园|新村|苑)\s*\d+\s*(?:号楼|栋|幢|号|期)"
    r"(?:\s*[\d-]+\s*(?:号楼|栋|幢|楼|单元|室|层|号))*(?:\s*\d{3,4}(?!\d))?"
)
_ADDRESS_EN = re.compile(
    r"\b(?:No\.\s*)?\d+[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd|"
    r"Lu|Jie|Dajie|Hutong)\b\.?"
)
# Where masking must not reach: uuids and long hex ids (document and session ids).
_IDENTIFIER = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?<![0-9A-Za-z])[0-9a-fA-F]{16,}(?![0-9A-Za-z])"
)

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ID", ID_NUMBER),
    ("PHONE", PHONE),
    ("CARD", BANK_CARD),
)

# The hundred commonest surnames (and the compound ones): a tagged name must start with one.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙")
_TITLES = ("先生", "女士", "小姐", "经理", "老师", "师傅", "主管", "总", "老板", "阿姨", "叔叔", "同学", "律师", "医生")
_PLACE_ENDINGS = tuple("庄村镇市县区省州山河湖江港岛湾口桥堡屯")
def _identifier_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _IDENTIFIER.finditer(text):
        if m.group(0).count("-") == 4 or sum(c.isalpha() for c in m.group(0)) >= 2:
            spans.append(m.span())
    return spans


def _outside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(start < b and a < end for a, b in spans)


def _digit_matches(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of ID numbers, phones and cards, outside identifiers, first kind wins."""
    protected = _identifier_spans(text)
    found: list[tuple[str, int, int]] = []
    for kind, pattern in _KINDS:
        for m in pattern.finditer(text):
            if _outside(protected, *m.span()) and _outside([(a, b) for _, a, b in found], *m.span()):
                found.append((kind, m.start(), m.end()))
    return sorted(found, key=lambda f: f[1])


def find_names(text: str) -> list[str]:
    """Person names in ``text``: introduced ones (我叫…, my name is …) and, in Chinese, tagged ones."""
    names = [m.group(1) for m in NAME_ZH.finditer(text)]
    names += [m.group(1) for m in NAME_EN.finditer(text) if m.group(1).split()[0] not in _NOT_EN_NAMES]
    if any(ch in _SURNAMES for ch in text) or any(c in text for c in _COMPOUND_SURNAMES):
        for token in pos_tagger().cut(text):
            word = token.word
            if token.flag != "nr" or not 2 <= len(word) <= 4 or word.endswith(_TITLES + _PLACE_ENDINGS):
                continue
            if word[0] in _SURNAMES or word.startswith(_COMPOUND_SURNAMES):
                names.append(word)
    # Longest first, so "欧阳娜娜" is replaced before a shorter overlap.
    return sorted(set(names), key=len, reverse=True)


def find_addresses(text: str) -> list[str]:
    """Street addresses in ``text`` (road + house number, estate + building), Chinese or English."""
    return [m.group(0) for pattern in (_ADDRESS_ZH, _ADDRESS_EN) for m in pattern.finditer(text)]


def _mask_digits(value: str) -> str:
    digits = re.sub(r"[^\dXx]", "", value)  # an ID number may end in X
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if not name.isascii() else name[0] + "***"


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, John -> J*** (what screens and logs may show of a name)."""
    return _mask_name(name) if name else name


def mask_pii(text: str) -> str:
    """Irreversibly mask personal data for logs and stored text: 110101199003071234 → 110***********1234.

    Names keep their first character (张**), addresses become ``[地址]``; identifiers (uuids, hex ids)
    are left alone.
    """
    for _kind, start, end in reversed(_digit_matches(text)):
        text = text[:start] + _mask_digits(text[start:end]) + text[end:]
    for address in find_addresses(text):
        text = text.replace(address, "[地址]")
    for name in find_names(text):
        text = text.replace(name, _mask_name(name))
    return text


def contains_pii(text: str) -> bool:
    """True when the text holds an ID number, phone number or bank card (outside identifiers)."""
    return bool(_digit_matches(text))


@dataclass
class PiiVault:
    """Reversible masking: personal data becomes ``<ID_1>``-style placeholders before text leaves
    for an external model, and is restored only inside local tool calls."""

    forward: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    reverse: dict[str, str] = field(default_factory=dict)  # original -> placeholder

    def _placeholder(self, kind: str, original: str) -> str:
        if original in self.reverse:
            return self.reverse[original]
        count = sum(1 for key in self.forward if key.startswith(f"<{kind}_")) + 1
        token = f"<{kind}_{count}>"
        self.forward[token] = original
        self.reverse[original] = token
        return token

    def mask(self, text: str) -> str:
        """Replace personal data with stable placeholders."""
        for kind, start, end in reversed(_digit_matches(text)):
            text = text[:start] + self._placeholder(kind, text[start:end]) + text[end:]
        for address in find_addresses(text):
            text = text.replace(address, self._placeholder("ADDRESS", address))
        for name in find_names(text):
            text = text.replace(name, self._placeholder("NAME", name))
        return text

    def unmask(self, text: str) -> str:
        """Restore placeholders to the original values (local use only)."""
        for token, original in self.forward.items():
            text = text.replace(token, original)
        return text

    def reveal(self, text: str) -> str:
        """Model text made fit to show: a placeholder the model echoes becomes the masked value
        (``<ID_1>`` → 110***********1234), never the real ID, phone or card; a name is restored."""
        for token, original in self.forward.items():
            shown = original if token.startswith(("<NAME_", "<ADDRESS_")) else _mask_digits(original)
            text = text.replace(token, shown)
        return text

    def unmask_obj(self, value: object) -> object:
        """Restore placeholders inside nested tool arguments."""
        if isinstance(value, str):
            return self.unmask(value)
        if isinstance(value, dict):
            return {k: self.unmask_obj(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.unmask_obj(v) for v in value]
        return value
