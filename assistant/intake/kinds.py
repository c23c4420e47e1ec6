"""The kinds of document an applicant hands in, and the file types accepted for each."""

from __future__ import annotations

from enum import StrEnum

from assistant.errors import InvalidInput


class DocumentKind(StrEnum):
    """What the uploaded file shows."""

    ID_CARD_FRONT = "id_card_front"  # 居民身份证人像面
    ID_CARD_BACK = "id_card_back"  # 居民身份证国徽面
    DRIVING_LICENCE = "driving_licence"  # 机动车驾驶证
    INCOME_PROOF = "income_proof"  # 收入证明 / 银行流水
    VEHICLE_REGISTRATION = "vehicle_registration"  # 机动车登记证书 / 行驶证


KIND_ZH: dict[DocumentKind, str] = {
    DocumentKind.ID_CARD_FRONT: "身份证人像面",
    DocumentKind.ID_CARD_BACK: "身份证国徽面",
    DocumentKind.DRIVING_LICENCE: "驾驶证",
    DocumentKind.INCOME_PROOF: "收入证明",
    DocumentKind.VEHICLE_REGISTRATION: "车辆登记证书",
}

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
PDF_TYPE = "application/pdf"
# Cards are read by OCR from a photo; statements and certificates may also come as PDF.
ACCEPTED_TYPES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.ID_CARD_FRONT: IMAGE_TYPES,
    DocumentKind.ID_CARD_BACK: IMAGE_TYPES,
    DocumentKind.DRIVING_LICENCE: IMAGE_TYPES,
    DocumentKind.INCOME_PROOF: (*IMAGE_TYPES, PDF_TYPE),
    DocumentKind.VEHICLE_REGISTRATION: (*IMAGE_TYPES, PDF_TYPE),
}
# The kinds whose fields OCR reads (the others are stored for the loan officer as they are).
READ_KINDS = frozenset({DocumentKind.ID_CARD_FRONT, DocumentKind.ID_CARD_BACK, DocumentKind.DRIVING_LICENCE})


def parse_kind(value: str) -> DocumentKind:
    """The kind named by ``value``; InvalidInput listing the accepted ones otherwise."""
    try:
        return DocumentKind(value.strip())
    except ValueError:
        names = ", ".join(kind.value for kind in DocumentKind)
        raise InvalidInput(f"文件类型 kind 无效，可选：{names}", f"kind must be one of {names}", field="kind") from None
