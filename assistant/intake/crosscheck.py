"""Cross-check what the cards say against each other and against what the applicant stated (no I/O).

Each finding is a :class:`Mismatch` with a stable reason code and a bilingual sentence for the loan
officer. The sentences show masked values only (``110***********1234``, ``张*``): they are read on
screens and may land in logs.

Codes: ``DOC_ID_MISMATCH`` (ID number differs from the stated one, or between cards), ``DOC_NAME_MISMATCH``,
``DOC_BIRTH_MISMATCH`` (date of birth printed or stated vs the one in the ID number), ``DOC_SEX_MISMATCH``,
``DOC_ID_INVALID`` (check character wrong: a misread or a forged number), ``DOC_EXPIRED``,
``DOC_NOT_YET_VALID``, ``DOC_FIELD_MISSING`` (a field OCR did not find), ``DOC_LOW_CONFIDENCE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, Field

from assistant.documents.application import mask_id_number
from assistant.intake.fields import NO_END, ReadFields
from assistant.intake.kinds import KIND_ZH, DocumentKind
from assistant.privacy import mask_name

FIELD_ZH = {"name": "姓名", "sex": "性别", "ethnicity": "民族", "birth_date": "出生日期", "address": "住址",
            "id_number": "公民身份号码", "issuer": "签发机关", "valid_from": "有效期起", "valid_to": "有效期至",
            "licence_number": "驾驶证号", "vehicle_class": "准驾车型"}


class StatedApplicant(BaseModel):
    """What the applicant wrote on the application (any part may be unknown)."""

    name: str | None = Field(default=None, max_length=40)
    id_number: str | None = Field(default=None, max_length=18)
    birth_date: dt.date | None = None


class Mismatch(BaseModel):
    """One finding for the loan officer."""

    code: str
    kind: DocumentKind | None = None
    field: str | None = None
    zh: str
    en: str

    @property
    def message(self) -> str:
        """Chinese first, English after it."""
        return f"{self.zh} / {self.en}"


def _birth_in_id(id_number: str) -> str | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])).isoformat()
    except (ValueError, IndexError):
        return None


def _sex_in_id(id_number: str) -> str | None:
    return ("男" if int(id_number[16]) % 2 else "女") if len(id_number) == 18 and id_number[16].isdigit() else None


def _names_differ(a: str, b: str) -> bool:
    return a.replace("·", "").replace(" ", "") != b.replace("·", "").replace(" ", "")


def _quality(doc: ReadFields, min_confidence: float) -> list[Mismatch]:
    out: list[Mismatch] = []
    label = KIND_ZH[doc.kind]
    for field in doc.missing:
        out.append(Mismatch(code="DOC_FIELD_MISSING", kind=doc.kind, field=field,
                            zh=f"{label}未能识别出{FIELD_ZH.get(field, field)}，请人工核对或要求重新拍摄",
                            en=f"{doc.kind.value}: {field} could not be read; check by hand or ask for a new photo"))
    low = sorted(f for f, c in doc.confidence.items() if c < min_confidence and f in doc.fields)
    if low:
        zh_fields = "、".join(FIELD_ZH.get(f, f) for f in low)
        out.append(Mismatch(code="DOC_LOW_CONFIDENCE", kind=doc.kind, field=",".join(low),
                            zh=f"{label}的{zh_fields}识别置信度低于{min_confidence:.0%}，请人工核对",
                            en=f"{doc.kind.value}: low OCR confidence (< {min_confidence:.0%}) on {', '.join(low)};"
                               " check by hand"))
    if doc.id_checksum_ok is False:
        number = doc.fields.get("id_number") or doc.fields.get("licence_number") or ""
        out.append(Mismatch(code="DOC_ID_INVALID", kind=doc.kind, field="id_number",
                            zh=f"{label}上的身份号码 {mask_id_number(number)} 校验位不正确（识别错误或伪造）",
                            en=f"{doc.kind.value}: ID number {mask_id_number(number)} fails its check character "
                               "(misread or forged)"))
    return out


def _validity(doc: ReadFields, on: dt.date) -> list[Mismatch]:
    label = KIND_ZH[doc.kind]
    end, start = doc.fields.get("valid_to"), doc.fields.get("valid_from")
    out: list[Mismatch] = []
    if end and end != NO_END and dt.date.fromisoformat(end) < on:
        out.append(Mismatch(code="DOC_EXPIRED", kind=doc.kind, field="valid_to",
                            zh=f"{label}已于{end}过期（核对日期{on.isoformat()}）",
                            en=f"{doc.kind.value} expired on {end} (checked on {on.isoformat()})"))
    if start and dt.date.fromisoformat(start) > on:
        out.append(Mismatch(code="DOC_NOT_YET_VALID", kind=doc.kind, field="valid_from",
                            zh=f"{label}的有效期自{start}起，尚未生效",
                            en=f"{doc.kind.value} is valid only from {start}"))
    return out


def _id_consistency(doc: ReadFields) -> list[Mismatch]:
    """On the ID card front: the printed birth date and sex agree with the number's digits."""
    number = doc.fields.get("id_number")
    if not number:
        return []
    out: list[Mismatch] = []
    printed, encoded = doc.fields.get("birth_date"), _birth_in_id(number)
    if printed and encoded and printed != encoded:
        out.append(Mismatch(code="DOC_BIRTH_MISMATCH", kind=doc.kind, field="birth_date",
                            zh=f"身份证上的出生日期{printed}与身份号码中的{encoded}不一致",
                            en=f"the ID card's date of birth {printed} differs from the ID number's {encoded}"))
    sex, encoded_sex = doc.fields.get("sex"), _sex_in_id(number)
    if sex and encoded_sex and sex != encoded_sex:
        out.append(Mismatch(code="DOC_SEX_MISMATCH", kind=doc.kind, field="sex",
                            zh=f"身份证上的性别（{sex}）与身份号码（{encoded_sex}）不一致",
                            en="the ID card's sex differs from the one encoded in the ID number"))
    return out


def _against(doc: ReadFields, name: str | None, number: str | None, source_zh: str, source_en: str
             ) -> list[Mismatch]:
    """The card's name and ID number against another source's (the application, or the ID card)."""
    out: list[Mismatch] = []
    label = KIND_ZH[doc.kind]
    read_name = doc.fields.get("name")
    if name and read_name and _names_differ(name, read_name):
        out.append(Mismatch(code="DOC_NAME_MISMATCH", kind=doc.kind, field="name",
                            zh=f"{label}上的姓名（{mask_name(read_name)}）与{source_zh}（{mask_name(name)}）不一致",
                            en=f"the name on the {doc.kind.value} ({mask_name(read_name)}) differs from "
                               f"{source_en} ({mask_name(name)})"))
    read_number = doc.fields.get("id_number") or doc.fields.get("licence_number")
    if number and read_number and number.upper() != read_number.upper():
        out.append(Mismatch(code="DOC_ID_MISMATCH", kind=doc.kind, field="id_number",
                            zh=f"{label}上的身份号码（{mask_id_number(read_number)}）与{source_zh}"
                               f"（{mask_id_number(number)}）不一致",
                            en=f"the ID number on the {doc.kind.value} ({mask_id_number(read_number)}) differs from "
                               f"{source_en} ({mask_id_number(number.upper())})"))
    return out


def cross_check(read: Sequence[ReadFields], stated: StatedApplicant | None, on: dt.date, *,
                min_confidence: float = 0.8) -> list[Mismatch]:
    """Every finding over an application's read cards (see the module docstring for the codes)."""
    findings: list[Mismatch] = []
    front = next((doc for doc in read if doc.kind is DocumentKind.ID_CARD_FRONT), None)
    for doc in read:
        findings += _quality(doc, min_confidence)
        findings += _validity(doc, on)
        if doc.kind is DocumentKind.ID_CARD_FRONT:
            findings += _id_consistency(doc)
        if stated is not None:
            findings += _against(doc, stated.name, stated.id_number, "申请人填写的", "what the applicant stated")
        if front is not None and doc is not front and doc.kind is DocumentKind.DRIVING_LICENCE:
            findings += _against(doc, front.fields.get("name"), front.fields.get("id_number"), "身份证上的",
                                 "the ID card's")
    if stated is not None and stated.birth_date and stated.id_number:
        encoded = _birth_in_id(stated.id_number)
        if encoded and encoded != stated.birth_date.isoformat():
            findings.append(Mismatch(code="DOC_BIRTH_MISMATCH", field="birth_date",
                                     zh=f"申请人填写的出生日期{stated.birth_date.isoformat()}与身份号码中的{encoded}不一致",
                                     en=f"the stated date of birth {stated.birth_date.isoformat()} differs from the "
                                        f"ID number's {encoded}"))
    return findings
