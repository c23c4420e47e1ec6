"""What the anti-fraud checks read (an application's facts, its recent neighbours, the known-bad lists)
and what they answer (signals with reason codes, a score and a decision).

Identifiers arrive already hashed by the caller (a keyed hash such as HMAC-SHA256 of the normalised ID
number / mobile number, hex): this package never sees a raw ID number or phone number, so nothing here
needs masking, and the known-bad lists hold the same hashes. Money is ``Decimal`` yuan.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from assistant.domain.limits import MAX_PERSON_AGE, AmountYuan, Int, LoanYuan, MonthlyYuan, PriceYuan, TermMonths
from assistant.domain.money import Rate

# A keyed hash in hex: at least 128 bits. An 18-character ID number or an 11-digit phone number is
# shorter, so a raw identifier put where a hash belongs is refused rather than silently compared.
_HASH = re.compile(r"^[0-9a-f]{32,128}$")
# Device fingerprints come from SDKs in different shapes; they are opaque tokens without whitespace.
_DEVICE = re.compile(r"^[\x21-\x7e]{8,128}$")


def _check_hash(value: str) -> str:
    if not _HASH.match(value):
        raise ValueError("须为小写十六进制哈希（至少32位），不能是原始证件号或手机号 / "
                         "must be a lowercase hex hash (≥ 32 characters), not a raw ID or phone number")
    return value


def _check_device(value: str) -> str:
    if not _DEVICE.match(value):
        raise ValueError("设备标识须为8–128个可见字符、不含空格 / "
                         "device id must be 8–128 visible characters, no spaces")
    return value


IdentifierHash = Annotated[str, AfterValidator(_check_hash)]
DeviceId = Annotated[str, AfterValidator(_check_device)]


class EmploymentType(StrEnum):
    """How the applicant earns (the contract values of ``employment_type``)."""

    FIXED = "fixed"  # 受雇（固定工作）
    SELF_EMPLOYED = "self_employed"  # 个体/自营
    FREELANCE = "freelance"  # 自由职业
    PART_TIME = "part_time"  # 兼职
    OTHER = "other"


class DocumentAnomaly(StrEnum):
    """What document intake (OCR and image checks) reported about the uploaded documents."""

    ID_NAME_MISMATCH = "id_name_mismatch"  # 身份证姓名与填写不一致
    ID_NUMBER_MISMATCH = "id_number_mismatch"  # 身份证号与填写不一致
    ID_EXPIRED = "id_expired"  # 身份证已过有效期
    LOW_OCR_CONFIDENCE = "low_ocr_confidence"  # 识别置信度低（intake's own judgement)
    IMAGE_EDITED = "image_edited"  # 图片元数据显示经编辑软件处理


class FraudInput(BaseModel):
    """One loan application's facts, as the anti-fraud checks need them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str = Field(min_length=1, max_length=64)
    id_hash: IdentifierHash = Field(description="Keyed hash of the applicant's ID number (hex).")
    phone_hash: IdentifierHash = Field(description="Keyed hash of the applicant's mobile number (hex).")
    device_id: DeviceId | None = Field(default=None, description="Device fingerprint of the submitting device.")
    age: Int = Field(ge=18, le=MAX_PERSON_AGE)
    employment_type: EmploymentType
    stated_monthly_income: MonthlyYuan = Field(description="What the applicant says they earn a month, yuan.")
    document_monthly_income: MonthlyYuan | None = Field(
        default=None, description="Monthly income read from an income proof or bank statement (OCR), if any."
    )
    vehicle_price: PriceYuan
    loan_amount: LoanYuan
    down_payment: AmountYuan
    term_months: TermMonths
    used_vehicle: bool = Field(default=False, description="A used car, or a car pledged as collateral (车抵贷).")
    declared_collateral_value: PriceYuan | None = Field(
        default=None, description="The collateral value declared by the dealer / applicant, yuan."
    )
    model_collateral_value: PriceYuan | None = Field(
        default=None, description="The valuation model's point estimate (assistant.valuation), yuan."
    )
    document_anomalies: frozenset[DocumentAnomaly] = frozenset()
    min_ocr_confidence: float | None = Field(
        default=None, ge=0, le=1, description="The lowest OCR confidence over the identity documents, 0–1."
    )
    created_at: AwareDatetime = Field(description="When the application was submitted (with its time zone).")


class PriorApplication(BaseModel):
    """An earlier application the store holds, with the fields the velocity checks compare."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str = Field(min_length=1, max_length=64)
    id_hash: IdentifierHash
    phone_hash: IdentifierHash
    device_id: DeviceId | None = None
    created_at: AwareDatetime


class KnownBadLists(BaseModel):
    """Hashed identifiers confirmed in earlier fraud (internal blacklist / industry sharing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id_hashes: frozenset[IdentifierHash] = frozenset()
    phone_hashes: frozenset[IdentifierHash] = frozenset()
    device_ids: frozenset[DeviceId] = frozenset()


class Severity(StrEnum):
    """How much one signal moves the score (from its fitted weight)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Decision(StrEnum):
    """What the checks recommend; a person decides every ``review``."""

    PASS = "pass"
    REVIEW = "review"
    DECLINE = "decline"


class Signal(BaseModel):
    """One red flag, with a stable code, its weight in the score and the reason an officer reads."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    weight: float = Field(description="Log-odds the signal adds to the fraud score.")
    zh: str
    en: str
    evidence: dict[str, str | int | float] = Field(default_factory=dict)

    @property
    def reason(self) -> str:
        """Chinese first, English after it."""
        return f"{self.zh} / {self.en}"


class FraudAssessment(BaseModel):
    """The checks' answer for one application."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    score: float = Field(ge=0, le=1, description="Estimated probability that the application is fraudulent.")
    decision: Decision
    signals: list[Signal]
    model_version: str
    ltv: Rate = Field(description="Loan ÷ price (used cars: ÷ the lower of price and declared value).")
