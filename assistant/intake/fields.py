"""From OCR lines to the fields of a card (no I/O: text in, fields out).

The OCR engine returns text boxes in no useful order, a label and its value sometimes in one box
(``性别女``), sometimes in two, and a long address over several boxes. So the boxes are first put in
reading order (rows by vertical position, left to right within a row), concatenated, and split at the
card's printed labels: a field's value is the text between its label and the next label. Values are then
normalised (dates to ISO, OCR look-alikes in numbers fixed) and the ID number's check character validated
with :func:`assistant.documents.application.id_number_valid`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from assistant.documents.application import id_number_valid
from assistant.intake.kinds import DocumentKind

# The specimen mark of generated cards and the headings of real ones carry no field.
_IGNORED = re.compile(r"样本|SPECIMEN|^中华人民共和国|^居民身份证$", re.IGNORECASE)
_SEP = "\n"

LABELS: dict[DocumentKind, dict[str, str]] = {
    DocumentKind.ID_CARD_FRONT: {"姓名": "name", "性别": "sex", "民族": "ethnicity", "出生": "birth_date",
                                 "住址": "address", "公民身份号码": "id_number"},
    DocumentKind.ID_CARD_BACK: {"签发机关": "issuer", "有效期限": "validity", "有效期": "validity"},
    DocumentKind.DRIVING_LICENCE: {"证号": "licence_number", "姓名": "name", "性别": "sex", "国籍": "nationality",
                                   "住址": "address", "出生日期": "birth_date", "初次领证日期": "first_issued",
                                   "准驾车型": "vehicle_class", "有效期限": "validity", "有效期": "validity",
                                   "有效起始日期": "valid_from"},
}
# The fields each kind must yield (what the cross-check and the figure use).
REQUIRED: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.ID_CARD_FRONT: ("name", "sex", "ethnicity", "birth_date", "address", "id_number"),
    DocumentKind.ID_CARD_BACK: ("issuer", "valid_from", "valid_to"),
    DocumentKind.DRIVING_LICENCE: ("name", "licence_number", "vehicle_class", "valid_from", "valid_to"),
}
NO_END = "长期"
LEAD = "_lead"  # the text before the first label found
# When a label itself was not detected, the value printed before every other label is still the field.
_LEAD_FIELD: dict[DocumentKind, str] = {DocumentKind.ID_CARD_FRONT: "name"}


class OcrLine(BaseModel):
    """One text box from the engine: its text, confidence (0–1) and corner points."""

    text: str
    confidence: float
    box: list[tuple[float, float]] = Field(min_length=4, max_length=4)


class ReadFields(BaseModel):
    """What was read from one card: normalised fields, each field's confidence, what could not be read."""

    kind: DocumentKind
    fields: dict[str, str] = Field(default_factory=dict)
    confidence: dict[str, float] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    id_checksum_ok: bool | None = None  # None: the card has no ID number, or it was not read


def _skew(lines: Sequence[OcrLine]) -> float:
    """The photo's rotation (radians): the median slope of the top edge of the wider boxes."""
    slopes = sorted(math.atan2(ln.box[1][1] - ln.box[0][1], ln.box[1][0] - ln.box[0][0]) for ln in lines
                    if ln.box[1][0] - ln.box[0][0] > 2 * abs(ln.box[3][1] - ln.box[0][1]))
    return slopes[len(slopes) // 2] if slopes else 0.0


def reading_order(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Rows top to bottom (boxes whose vertical centres overlap a row's band), left to right in a row.

    Centres are first turned back by the photo's skew: a card photographed 4° off would otherwise put a
    value at the right of its label a row above it."""
    angle = _skew(lines)
    cos, sin = math.cos(-angle), math.sin(-angle)

    def centre(line: OcrLine) -> tuple[float, float, float]:
        x = sum(p[0] for p in line.box) / 4
        y = sum(p[1] for p in line.box) / 4
        height = math.dist(line.box[0], line.box[3])
        return x * cos - y * sin, x * sin + y * cos, height

    rows: list[tuple[float, float, list[OcrLine]]] = []  # (centre y, height, lines)
    for line in sorted(lines, key=lambda ln: centre(ln)[1]):
        _, y, height = centre(line)
        for i, (row_y, row_h, members) in enumerate(rows):
            if abs(y - row_y) < 0.5 * max(min(height, row_h), 1.0):
                members.append(line)
                rows[i] = (row_y, row_h, members)
                break
        else:
            rows.append((y, height, [line]))
    ordered: list[OcrLine] = []
    for _, _, members in sorted(rows, key=lambda row: row[0]):
        ordered.extend(sorted(members, key=lambda ln: centre(ln)[0]))
    return ordered


def split_by_labels(kind: DocumentKind, lines: Sequence[OcrLine]) -> dict[str, tuple[str, float]]:
    """``{field: (raw value, confidence)}``: the text after each label up to the next label."""
    text = ""
    owners: list[float] = []  # the confidence of the box each character came from
    for line in reading_order(lines):
        if _IGNORED.search(line.text.strip()):
            continue
        chunk = line.text.strip() + _SEP
        text += chunk
        owners.extend([line.confidence] * len(chunk))
    labels = LABELS[kind]
    pattern = re.compile("|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True)))
    hits = list(pattern.finditer(text))
    out: dict[str, tuple[str, float]] = {}
    lead = text[:hits[0].start()] if hits else text
    if lead.strip():
        spans = [owners[j] for j in range(len(lead)) if text[j] not in f"{_SEP} "]
        out[LEAD] = (lead, min(spans) if spans else 0.0)
    for i, hit in enumerate(hits):
        end = hits[i + 1].start() if i + 1 < len(hits) else len(text)
        value = text[hit.end():end]
        spans = [owners[j] for j in range(hit.end(), end) if text[j] not in f"{_SEP} "]
        field = labels[hit.group(0)]
        if field not in out and value.strip():
            out[field] = (value, min(spans) if spans else 0.0)
    return out


_CJK = re.compile(r"[\u3400-\u9fff·]")
_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "i": "1",
                                   "Z": "2", "S": "5", "B": "8", "x": "X", "×": "X"})
_ID = re.compile(r"[1-9]\d{16}[\dX]")
_DATE = r"(\d{4})\s*[.\-/年]?\s*(\d{1,2})\s*[.\-/月]?\s*(\d{1,2})\s*日?"
_RANGE = re.compile(_DATE + r"\s*[-－—~至到]+\s*(?:(长期)|" + _DATE + ")")
_CLASS = re.compile(r"(?:A[1-3]|B[12]|C[1-6]|D|E|F|M|N|P)+")


def _cjk(value: str) -> str:
    return "".join(_CJK.findall(value))


def _iso(year: str, month: str, day: str) -> str | None:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def normalise_id_number(value: str) -> str | None:
    """The 18-character ID number in ``value`` (OCR look-alikes fixed), or None."""
    compact = re.sub(r"\s", "", value)
    for candidate in (compact.upper().replace("O", "0"), compact.translate(_LOOKALIKE_DIGITS)):
        found = _ID.search(candidate)
        if found:
            return found.group(0)
    return None


def _date(value: str) -> str | None:
    found = re.search(_DATE, value)
    return _iso(*found.groups()) if found else None


def _validity(value: str) -> tuple[str | None, str | None]:
    found = _RANGE.search(value.replace(" ", "").translate(str.maketrans({"O": "0", "o": "0"})))
    if not found:
        return None, None
    y1, m1, d1, no_end, y2, m2, d2 = found.groups()
    return _iso(y1, m1, d1), NO_END if no_end else (_iso(y2, m2, d2) if y2 else None)


def _vehicle_class(value: str) -> str | None:
    # After a class letter, an I or l is the digit 1 (C1 read as CI).
    fixed = re.sub(r"(?<=[ABC])[Il|]", "1", value.upper().replace(" ", ""))
    found = _CLASS.search(fixed)
    return found.group(0) if found else None


def _normalise(field: str, raw: str) -> dict[str, str | None]:
    """The normal form of one raw value (the validity range gives two fields)."""
    flat = raw.replace(_SEP, "")
    if field in {"name", "ethnicity", "issuer", "nationality"}:
        return {field: _cjk(flat) or None}
    if field == "sex":
        found = re.search("[男女]", flat)
        return {field: found.group(0) if found else None}
    if field in {"birth_date", "first_issued", "valid_from"}:
        return {field: _date(flat)}
    if field == "address":
        return {field: re.sub(r"\s", "", flat) or None}
    if field in {"id_number", "licence_number"}:
        return {field: normalise_id_number(flat)}
    if field == "vehicle_class":
        return {field: _vehicle_class(flat)}
    if field == "validity":
        start, end = _validity(flat)
        return {"valid_from": start, "valid_to": end}
    return {field: flat.strip() or None}


# Values distinctive enough to be found without their label (when the label itself was not detected):
# a box that is nothing but a vehicle class, an ID number, or a date range.
_FALLBACK: dict[str, re.Pattern[str]] = {
    "vehicle_class": re.compile(r"^(?:A[1-3]|B[12]|C[1-6]|D|E|F|M|N|P)+$"),
    "id_number": re.compile(r"^[1-9]\d{16}[\dXx]$"),
    "licence_number": re.compile(r"^[1-9]\d{16}[\dXx]$"),
}
_FALLBACK_FIELDS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.ID_CARD_FRONT: ("id_number",),
    DocumentKind.DRIVING_LICENCE: ("licence_number", "vehicle_class", "validity"),
    DocumentKind.ID_CARD_BACK: ("validity",),
}
ETHNIC_GROUPS = frozenset((
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
))


def _fallbacks(kind: DocumentKind, lines: Sequence[OcrLine], fields: dict[str, str],
               confidence: dict[str, float]) -> None:
    for field in _FALLBACK_FIELDS.get(kind, ()):
        if field == "validity":
            if "valid_from" in fields:
                continue
            for line in lines:
                start, end = _validity(line.text)
                if start and end:
                    fields.update(valid_from=start, valid_to=end)
                    confidence.update(valid_from=round(line.confidence, 4), valid_to=round(line.confidence, 4))
                    break
            continue
        if field in fields:
            continue
        for line in lines:
            text = line.text.strip().replace(" ", "")
            if _FALLBACK[field].match(text.upper() if field == "vehicle_class" else text):
                value = _normalise(field, text)[field]
                if value:
                    fields[field] = value
                    confidence[field] = round(line.confidence, 4)
                    break


def parse_fields(kind: DocumentKind, lines: Sequence[OcrLine]) -> ReadFields:
    """The fields of a ``kind`` card from its OCR lines (see the module docstring)."""
    if kind not in LABELS:
        return ReadFields(kind=kind)
    fields: dict[str, str] = {}
    confidence: dict[str, float] = {}
    found = split_by_labels(kind, lines)
    lead = found.pop(LEAD, None)
    if lead is not None and kind in _LEAD_FIELD and _LEAD_FIELD[kind] not in found:
        found[_LEAD_FIELD[kind]] = lead
    for field, (raw, conf) in found.items():
        for name, value in _normalise(field, raw).items():
            if value is not None and name not in fields:
                fields[name] = value
                confidence[name] = round(conf, 4)
    _fallbacks(kind, lines, fields, confidence)
    if "ethnicity" in fields and fields["ethnicity"] not in ETHNIC_GROUPS:
        confidence["ethnicity"] = 0.0  # not one of the 56: a misread, for a person to check
    number = fields.get("id_number") or fields.get("licence_number")
    checksum = id_number_valid(number) if number else None
    missing = [name for name in REQUIRED[kind] if name not in fields]
    return ReadFields(kind=kind, fields=fields, confidence=confidence, missing=missing, id_checksum_ok=checksum)
