"""What an application holds, as typed models: the loan terms, the applicant, consents, the risk outcome.

Money is ``Decimal`` yuan (stored as strings), rates are fractions (0.045), like the money core.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.documents.application import VehicleInfo, id_number_valid
from assistant.domain.limits import AmountYuan, AnnualRate, Int, LoanYuan, MonthlyYuan, PriceYuan, WealthYuan
from assistant.domain.schedule import Method, RateType
from assistant.fraud.models import FraudAssessment
from assistant.scoring.features import EmploymentType, HomeStatus, MaritalStatus

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
ConsentPurpose = Literal["pre_assessment", "credit_report", "personal_info", "esign"]
CONSENT_TEXT: dict[str, tuple[str, str]] = {
    "pre_assessment": ("使用对话中提供的信息做自动化预评估（不查询征信）",
                       "an automated pre-assessment on what was said (no credit-bureau query)"),
    "credit_report": ("授权查询本人在中国人民银行征信中心的个人信用报告",
                      "a query of my credit report at the PBOC Credit Reference Center"),
    "personal_info": ("为办理本次贷款处理本人的个人信息", "processing my personal data for this loan"),
    "esign": ("以电子签名方式签署借款合同", "signing the loan contract by electronic signature"),
}


class CollateralFacts(BaseModel):
    """A used or pledged car's facts for the valuation model: its new price, age and odometer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    original_price: PriceYuan = Field(description="新车指导价（元）")
    age_years: float = Field(ge=0, le=30, allow_inf_nan=False, description="车龄（年）")
    mileage_km: Int = Field(ge=0, le=1_000_000, description="表显里程（公里）")


class LoanTerms(BaseModel):
    """The offer chosen: the car, its price, the down payment, the loan and its price (APR, monthly)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: LoanYuan = Field(description="贷款金额（元）")
    annual_rate: AnnualRate = Field(description="年利率或年费率，小数（0.045）")
    term_months: Int = Field(ge=1, le=60, description="期数（月）")
    vehicle_price: PriceYuan | None = Field(default=None, description="车价（元）")
    down_payment: AmountYuan | None = Field(default=None, description="首付（元）")
    rate_type: RateType | None = None
    method: Method | None = None
    upfront_fees: AmountYuan | None = None
    product_id: str | None = Field(default=None, max_length=64)
    vehicle: VehicleInfo | None = None
    collateral: CollateralFacts | None = Field(default=None, description="二手车/车抵贷：估值所需的车辆信息")
    # Computed by the money core when the application is made (never taken from the caller).
    apr: Decimal | None = None
    monthly_payment: Decimal | None = None
    total_interest: Decimal | None = None


class ApplicantProfile(BaseModel):
    """What the applicant told us about their situation (no identifiers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monthly_income: MonthlyYuan | None = Field(default=None, description="税后月收入（元）")
    employment_type: EmploymentType | None = None
    employment_years: float | None = Field(default=None, ge=0, le=60, allow_inf_nan=False)
    home_status: HomeStatus | None = None
    marital_status: MaritalStatus | None = None
    has_delinquency: bool | None = Field(default=None, description="自述是否有逾期记录")
    monthly_debt_payments: MonthlyYuan | None = Field(default=None, description="每月其他还款（元）")
    monthly_expenses: MonthlyYuan | None = None
    assets: WealthYuan | None = None
    age: Int | None = Field(default=None, ge=18, le=75)


class PersonalData(BaseModel):
    """Who the applicant is. Encrypted at rest; shown masked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str | None = Field(default=None, min_length=1, max_length=40, description="姓名")
    id_number: str | None = Field(default=None, description="18位居民身份证号码")
    phone: str | None = Field(default=None, description="手机号码")
    address: str | None = Field(default=None, min_length=2, max_length=200)

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "").upper()
        if not id_number_valid(value):  # the message never echoes the number
            raise ValueError("不是有效的18位居民身份证号码 / not a valid 18-digit resident ID number")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = re.sub(r"[\s\-()]", "", value).removeprefix("+86")
        if not _MOBILE.match(digits):
            raise ValueError("不是有效的手机号码 / not a valid mainland mobile number")
        return digits

    @property
    def complete(self) -> bool:
        """True when a contract can name the borrower."""
        return all((self.name, self.id_number, self.phone, self.address))

    def merged(self, other: PersonalData | None) -> PersonalData:
        """These fields, with ``other``'s given ones on top."""
        if other is None:
            return self
        return PersonalData(**{**self.model_dump(exclude_none=True), **other.model_dump(exclude_none=True)})

    def masked(self) -> dict[str, str | None]:
        """What staff and partners see."""
        from assistant.documents.application import mask_id_number

        def mask_phone(p: str | None) -> str | None:
            return p[:3] + "****" + p[-4:] if p else None

        return {"name": (self.name[:1] + "*" * max(len(self.name) - 1, 1)) if self.name else None,
                "id_number": mask_id_number(self.id_number) if self.id_number else None,
                "phone": mask_phone(self.phone), "address": (self.address[:6] + "…") if self.address else None}


class ConsentIn(BaseModel):
    """A consent as a channel reports it (the partner's signed form, the chat's "同意")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: ConsentPurpose
    granted_at: dt.datetime | None = Field(default=None, description="When it was given (default: now)")
    evidence: str | None = Field(default=None, max_length=200, description="Form number, document id…")


class ConsentRecord(BaseModel):
    """A consent as the application keeps it: what, when, through which channel, the text agreed to."""

    model_config = ConfigDict(frozen=True)

    purpose: ConsentPurpose
    granted_at: dt.datetime
    channel: str
    text_zh: str
    text_en: str
    evidence: str | None = None


class RiskOutcome(BaseModel):
    """The model's assessment when the application was scored."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["approve", "review", "decline"]
    grade: str
    probability_of_default: float
    score: int
    reasons: list[str] = Field(default_factory=list)
    model_version: str | None = None
    scored_at: dt.datetime
    source: Literal["chat", "submit"] = "submit"


class FraudCheck(BaseModel):
    """The anti-fraud assessment taken on submission, and what it could not check (staff only).

    ``assessment`` is None when the application lacks what every check needs (income, age, employment,
    the car's price): ``not_checked`` says what was missing. Identifiers an application lacks (a chat
    application has no phone) are listed too: the checks ran, but nothing could match on them."""

    model_config = ConfigDict(frozen=True)

    assessment: FraudAssessment | None = None
    not_checked: list[str] = Field(default_factory=list)
    checked_at: dt.datetime

    @property
    def decision(self) -> str | None:
        """pass | review | decline, or None when not assessed."""
        return self.assessment.decision.value if self.assessment else None


class Decision(BaseModel):
    """What the officer decided: conditions of an approval, reasons of a decline, documents asked for."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["approve", "decline", "request_documents"]
    officer_id: str
    at: dt.datetime
    conditions: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)
    note: str | None = None


def consent_record(consent: ConsentIn, channel: str, now: dt.datetime) -> ConsentRecord:
    """The stored form of a consent (with the wording it stands for)."""
    zh, en = CONSENT_TEXT[consent.purpose]
    granted = consent.granted_at or now
    if granted.tzinfo is None:
        granted = granted.replace(tzinfo=dt.UTC)
    return ConsentRecord(purpose=consent.purpose, granted_at=granted, channel=channel, text_zh=zh, text_en=en,
                         evidence=consent.evidence)


def plain(value: Any) -> Any:
    """JSON-ready (decimals as strings, dates ISO)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value
