"""Upload checks: size, type by content, image and PDF bombs, corrupt files (no OCR here)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from assistant.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from assistant.intake.checks import IntakeLimits, check_upload, sniff
from assistant.intake.kinds import DocumentKind
from tests.intake.conftest import pdf_bytes, png_bomb

LIMITS = IntakeLimits()


def _image(fmt: str = "JPEG", size: tuple[int, int] = (400, 250)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 210, 220)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                                   ("WEBP", "image/webp")])
def test_images_pass_and_are_typed_by_their_bytes(fmt: str, content_type: str) -> None:
    checked = check_upload(_image(fmt), DocumentKind.ID_CARD_FRONT, LIMITS)
    assert (checked.content_type, checked.width, checked.height) == (content_type, 400, 250)
    assert sniff(_image(fmt)) == content_type


def test_a_renamed_executable_is_415_whatever_it_is_called() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 2048
    with pytest.raises(UnsupportedMediaType) as caught:
        check_upload(exe, DocumentKind.ID_CARD_FRONT, LIMITS)
    assert caught.value.message.startswith("身份证人像面只接受") and "judged by content" in caught.value.message


def test_a_pdf_is_refused_for_a_card_but_taken_for_income_proof() -> None:
    with pytest.raises(UnsupportedMediaType):
        check_upload(pdf_bytes(), DocumentKind.ID_CARD_BACK, LIMITS)
    assert check_upload(pdf_bytes(2), DocumentKind.INCOME_PROOF, LIMITS).pages == 2


def test_a_50_mb_photo_is_too_large() -> None:
    data = _image() + b"\0" * (50 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload(data, DocumentKind.ID_CARD_FRONT, LIMITS)
    assert "文件过大" in caught.value.zh and "too large" in caught.value.en


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb()
    assert len(bomb) < 1000
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload(bomb, DocumentKind.ID_CARD_FRONT, LIMITS)
    assert caught.value.code == "decompression_bomb" and "解压炸弹" in caught.value.zh
    # Under Pillow's own alarm (89 M pixels) but over the setting: refused by its dimensions, named.
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload(png_bomb(8000, 8000), DocumentKind.ID_CARD_FRONT, LIMITS)
    assert "8000×8000" in caught.value.message and "decompression bomb" in caught.value.en


@pytest.mark.parametrize("data", [_image()[:600], b"\x89PNG\r\n\x1a\n" + b"junk" * 50,
                                  b"\xff\xd8\xff" + b"\0" * 100])
def test_corrupt_images_are_422(data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_upload(data, DocumentKind.ID_CARD_FRONT, LIMITS)
    assert caught.value.code == "corrupt_file" and "文件已损坏" in caught.value.zh


def test_empty_and_tiny_images_are_422() -> None:
    with pytest.raises(InvalidInput, match="为空"):
        check_upload(b"", DocumentKind.ID_CARD_FRONT, LIMITS)
    with pytest.raises(InvalidInput) as caught:
        check_upload(_image(size=(20, 20)), DocumentKind.ID_CARD_FRONT, LIMITS)
    assert caught.value.code == "image_too_small"


@pytest.mark.parametrize(("options", "code"), [({"javascript": True}, "pdf_active_content"),
                                               ({"attachment": True}, "pdf_active_content")])
def test_pdfs_with_scripts_or_attachments_are_refused(options: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_upload(pdf_bytes(**options), DocumentKind.INCOME_PROOF, LIMITS)
    assert caught.value.code == code and "PDF含有脚本" in caught.value.zh


def test_pdf_bombs_are_413() -> None:
    with pytest.raises(PayloadTooLarge):
        check_upload(pdf_bytes(31), DocumentKind.INCOME_PROOF, LIMITS)
    # 8 MB of zeros deflate to a few KB: the decoded size is what counts.
    small = IntakeLimits(max_pdf_stream_bytes=1024 * 1024)
    bomb = pdf_bytes(stream_bytes=8 * 1024 * 1024)
    assert len(bomb) < 64 * 1024
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload(bomb, DocumentKind.INCOME_PROOF, small)
    assert caught.value.code == "pdf_too_large"
    assert check_upload(bomb, DocumentKind.INCOME_PROOF, LIMITS).pages == 1


def test_a_corrupt_pdf_is_422() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_upload(b"%PDF-1.7\n1 0 obj << /Type /Catalog", DocumentKind.INCOME_PROOF, LIMITS)
    assert caught.value.code == "corrupt_file"
