"""What an uploaded file must pass before it is stored: size, type by its bytes, and no bombs.

- size: over ``intake_max_bytes`` → :class:`PayloadTooLarge` (413);
- type: the magic bytes, never the declared name or content type: JPEG, PNG, WebP or PDF, and one the
  kind takes (cards are photos) → :class:`UnsupportedMediaType` (415) otherwise;
- images: the dimensions are read from the header *before* any pixel is decoded; over
  ``intake_max_pixels`` (a decompression bomb: a few KB of PNG that inflate to gigabytes) → 413;
  then the image is decoded in full, so a truncated or corrupt file is an :class:`InvalidInput` (422);
- PDFs (pypdf): encrypted, over ``intake_max_pdf_pages`` pages or ``intake_max_pdf_objects`` objects,
  a stream that decodes past ``intake_max_pdf_stream_bytes`` → 413; JavaScript, embedded files, launch
  or rich-media actions, XFA forms → 422 (an officer's viewer must not run anything from an applicant).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image

from assistant.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from assistant.intake.kinds import ACCEPTED_TYPES, KIND_ZH, PDF_TYPE, DocumentKind

MIN_IMAGE_SIDE = 64  # smaller than this no card can be read (a thumbnail, an icon)
# PDF names that make a file run or carry something: refused wherever they appear.
ACTIVE_PDF_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/Launch", "/RichMedia",
                             "/XFA", "/SubmitForm", "/ImportData"})
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class IntakeLimits:
    """The thresholds of the checks (from the settings)."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_pdf_pages: int = 30
    max_pdf_objects: int = 20_000
    max_pdf_stream_bytes: int = 32 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: object) -> IntakeLimits:
        """The limits named ``intake_*`` in :class:`assistant.settings.Settings`."""
        return cls(max_bytes=settings.intake_max_bytes, max_pixels=settings.intake_max_pixels,  # type: ignore[attr-defined]
                   max_pdf_pages=settings.intake_max_pdf_pages,  # type: ignore[attr-defined]
                   max_pdf_objects=settings.intake_max_pdf_objects,  # type: ignore[attr-defined]
                   max_pdf_stream_bytes=settings.intake_max_pdf_stream_bytes)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed: its real type, size, digest and (images) dimensions or (PDFs) page count."""

    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None


def sniff(data: bytes) -> str | None:
    """The content type of ``data`` by its first bytes (JPEG, PNG, WebP, PDF), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    # The PDF header may follow up to 1 KB of junk (a tolerated quirk of real files).
    if b"%PDF-" in data[:1024]:
        return PDF_TYPE
    return None


def _corrupt(what: str, detail: str) -> InvalidInput:
    return InvalidInput(f"文件已损坏或不完整（{what}），请重新上传", f"the file is corrupt or incomplete ({detail})",
                        code="corrupt_file", field="file")


def check_image(data: bytes, content_type: str, limits: IntakeLimits) -> tuple[int, int]:
    """(width, height) of a sound image within the pixel limit; 413 / 422 otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            header = Image.open(io.BytesIO(data))  # reads the header only: no pixel is decoded yet
            width, height = header.size
            fmt = header.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(limits) from exc
    except Exception as exc:  # Pillow raises many types on garbage (OSError, SyntaxError, ValueError…)
        raise _corrupt("无法读取图片头", f"unreadable image header: {type(exc).__name__}") from exc
    if fmt != _PILLOW_FORMATS[content_type]:
        raise _corrupt("格式与内容不符", f"{fmt} content inside a {content_type} header")
    if width * height > limits.max_pixels:
        raise _bomb(limits, width, height)
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidInput(f"图片太小（{width}×{height}），无法识别，请上传清晰的照片",
                           f"the image is too small to read ({width}×{height}), please send a clear photo",
                           code="image_too_small", field="file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as full:
                full.load()  # bounded: the dimensions are within the limit
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(limits) from exc
    except Exception as exc:
        raise _corrupt("图片数据不完整", f"image data does not decode: {type(exc).__name__}") from exc
    return width, height


def _bomb(limits: IntakeLimits, width: int | None = None, height: int | None = None) -> PayloadTooLarge:
    size = f"{width}×{height}" if width else "?"
    return PayloadTooLarge(f"图片像素过多（{size}，上限{limits.max_pixels:,}像素），疑似解压炸弹，已拒绝",
                           f"the image has too many pixels ({size}, limit {limits.max_pixels:,}): "
                           "refused as a possible decompression bomb", code="decompression_bomb")


def _pdf_objects(reader: object) -> list[tuple[int, int]]:
    xref = getattr(reader, "xref", {}) or {}
    ids = [(num, gen) for gen, table in xref.items() for num in table]
    ids += [(num, 0) for num in (getattr(reader, "xref_objStm", {}) or {})]
    return ids


def _active_keys(obj: object) -> set[str]:
    from pypdf.generic import DictionaryObject

    if not isinstance(obj, DictionaryObject):
        return set()
    found = {str(key) for key in obj if str(key) in ACTIVE_PDF_KEYS}
    action = obj.get("/S")
    if action is not None and str(action) in ACTIVE_PDF_KEYS:
        found.add(str(action))
    return found


def check_pdf(data: bytes, limits: IntakeLimits) -> int:
    """The page count of a PDF that passes (see the module docstring); 413 / 422 otherwise."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError
    from pypdf.generic import IndirectObject, StreamObject

    too_big = PayloadTooLarge(
        f"PDF内容过大（超过{limits.max_pdf_pages}页、{limits.max_pdf_objects}个对象或单个数据流"
        f"{limits.max_pdf_stream_bytes // (1024 * 1024)} MB），已拒绝",
        f"the PDF is too large inside (over {limits.max_pdf_pages} pages, {limits.max_pdf_objects} objects or a "
        f"{limits.max_pdf_stream_bytes // (1024 * 1024)} MB stream): refused", code="pdf_too_large")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput("PDF已加密，请上传未加密的文件", "the PDF is encrypted, please send it unencrypted",
                               code="pdf_encrypted", field="file")
        ids = _pdf_objects(reader)
        if len(ids) > limits.max_pdf_objects:
            raise too_big
        active: set[str] = set()
        for num, gen in ids:
            obj = IndirectObject(num, gen, reader).get_object()
            active |= _active_keys(obj)
            if isinstance(obj, StreamObject):
                declared = obj.get("/Length")
                if isinstance(declared, int) and declared > limits.max_pdf_stream_bytes:
                    raise too_big
                if len(obj.get_data()) > limits.max_pdf_stream_bytes:
                    raise too_big
        active |= _active_keys(reader.trailer.get("/Root"))
        if active:
            names = ", ".join(sorted(active))
            raise InvalidInput(f"PDF含有脚本、附件或自动操作（{names}），已拒绝",
                               f"the PDF carries scripts, attachments or actions ({names}): refused",
                               code="pdf_active_content", field="file")
        pages = len(reader.pages)
    except LimitReachedError as exc:
        raise too_big from exc
    except (InvalidInput, PayloadTooLarge):
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise _corrupt("无法解析PDF", f"the PDF does not parse: {type(exc).__name__}") from exc
    if pages == 0:
        raise _corrupt("PDF没有页面", "the PDF has no page")
    if pages > limits.max_pdf_pages:
        raise too_big
    return pages


def check_upload(data: bytes, kind: DocumentKind, limits: IntakeLimits) -> CheckedFile:
    """Every check for one upload of ``kind``; the checked file's facts, or the first error."""
    if not data:
        raise InvalidInput("上传的文件为空", "the uploaded file is empty", code="empty_file", field="file")
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"文件过大（{len(data) / 1048576:.1f} MB，上限{limits.max_bytes / 1048576:.0f} MB）",
                              f"the file is too large ({len(data) / 1048576:.1f} MB, limit "
                              f"{limits.max_bytes / 1048576:.0f} MB)", code="file_too_large")
    content_type = sniff(data)
    accepted = ACCEPTED_TYPES[kind]
    if content_type is None or content_type not in accepted:
        shown = ", ".join(t.split("/")[1].upper() for t in accepted)
        what = "无法识别的文件内容" if content_type is None else content_type
        raise UnsupportedMediaType(f"{KIND_ZH[kind]}只接受 {shown} 文件（按文件内容判断，收到：{what}）",
                                   f"{kind.value} takes {shown} files only (judged by content; got "
                                   f"{content_type or 'unrecognised content'})", field="file")
    digest = hashlib.sha256(data).hexdigest()
    if content_type == PDF_TYPE:
        return CheckedFile(content_type, len(data), digest, pages=check_pdf(data, limits))
    width, height = check_image(data, content_type, limits)
    return CheckedFile(content_type, len(data), digest, width=width, height=height)
