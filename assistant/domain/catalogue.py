"""The vehicle and finance-product catalogues as typed, validated data (pure: no file access).

The data itself lives in ``knowledge_base/catalogue/*.yaml`` — the one source of truth that matching,
quotes, product pages and contracts all read. :mod:`assistant.catalogue` loads it; everything here
only describes and interprets it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.domain.money import ZERO, fen
from assistant.domain.regulation import Condition, Use
from assistant.domain.schedule import Method, RateType
from assistant.errors import NotFound


class BodyType(StrEnum):
    """Contract slot ``body_type``."""

    SUV = "suv"
    SEDAN = "sedan"
    MPV = "mpv"
    HATCHBACK = "hatchback"
    PICKUP = "pickup"


class EnergyType(StrEnum):
    """Contract slot ``energy_type``; ``nev`` is the umbrella 新能源 (any of bev/phev)."""

    ICE = "ice"
    BEV = "bev"
    PHEV = "phev"
    HEV = "hev"
    NEV = "nev"


# What a stated energy preference accepts: 新能源 (unspecified) means a plug-in of either kind.
ENERGY_ACCEPTS: dict[EnergyType, frozenset[EnergyType]] = {
    EnergyType.ICE: frozenset({EnergyType.ICE}),
    EnergyType.BEV: frozenset({EnergyType.BEV}),
    EnergyType.PHEV: frozenset({EnergyType.PHEV}),
    EnergyType.HEV: frozenset({EnergyType.HEV}),
    EnergyType.NEV: frozenset({EnergyType.BEV, EnergyType.PHEV, EnergyType.NEV}),
}

BODY_ZH = {"suv": "SUV", "sedan": "轿车", "mpv": "MPV", "hatchback": "两厢车", "pickup": "皮卡"}
ENERGY_ZH = {"ice": "燃油", "bev": "纯电", "phev": "插混/增程", "hev": "油电混动", "nev": "新能源"}


class Segment(StrEnum):
    """Chinese market size class (A00 微型 … D 大型/旗舰)."""

    A00 = "A00"
    A0 = "A0"
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Grade(StrEnum):
    """Risk grade from the credit score (A best … E worst)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class ProductKind(StrEnum):
    """Legal form of a finance product."""

    LOAN = "loan"  # 贷款: the borrower owns the car, the lender holds a mortgage (抵押)
    LEASE_DIRECT = "lease_direct"  # 融资租赁直租: the lessor buys and owns the car until the end
    LEASE_BACK = "lease_back"  # 融资租赁回租: the customer sells the car to the lessor and leases it back
    TITLE_LOAN = "title_loan"  # 车抵贷: a loan secured on a car the borrower already owns


class Purpose(StrEnum):
    """What the money is for."""

    PURCHASE = "purchase"  # buying a car
    COLLATERAL = "collateral"  # borrowing against a car already owned


class Vehicle(BaseModel):
    """One model (车系) as sold in China, with its manufacturer guide-price range."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    brand: str
    brand_en: str
    series: str
    series_en: str | None = Field(default=None, description="English or pinyin series name (Corolla, Lavida)")
    body_type: BodyType
    energy_type: EnergyType
    seats: int = Field(ge=2, le=9)
    msrp_min: Decimal = Field(gt=0, description="lowest guide price (厂商指导价), yuan")
    msrp_max: Decimal = Field(gt=0, description="highest guide price, yuan")
    segment: Segment

    @model_validator(mode="after")
    def _range(self) -> Vehicle:
        if self.msrp_min > self.msrp_max:
            raise ValueError(f"{self.id}: msrp_min above msrp_max")
        return self

    @property
    def name(self) -> str:
        """Brand and series, as a customer says it: 比亚迪 秦PLUS DM-i."""
        return f"{self.brand} {self.series}"

    @property
    def name_en(self) -> str:
        """Brand and series in English: Toyota Corolla."""
        return f"{self.brand_en} {self.series_en or self.series}"

    @property
    def is_nev(self) -> bool:
        """Plug-in (new-energy) car: bev or phev (hybrids without a plug count as fuel cars)."""
        return self.energy_type in ENERGY_ACCEPTS[EnergyType.NEV]

    def accepts_energy(self, wanted: EnergyType) -> bool:
        """Whether this car satisfies a stated energy preference (``nev`` accepts bev and phev)."""
        return self.energy_type in ENERGY_ACCEPTS[wanted]


class Fee(BaseModel):
    """An up-front fee: a fixed amount, a share of the loan, or a share that depends on the term."""

    model_config = ConfigDict(frozen=True)

    name_zh: str
    name_en: str
    fixed: Decimal = ZERO
    rate: Decimal = ZERO
    rate_by_term: dict[int, Decimal] = Field(default_factory=dict)

    def amount(self, principal: Decimal, term_months: int) -> Decimal:
        """The fee in yuan for this loan (rounded to the fen)."""
        rate = self.rate_by_term.get(term_months, self.rate)
        return fen(self.fixed + principal * rate)


class Eligibility(BaseModel):
    """Who and what the product accepts."""

    model_config = ConfigDict(frozen=True)

    purpose: Purpose = Purpose.PURCHASE
    conditions: frozenset[Condition] = frozenset({Condition.NEW})
    energy_types: frozenset[EnergyType] | None = None  # None: any
    uses: frozenset[Use] = frozenset({Use.SELF, Use.COMMERCIAL})
    min_age: int = 18
    max_age: int = 60
    max_age_at_maturity: int | None = 65
    min_monthly_income: Decimal = ZERO
    grades: frozenset[Grade] = frozenset(Grade)
    allow_delinquency: bool = False
    max_vehicle_age_years: Decimal | None = None
    max_vehicle_age_plus_term_years: Decimal | None = None
    max_mileage_km: int | None = None


class PenaltyStep(BaseModel):
    """Early-repayment penalty as a share of the principal repaid early, while fewer months have passed."""

    model_config = ConfigDict(frozen=True)

    within_months: int
    rate: Decimal


class EarlyRepayment(BaseModel):
    """When and at what cost a borrower may repay early."""

    model_config = ConfigDict(frozen=True)

    allowed_after_months: int = 0
    penalties: list[PenaltyStep] = Field(default_factory=list)
    notes_zh: str = ""
    notes_en: str = ""

    def penalty_rate(self, months_paid: int) -> Decimal:
        """Penalty share of the prepaid principal after ``months_paid`` instalments."""
        for step in sorted(self.penalties, key=lambda s: s.within_months):
            if months_paid < step.within_months:
                return step.rate
        return ZERO


class FinanceProduct(BaseModel):
    """A finance product as the market sells it: how it is quoted, what it costs, who may have it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    name_en: str
    provider_zh: str
    provider_en: str
    kind: ProductKind
    rate_type: RateType
    method: Method = Method.EQUAL_INSTALLMENT
    rates: dict[Grade, Decimal]
    fees: list[Fee] = Field(default_factory=list)
    min_down_payment_ratio: Decimal = Field(ge=0, le=1)
    ltv_cap: Decimal = Field(gt=0, le=1)
    term_options: list[int]
    min_loan: Decimal = Decimal("10000")
    max_loan: Decimal = Decimal("1000000")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    early_repayment: EarlyRepayment = Field(default_factory=EarlyRepayment)
    summary_zh: str
    summary_en: str
    audience_zh: str
    quoting_zh: str
    ownership_zh: str
    ownership_en: str
    notes_zh: list[str] = Field(default_factory=list)
    effective_date: dt.date
    source: str

    @model_validator(mode="after")
    def _sane(self) -> FinanceProduct:
        if not self.rates:
            raise ValueError(f"{self.id}: no rates")
        if any(r < 0 or r >= Decimal("0.36") for r in self.rates.values()):
            raise ValueError(f"{self.id}: rates must be fractions in [0, 0.36)")
        if not self.term_options or any(not 1 <= t <= 60 for t in self.term_options):
            raise ValueError(f"{self.id}: term options must be 1-60 months")
        if self.min_loan > self.max_loan:
            raise ValueError(f"{self.id}: min_loan above max_loan")
        return self

    @property
    def grades(self) -> list[Grade]:
        """Grades the product is priced for (others are not offered it)."""
        return sorted(self.rates)

    @property
    def is_lease(self) -> bool:
        """融资租赁 (direct or leaseback): the lessor owns the car until the last rent is paid."""
        return self.kind in (ProductKind.LEASE_DIRECT, ProductKind.LEASE_BACK)

    def display_name(self, lang: str = "zh") -> str:
        """The product's name in ``zh`` or ``en``."""
        return self.name if lang == "zh" else self.name_en

    def summary(self, lang: str = "zh") -> str:
        """One-paragraph description in ``zh`` or ``en``."""
        return self.summary_zh if lang == "zh" else self.summary_en

    def reference_rate(self, grade: Grade = Grade.C) -> Decimal:
        """The rate quoted when the customer's grade is unknown: grade C (the matcher's default), else the
        worst grade the product is offered to — never a flattering best-grade rate."""
        return self.rates.get(grade, self.rates[self.grades[-1]])

    def rate_for(self, grade: Grade) -> Decimal | None:
        """The annual rate (nominal or flat, per ``rate_type``) for a grade; None if not offered."""
        return self.rates.get(grade)

    def upfront_fees(self, principal: Decimal, term_months: int) -> Decimal:
        """All up-front fees for this loan, in yuan."""
        return sum((fee.amount(principal, term_months) for fee in self.fees), ZERO)

    def nearest_term(self, wanted: int) -> int:
        """The offered term closest to ``wanted`` (ties: the shorter one)."""
        return min(self.term_options, key=lambda t: (abs(t - wanted), t))


class Catalogue(BaseModel):
    """Both catalogues, with look-ups."""

    model_config = ConfigDict(frozen=True)

    vehicles: list[Vehicle]
    products: list[FinanceProduct]
    vehicles_as_of: dt.date | None = None

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        for label, ids in (("vehicle", [v.id for v in self.vehicles]), ("product", [p.id for p in self.products])):
            dupes = {i for i in ids if ids.count(i) > 1}
            if dupes:
                raise ValueError(f"duplicate {label} ids: {sorted(dupes)}")
        return self

    def product(self, product_id: str) -> FinanceProduct:
        """The product with this id."""
        for item in self.products:
            if item.id == product_id:
                return item
        raise NotFound(f"没有编号为 {product_id} 的金融产品", f"no finance product with id {product_id}")

    def find_product(self, text: str) -> FinanceProduct | None:
        """A product by id or by (part of) its Chinese or English name; None if nothing matches."""
        key = _norm(text)
        for item in self.products:
            if key in (_norm(item.id), _norm(item.name), _norm(item.name_en)):
                return item
        for item in self.products:
            if key and (key in _norm(item.name) or key in _norm(item.name_en)):
                return item
        return None

    def vehicle(self, text: str) -> Vehicle:
        """A vehicle by id, ``brand series`` or series (case and spaces ignored)."""
        found = self.find_vehicle(text)
        if found is None:
            raise NotFound(f"车型库中没有“{text}”", f"no vehicle '{text}' in the catalogue")
        return found

    def brand_names(self) -> list[str]:
        """Every brand in the catalogue, Chinese and English names, longest first."""
        names = {v.brand for v in self.vehicles} | {v.brand_en for v in self.vehicles}
        return sorted((n for n in names if n), key=len, reverse=True)

    def find_vehicle(self, text: str) -> Vehicle | None:
        """Like :meth:`vehicle` but None when nothing matches; exact matches win over partial ones."""
        key = _norm(text)
        if not key:
            return None
        for item in self.vehicles:
            names = [item.id, item.series, item.brand + item.series, item.brand_en + item.series]
            if item.series_en:
                names += [item.series_en, item.brand_en + item.series_en, item.brand + item.series_en]
            if key in {_norm(n) for n in names}:
                return item
        partial = [v for v in self.vehicles if key in _norm(v.brand + v.series) or _norm(v.series) in key]
        return min(partial, key=lambda v: len(v.series)) if partial else None

    def vehicle_in_text(self, text: str) -> Vehicle | None:
        """The catalogue car a free-text message names ("丰田凯美瑞", "It's a Toyota Corolla", "朗逸吧"), or None.

        A series is found by its Chinese or English name (Latin names as whole words, case, spaces and
        hyphens ignored), or by the distinctive first word of a longer name ("汉兰达" for "汉兰达 双擎").
        A bare brand names no car: several series share it. When several match, a full name beats a
        first word, a car of a brand the text also names beats one of another brand, then the longest
        name wins ("卡罗拉双擎" over "卡罗拉").
        """
        if not text:
            return None
        lowered = text.lower()
        best: tuple[int, int, int, int] | None = None
        found: Vehicle | None = None
        for position, item in enumerate(self.vehicles):
            brand_named = int(item.brand.lower() in lowered or _word_in(item.brand_en, lowered))
            for full, name in _series_names(item.series, item.series_en):
                if _word_in(name, lowered):
                    rank = (full, brand_named, len(_norm(name)), -position)
                    if best is None or rank > best:
                        best, found = rank, item
        return found


# First words too generic to name a car on their own ("Model 3" is not every "model").
_GENERIC_FIRST_WORDS = frozenset({"model", "galaxy", "series", "class"})


@lru_cache(maxsize=512)
def _series_names(series: str, series_en: str | None) -> tuple[tuple[int, str], ...]:
    """(is the full name, name) pairs by which a series may be mentioned."""
    names: list[tuple[int, str]] = []
    for name in (series, series_en):
        if not name:
            continue
        names.append((1, name))
        first = name.split()[0]
        if first != name and len(_norm(first)) >= 2 and first.lower() not in _GENERIC_FIRST_WORDS:
            names.append((0, first))
    return tuple(names)


@lru_cache(maxsize=1024)
def _name_pattern(name: str) -> re.Pattern[str]:
    """A pattern for ``name`` ignoring case, spaces and hyphens; Latin ends must be word ends."""
    key = _norm(name)
    body = r"[\s\-·]*".join(re.escape(ch) for ch in key)
    head = r"(?<![a-z0-9])" if re.match(r"[a-z0-9]", key) else ""
    tail = r"(?![a-z0-9])" if re.search(r"[a-z0-9]$", key) else ""
    return re.compile(head + body + tail)


def _word_in(name: str, lowered_text: str) -> bool:
    return bool(name) and _name_pattern(name).search(lowered_text) is not None


def _norm(text: str) -> str:
    return "".join(text.lower().split()).replace("-", "").replace("·", "")
