"""The application a document is issued for: loan terms, borrower, vehicle, lender, product.

``Application`` is what ``POST /v1/documents`` and the ``generate_documents`` tool accept. Only the loan
terms are required; ``borrower``, ``vehicle`` and ``lender`` are optional as a whole (a document without
them is a *preview* with blanks to fill at signing) but complete when given, so a half-filled borrower is
a 4xx naming the missing field (``application.borrower.id_number``).

Chat sessions store their application as a plain dict that may use the contract's slot names
(``loan_amount``, ``quoted_rate``, ``repayment_method``, ``vehicle_price``) and ``None`` for unknown
values; :meth:`Application.model_validate` accepts that shape too.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.domain.catalogue import EarlyRepayment, ProductKind
from assistant.domain.limits import AmountYuan, Int, LoanYuan, PriceYuan
from assistant.domain.money import Money, Rate
from assistant.domain.regulation import Condition
from assistant.domain.schedule import Method, RateType
from assistant.errors import InvalidInput

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# Slot names (contract vocabulary) → application fields, for applications kept by chat sessions.
_ALIASES = {"loan_amount": "principal", "quoted_rate": "annual_rate", "repayment_method": "method"}
_VEHICLE_SLOTS = {"vehicle_price": "price", "brand": "brand", "vehicle_condition": "condition",
                  "energy_type": "energy_type"}
# Other slots a session may keep next to its application; they are not part of a document.
_OTHER_SLOTS = frozenset({
    "budget", "down_payment_ratio", "monthly_income", "body_type", "city", "age", "vehicle_age_years",
    "mileage_km", "overdue_days", "document_kind", "intent",
})


def id_number_valid(value: str) -> bool:
    """GB 11643 resident ID: 18 characters, a real birth date, and the ISO 7064 check character."""
    if not _ID_SHAPE.match(value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(ch) * weight for ch, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def mask_id_number(value: str) -> str:
    """110105194912310025 -> 110***********0025 (what logs, tables and indexes may hold)."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


class Borrower(BaseModel):
    """The borrower (借款人) or lessee (承租人): all four fields are needed once a borrower is given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=1, max_length=40, description="姓名（与身份证一致）")
    id_number: str = Field(description="18位居民身份证号码")
    phone: str = Field(description="手机号码")
    address: str = Field(min_length=2, max_length=200, description="住址")

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        value = value.replace(" ", "").upper()
        if not id_number_valid(value):
            # The message must not echo the number back (it ends up in error bodies and logs).
            raise ValueError("不是有效的18位居民身份证号码 / not a valid 18-digit resident ID number")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        digits = re.sub(r"[\s\-()]", "", value)
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
            raise ValueError("不是有效的手机或固定电话号码 / not a valid mainland phone number")
        return digits


class VehicleInfo(BaseModel):
    """The car bought, leased or pledged."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    brand: str = Field(min_length=1, max_length=40)
    series: str = Field(min_length=1, max_length=60)
    price: PriceYuan = Field(description="车辆价格（元）；车抵贷/回租为评估价")
    vin: str | None = Field(default=None, description="17位车辆识别代号（VIN）")
    plate_number: str | None = Field(default=None, max_length=12, description="车牌号（已上牌车辆）")
    condition: Condition = Condition.NEW
    energy_type: str = Field(default="ice", description="ice | bev | phev | hev | nev")

    @field_validator("vin")
    @classmethod
    def _vin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "").upper()
        if not _VIN.match(value):
            raise ValueError("车辆识别代号须为17位字母数字（不含I、O、Q） / "
                             "a VIN is 17 letters and digits, no I, O or Q")
        return value


class LenderInfo(BaseModel):
    """The lender (贷款人) or lessor (出租人); the product catalogue's provider when not given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=2, max_length=80)
    address: str | None = Field(default=None, max_length=200)
    credit_code: str | None = Field(default=None, description="统一社会信用代码（18位）")
    hotline: str | None = Field(default=None, max_length=30)

    @field_validator("credit_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not _CREDIT_CODE.match(value):
            raise ValueError("统一社会信用代码须为18位 / a unified social credit code has 18 characters")
        return value


class FeeItem(BaseModel):
    """One up-front fee as charged (name and yuan)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=1, max_length=40, description="费用名称，如 GPS服务费")
    amount: Decimal = Field(ge=0, le=10_000_000)


class QuotedFigures(BaseModel):
    """The figures the customer was shown; documents are refused when the computation disagrees."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    monthly_payment: Money | None = None
    total_interest: Money | None = None
    total_paid: Money | None = None
    apr: Rate | None = None


class Application(BaseModel):
    """Loan terms plus who and what they are for. Money is yuan; rates are fractions (0.045)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    principal: LoanYuan = Field(description="贷款本金/融资金额（元）")
    annual_rate: Decimal = Field(ge=0, lt=Decimal("0.36"), description="年利率或年费率，小数（0.045）")
    term_months: Int = Field(ge=1, le=60, description="期数（月）")
    method: Method | None = Field(default=None, description="equal_installment | equal_principal")
    rate_type: RateType | None = Field(default=None, description="nominal（利率） | flat（费率）")
    upfront_fees: AmountYuan | None = Field(default=None, description="前期费用合计（元）")
    fees: list[FeeItem] | None = Field(default=None, description="前期费用明细；合计须等于 upfront_fees")
    product_id: str | None = Field(default=None, max_length=64, description="金融产品编号（产品目录）")
    product_kind: ProductKind | None = Field(
        default=None, description="loan（贷款） | lease_direct（直租） | lease_back（回租） | title_loan（车抵贷）"
    )
    early_repayment: EarlyRepayment | None = None
    gps_required: bool | None = None
    cooling_off_days: Int | None = Field(default=None, ge=0, le=30, description="放款后免违约金结清的天数")
    down_payment: AmountYuan | None = None
    purpose: str | None = Field(default=None, max_length=100, description="借款用途（车抵贷）")
    borrower: Borrower | None = None
    vehicle: VehicleInfo | None = None
    lender: LenderInfo | None = None
    signing_date: dt.date | None = None
    first_due_date: dt.date | None = None
    quoted: QuotedFigures | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_session_shape(cls, data: Any) -> Any:
        """Accept slot names and drop unknown (``None``) values, as chat sessions store them."""
        if not isinstance(data, dict):
            return data
        data = _drop_nones(data)
        for slot, name in _ALIASES.items():
            if slot in data:
                value = data.pop(slot)
                data.setdefault(name, value)
        vehicle_slots = {slot: data.pop(slot) for slot in list(data) if slot in _VEHICLE_SLOTS}
        if isinstance(data.get("vehicle"), dict) and data["vehicle"]:
            # Slots fill what the stored vehicle lacks; alone they do not describe a car.
            data["vehicle"] = {**{_VEHICLE_SLOTS[k]: v for k, v in vehicle_slots.items()}, **data["vehicle"]}
        for slot in list(data):
            if slot in _OTHER_SLOTS:
                data.pop(slot)
        for key in ("borrower", "vehicle", "lender", "quoted"):
            if key in data and not data[key]:
                data.pop(key)
        return data

    @property
    def is_preview(self) -> bool:
        """True when the borrower or the car is not yet known: blanks are left to fill at signing."""
        return self.borrower is None or self.vehicle is None


def _drop_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value]
    return value


def parse_application(data: Any, field: str = "application") -> Application:
    """Validate a dict as an :class:`Application`; errors name the field (``application.borrower.phone``)."""
    if isinstance(data, Application):
        return data
    if not isinstance(data, dict):
        raise InvalidInput("申请信息必须是对象", "application must be an object", field=field)
    try:
        return Application.model_validate(data)
    except ValidationError as exc:
        raise invalid_application(exc, field) from exc


def invalid_application(exc: ValidationError, prefix: str = "application") -> InvalidInput:
    """The first validation error as a bilingual 4xx naming the full field path (never echoing input)."""
    first = exc.errors(include_input=False)[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    name = f"{prefix}.{loc}" if loc else prefix
    if first.get("type") == "missing":
        return InvalidInput(f"缺少必填字段 {name}", f"missing required field {name}", field=name)
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return InvalidInput(f"字段 {name} 无效：{message}", f"invalid field {name}: {message}", field=name)
