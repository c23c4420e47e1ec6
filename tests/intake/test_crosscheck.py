"""Cross-checks between cards, the application and the date: reason codes and bilingual, masked text."""

from __future__ import annotations

import datetime as dt

from assistant.intake.crosscheck import StatedApplicant, cross_check
from assistant.intake.fields import ReadFields
from assistant.intake.kinds import DocumentKind

ID = "11010519491231002X"
FRONT = ReadFields(kind=DocumentKind.ID_CARD_FRONT, fields={"name": "张三", "sex": "女", "birth_date": "1949-12-31",
                                                            "id_number": ID}, confidence={"name": 0.99},
                   id_checksum_ok=True)
BACK = ReadFields(kind=DocumentKind.ID_CARD_BACK, fields={"valid_from": "2015-03-01", "valid_to": "2025-03-01"})
LICENCE = ReadFields(kind=DocumentKind.DRIVING_LICENCE, fields={"name": "张山", "licence_number": ID,
                                                                "valid_from": "2020-01-01", "valid_to": "长期"})
ON = dt.date(2026, 1, 1)


def _codes(findings: list) -> list[str]:
    return [item.code for item in findings]


def test_consistent_documents_give_no_findings() -> None:
    back = BACK.model_copy(update={"fields": {"valid_from": "2015-03-01", "valid_to": "长期"}})
    licence = LICENCE.model_copy(update={"fields": {**LICENCE.fields, "name": "张三"}})
    assert cross_check([FRONT, back, licence], StatedApplicant(name="张三", id_number=ID,
                                                               birth_date=dt.date(1949, 12, 31)), ON) == []


def test_a_planted_id_and_name_mismatch_against_the_application() -> None:
    findings = cross_check([FRONT], StatedApplicant(name="李四", id_number="110105194912310025"), ON)
    assert _codes(findings) == ["DOC_NAME_MISMATCH", "DOC_ID_MISMATCH"]
    text = findings[1].message
    assert text.startswith("身份证人像面上的身份号码") and "differs from what the applicant stated" in text
    assert ID not in text and "110***********002X" in text and "张三" not in findings[0].message


def test_expired_validity_and_licence_name_differing_from_the_id_card() -> None:
    findings = cross_check([FRONT, BACK, LICENCE], None, ON)
    assert _codes(findings) == ["DOC_EXPIRED", "DOC_NAME_MISMATCH"]
    assert findings[0].kind is DocumentKind.ID_CARD_BACK and "2025-03-01" in findings[0].zh
    assert findings[1].kind is DocumentKind.DRIVING_LICENCE and "the ID card's" in findings[1].en
    assert cross_check([BACK], None, dt.date(2025, 3, 1)) == []  # valid through its last day


def test_birth_date_and_sex_must_match_the_number() -> None:
    front = FRONT.model_copy(update={"fields": {**FRONT.fields, "birth_date": "1949-12-30", "sex": "男"}})
    assert _codes(cross_check([front], None, ON)) == ["DOC_BIRTH_MISMATCH", "DOC_SEX_MISMATCH"]
    stated = StatedApplicant(id_number=ID, birth_date=dt.date(1950, 1, 1))
    assert _codes(cross_check([], stated, ON)) == ["DOC_BIRTH_MISMATCH"]


def test_low_confidence_missing_fields_and_a_bad_check_character_are_flagged() -> None:
    shaky = ReadFields(kind=DocumentKind.ID_CARD_FRONT, fields={"name": "张三", "id_number": "110105194912310021"},
                       confidence={"name": 0.55, "id_number": 0.97}, missing=["address"], id_checksum_ok=False)
    findings = cross_check([shaky], None, ON, min_confidence=0.8)
    assert _codes(findings) == ["DOC_FIELD_MISSING", "DOC_LOW_CONFIDENCE", "DOC_ID_INVALID"]
    assert findings[1].field == "name" and "置信度低于80%" in findings[1].zh
