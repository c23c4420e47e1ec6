"""Document kinds, output formats and languages, with the checks that name the offending field."""

from __future__ import annotations

from enum import StrEnum

from assistant.errors import InvalidInput


class DocumentKind(StrEnum):
    """Contract slot ``document_kind``."""

    LOAN_CONTRACT = "loan_contract"  # 借款合同 / 融资租赁合同
    RISK_DISCLOSURE = "risk_disclosure"  # 风险提示书
    REPAYMENT_SCHEDULE = "repayment_schedule"  # 还款计划表
    PRIVACY_CONSENT = "privacy_consent"  # 个人信息处理授权书


class DocumentFormat(StrEnum):
    """What ``GET`` on a document's url returns."""

    PDF = "pdf"
    HTML = "html"
    MD = "md"


CONTENT_TYPES: dict[DocumentFormat, str] = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.HTML: "text/html; charset=utf-8",
    DocumentFormat.MD: "text/markdown; charset=utf-8",
}

# Languages each kind is written in (the disclosure also exists in English).
LANGUAGES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.LOAN_CONTRACT: ("zh",),
    DocumentKind.RISK_DISCLOSURE: ("zh", "en"),
    DocumentKind.REPAYMENT_SCHEDULE: ("zh",),
    DocumentKind.PRIVACY_CONSENT: ("zh",),
}

TITLES_ZH: dict[DocumentKind, str] = {
    DocumentKind.LOAN_CONTRACT: "借款合同",
    DocumentKind.RISK_DISCLOSURE: "风险提示书",
    DocumentKind.REPAYMENT_SCHEDULE: "还款计划表",
    DocumentKind.PRIVACY_CONSENT: "个人信息处理授权书",
}


def parse_kind(value: object, field: str = "kind") -> DocumentKind:
    """A known document kind, or a 4xx naming ``field`` and listing the kinds."""
    try:
        return DocumentKind(str(value).strip())
    except ValueError:
        known = ", ".join(k.value for k in DocumentKind)
        raise InvalidInput(
            f"未知的文件类型：{value}（可选：{known}）", f"unknown document kind '{value}' (one of: {known})",
            field=field,
        ) from None


def parse_format(value: object, field: str = "format") -> DocumentFormat:
    """A supported output format, or a 4xx naming ``field``."""
    try:
        return DocumentFormat(str(value).strip().lower())
    except ValueError:
        known = ", ".join(f.value for f in DocumentFormat)
        raise InvalidInput(
            f"不支持的文件格式：{value}（可选：{known}）", f"unsupported format '{value}' (one of: {known})",
            field=field,
        ) from None


def check_language(kind: DocumentKind, lang: str, field: str = "lang") -> str:
    """The language if this kind is written in it; a 4xx naming ``field`` otherwise."""
    if lang not in LANGUAGES[kind]:
        have = ", ".join(LANGUAGES[kind])
        raise InvalidInput(
            f"{TITLES_ZH[kind]}暂无“{lang}”语言版本（可选：{have}）",
            f"{kind.value} is not available in '{lang}' (available: {have})",
            field=field,
        )
    return lang
