"""The card parser on OCR lines written by hand: reading order, labels glued to values, look-alikes."""

from __future__ import annotations

from assistant.intake.fields import OcrLine, parse_fields, reading_order
from assistant.intake.kinds import DocumentKind


def _line(text: str, x: float, y: float, width: float = 200, conf: float = 0.99, tilt: float = 0.0) -> OcrLine:
    # tilt: pixels the right edge sits lower than the left (a rotated photo)
    return OcrLine(text=text, confidence=conf, box=[(x, y), (x + width, y + tilt), (x + width, y + 30 + tilt),
                                                    (x, y + 30)])


FRONT = [
    _line("公民身份号码", 60, 440), _line("11010519491231002X", 245, 436, 400),
    _line("住址", 60, 255, 60), _line("北京市朝阳区建国路", 150, 251), _line("88号", 150, 291, 80),
    _line("姓名张三", 60, 60, 150), _line("性别男", 60, 125, 100), _line("民族汉", 250, 125, 100),
    _line("出生", 60, 190, 60), _line("1949年12月31日", 150, 186), _line("样本SPECIMEN", 610, 350),
]


def test_front_fields_from_shuffled_glued_boxes() -> None:
    read = parse_fields(DocumentKind.ID_CARD_FRONT, FRONT)
    assert read.fields == {"name": "张三", "sex": "男", "ethnicity": "汉", "birth_date": "1949-12-31",
                           "address": "北京市朝阳区建国路88号", "id_number": "11010519491231002X"}
    assert read.missing == [] and read.id_checksum_ok is True


def test_ocr_look_alikes_in_the_number_are_fixed_and_a_bad_check_character_is_flagged() -> None:
    lines = [_line("公民身份号码", 60, 440), _line("11O1O519491231002X", 245, 436, 400)]
    assert parse_fields(DocumentKind.ID_CARD_FRONT, lines).fields["id_number"] == "11010519491231002X"
    wrong = parse_fields(DocumentKind.ID_CARD_FRONT, [_line("公民身份号码11010519491231002", 60, 440, 500)])
    assert wrong.id_checksum_ok is None  # 17 digits: no number read at all
    forged = parse_fields(DocumentKind.ID_CARD_FRONT, [_line("公民身份号码110105194912310021", 60, 440, 500)])
    assert forged.fields["id_number"] == "110105194912310021" and forged.id_checksum_ok is False
    assert "name" in forged.missing


def test_a_tilted_photo_keeps_each_value_with_its_label() -> None:
    # 4°: values 150 px right of their label sit ~10 px higher than it.
    lines = [_line("姓名", 40, 140, 50, tilt=-3.5), _line("孙凤", 190, 130, 60, tilt=-4),
             _line("证号", 40, 90, 50, tilt=-3.5), _line("440305197709168313", 190, 80, 300, tilt=-20),
             _line("有效期限", 40, 390, 90, tilt=-6), _line("2025-02-19至长期", 190, 380, 300, tilt=-20),
             _line("准驾车型", 40, 340, 90, tilt=-6), _line("CI", 190, 330, 40, tilt=-3)]
    ordered = [line.text for line in reading_order(lines)]
    assert ordered.index("证号") < ordered.index("440305197709168313") < ordered.index("姓名")
    read = parse_fields(DocumentKind.DRIVING_LICENCE, lines)
    assert read.fields == {"licence_number": "440305197709168313", "name": "孙凤", "vehicle_class": "C1",
                           "valid_from": "2025-02-19", "valid_to": "长期"}


def test_back_validity_and_confidence() -> None:
    lines = [_line("签发机关", 150, 340, 100), _line("杭州市公安局西湖区分局", 280, 336, 300, conf=0.6),
             _line("有效期限", 150, 410, 100), _line("2015.03.01-2035.03.01", 280, 406, 300)]
    read = parse_fields(DocumentKind.ID_CARD_BACK, lines)
    assert read.fields == {"issuer": "杭州市公安局西湖区分局", "valid_from": "2015-03-01", "valid_to": "2035-03-01"}
    assert read.confidence["issuer"] == 0.6 and read.confidence["valid_to"] == 0.99
